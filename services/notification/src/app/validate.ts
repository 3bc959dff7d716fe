/** Small request-validation helpers shared by the use cases. */
import type { Violations } from "@whiteslip/core";

/** Customer ids: 1–128 chars, no spaces. */
export function checkCustomerId(v: Violations, id: string, field = "customer_id"): Violations {
  return v.check(
    !/^[A-Za-z0-9_.:-]{1,128}$/.test(id),
    field,
    "must be 1–128 characters of letters, digits, _ . : -",
  );
}

/** Page size: 0 → default, else 1..max. */
export function pageSize(v: Violations, size: number, def: number, max: number, field = "page_size"): number {
  v.check(!Number.isInteger(size) || size < 0 || size > max, field, `must be between 0 and ${max}`);
  return size === 0 ? def : size;
}

/** Opaque page token → offset. */
export function decodePageToken(v: Violations, token: string, field = "page_token"): number {
  if (!token) return 0;
  const m = /^o:(\d{1,9})$/.exec(Buffer.from(token, "base64url").toString("utf8"));
  v.check(!m, field, "is not a token returned by this service");
  return m ? Number(m[1]) : 0;
}

/** Offset → opaque page token (empty when there is no next page). */
export function encodePageToken(offset: number, hasMore: boolean): string {
  return hasMore ? Buffer.from(`o:${offset}`, "utf8").toString("base64url") : "";
}
