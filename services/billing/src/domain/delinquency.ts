/** Days past due and delinquency buckets (M0 current … M6, then charge-off). */

/** A delinquency bucket: M0 current, M1 1–30 DPD, … M6 151–180, CHARGED_OFF at the charge-off day. */
export type Bucket = "M0" | "M1" | "M2" | "M3" | "M4" | "M5" | "M6" | "CHARGED_OFF";

/** Buckets of the active book, in order. */
export const ACTIVE_BUCKETS: readonly Bucket[] = ["M0", "M1", "M2", "M3", "M4", "M5", "M6"];

/**
 * The bucket for `dpd` days past due: M0 at 0, Mk for 30(k−1)+1 … 30k, M6 from
 * 151 until the product's charge-off day (181 by default), CHARGED_OFF from it.
 */
export function bucketFor(dpd: number, chargeOffDpd: number): Bucket {
  if (dpd <= 0) return "M0";
  if (dpd >= chargeOffDpd) return "CHARGED_OFF";
  const k = Math.min(6, Math.ceil(dpd / 30));
  return `M${k}` as Bucket;
}
