/**
 * Promises to pay: payments are matched to pending promises first in, first out (Oracle Banking Collections'
 * promise allocation); a promise is kept when its matched payments reach its amount on or before its date,
 * and broken once its date has passed without that.
 */
import { type Fen, type LocalDate, minFen } from "@whiteslip/core";
import type { PromiseToPay } from "./types";

/** Result of matching one payment. */
export interface PaymentMatch {
  /** Promises after matching, in their original order. */
  promises: PromiseToPay[];
  /** Promises that became kept by this payment. */
  kept: PromiseToPay[];
  /** Part of the payment not matched to any promise. */
  unmatchedFen: Fen;
}

/** Breaks pending promises whose date is before `asOf` (a promise dated D is broken from D+1). */
export function breakExpired(
  promises: readonly PromiseToPay[],
  asOf: LocalDate,
): { promises: PromiseToPay[]; broken: PromiseToPay[] } {
  const broken: PromiseToPay[] = [];
  const next = promises.map((p) => {
    if (p.status === "PENDING" && p.promisedDate < asOf) {
      const b: PromiseToPay = { ...p, status: "BROKEN" };
      broken.push(b);
      return b;
    }
    return p;
  });
  return { promises: next, broken };
}

/**
 * Matches a payment made on `paymentDate` to pending promises, oldest first (by creation order); promises whose
 * date is before the payment date must have been broken first (see `breakExpired`) and are skipped.
 */
export function matchPayment(
  promises: readonly PromiseToPay[],
  amountFen: Fen,
  paymentDate: LocalDate,
): PaymentMatch {
  let remaining = amountFen;
  const kept: PromiseToPay[] = [];
  const order = promises
    .map((p, i) => ({ p, i }))
    .sort((a, b) => a.p.createdAt.getTime() - b.p.createdAt.getTime() || a.i - b.i);
  const next = [...promises];
  for (const { p, i } of order) {
    if (remaining <= 0n) break;
    if (p.status !== "PENDING" || p.promisedDate < paymentDate) continue;
    const take = minFen(remaining, p.amountFen - p.paidFen);
    remaining -= take;
    const paidFen = p.paidFen + take;
    const updated: PromiseToPay = { ...p, paidFen, status: paidFen >= p.amountFen ? "KEPT" : "PENDING" };
    if (updated.status === "KEPT") kept.push(updated);
    next[i] = updated;
  }
  return { promises: next, kept, unmatchedFen: remaining };
}
