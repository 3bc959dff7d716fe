import { createHash, randomUUID } from "node:crypto";

/**
 * A deterministic id for a fact: the same parts always give the same id, so a
 * consumer can deduplicate (e.g. DueSoon for statement S at offset 5 days).
 * Formatted as a UUID (v8, name-based, SHA-256) so it is valid where UUIDs are expected.
 */
export function deterministicId(...parts: (string | number | bigint)[]): string {
  const h = createHash("sha256").update(parts.map(String).join("\u001f")).digest();
  h[6] = (h[6]! & 0x0f) | 0x80;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/** A random id with a readable prefix, e.g. `acc_3f2c…`. */
export function newId(prefix: string): string {
  return `${prefix}_${randomUUID().replaceAll("-", "")}`;
}
