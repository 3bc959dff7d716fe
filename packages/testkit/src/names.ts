import { randomBytes } from "node:crypto";

function sanitize(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]+/g, "_").replace(/^_+|_+$/g, "") || "x";
}

/**
 * `<prefix>-<time36><random hex>`: unique across files, workers and concurrent runs.
 * Only [A-Za-z0-9_-], so it is valid as a Kafka topic, a consumer group and a MongoDB/FerretDB name.
 */
export function uniqueName(prefix: string): string {
  const suffix = `${Date.now().toString(36)}${randomBytes(4).toString("hex")}`;
  return `${sanitize(prefix).slice(0, 200)}-${suffix}`;
}

/** A database name for one test file: `t_<tag>_<random>`, at most 63 chars (FerretDB's limit). */
export function freshDatabaseName(fileTag: string): string {
  const suffix = `${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;
  const tag = sanitize(fileTag).slice(0, 63 - 3 - 1 - suffix.length);
  return `t_${tag}_${suffix}`;
}
