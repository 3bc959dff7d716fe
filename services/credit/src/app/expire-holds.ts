import type { CreditDeps } from "./deps";

/**
 * Expires holds not captured within the hold lifetime (*default* 7 days):
 * each expired OPEN authorization's hold is removed from its line atomically and
 * the authorization marked EXPIRED (CLOSED when the hold was already gone, e.g.
 * captured). Works in batches; returns how many holds were expired.
 */
export async function expireHolds(d: Pick<CreditDeps, "clock" | "lines" | "authorizations">, batchSize = 200): Promise<number> {
  const now = d.clock.now();
  let expired = 0;
  for (;;) {
    const batch = await d.authorizations.listExpired(now, batchSize);
    for (const a of batch) {
      const after = await d.lines.removeHold(a.creditLineId, a.id, a.amountFen);
      await d.authorizations.closeOpen(a.id, after === null ? "CLOSED" : "EXPIRED", now);
      if (after !== null) expired++;
    }
    if (batch.length < batchSize) return expired;
  }
}
