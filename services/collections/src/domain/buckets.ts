import type { Bucket } from "./types";

/** Buckets in order of severity. */
export const BUCKET_ORDER: readonly Bucket[] = ["M0", "M1", "M2", "M3", "M4", "M5", "M6", "CHARGED_OFF"];

/** Rank of a bucket (M0 = 0 … CHARGED_OFF = 7). */
export function bucketRank(b: Bucket): number {
  return BUCKET_ORDER.indexOf(b);
}

/** The next worse bucket, or null for CHARGED_OFF. */
export function nextBucket(b: Bucket): Bucket | null {
  return BUCKET_ORDER[bucketRank(b) + 1] ?? null;
}

/**
 * Bucket for a DPD, as billing defines it (domain.md "Buckets"): M0 current; M1 1–30; M2 31–60; M3 61–90;
 * M4 91–120; M5 121–150; M6 151–180; charge-off beyond (181 by default).
 */
export function bucketForDpd(dpd: number, chargeOffDpd = 181): Bucket {
  if (dpd <= 0) return "M0";
  if (dpd >= chargeOffDpd) return "CHARGED_OFF";
  const band = Math.ceil(dpd / 30);
  return (BUCKET_ORDER[Math.min(band, 6)] ?? "M6") as Bucket;
}
