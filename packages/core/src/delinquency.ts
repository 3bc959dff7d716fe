/**
 * Delinquency buckets: the one home of the bands (domain.md "Buckets"). Billing assigns them; collections,
 * notification, credit-reporting and the console read the bucket billing published, and where they need the band
 * of a DPD (a simulator, a strategy rule) they ask this module, never restate it.
 */

/** A delinquency bucket: M0 current, M1 1–30 DPD, … M6 151–180, CHARGED_OFF from the charge-off day. */
export type Bucket = "M0" | "M1" | "M2" | "M3" | "M4" | "M5" | "M6" | "CHARGED_OFF";

/** Every bucket in order of severity (M0 … CHARGED_OFF). */
export const BUCKETS: readonly Bucket[] = ["M0", "M1", "M2", "M3", "M4", "M5", "M6", "CHARGED_OFF"];

/** Buckets of the active book, in order (everything but CHARGED_OFF). */
export const ACTIVE_BUCKETS: readonly Bucket[] = BUCKETS.slice(0, 7);

/** The default charge-off day (181 DPD); a product may set another. */
export const DEFAULT_CHARGE_OFF_DPD = 181;

/**
 * The bucket for `dpd` days past due: M0 at 0, Mk for 30(k−1)+1 … 30k, M6 from 151 until the product's
 * charge-off day (181 by default), CHARGED_OFF from it.
 */
export function bucketFor(dpd: number, chargeOffDpd: number = DEFAULT_CHARGE_OFF_DPD): Bucket {
  if (dpd <= 0) return "M0";
  if (dpd >= chargeOffDpd) return "CHARGED_OFF";
  return `M${Math.min(6, Math.ceil(dpd / 30))}` as Bucket;
}

/** Rank of a bucket (M0 = 0 … CHARGED_OFF = 7). */
export function bucketRank(b: Bucket): number {
  return BUCKETS.indexOf(b);
}

/** The next worse bucket, or null for CHARGED_OFF. */
export function nextBucket(b: Bucket): Bucket | null {
  return BUCKETS[bucketRank(b) + 1] ?? null;
}
