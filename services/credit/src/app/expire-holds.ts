import { availableFen } from "../domain/credit-line";
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

/**
 * Sweeps the reservations of AuthorizePurchase's group commits once they are
 * older than `graceMs` (longer than any batch and any client's retry with the same
 * key): for each reservation whose hold is still on its line,
 * - no authorization record (the process died between the reservation and the
 *   record; nobody was answered): it is recorded as the approval it was, closed at
 *   once (EXPIRED), and its hold removed — the credit comes back;
 * - a record that is not OPEN (a retry re-reserved a captured, released or expired
 *   authorization and did not get to undo it): the hold is removed;
 * - an OPEN record: nothing (the hold expiry owns it).
 * Then the intents are forgotten. Returns how many holds were removed.
 */
export async function sweepReservations(d: Pick<CreditDeps, "clock" | "lines" | "authorizations" | "intents">, graceMs: number, batchSize = 200): Promise<number> {
  const now = d.clock.now();
  const before = new Date(now.getTime() - graceMs);
  let removed = 0;
  for (;;) {
    const intents = await d.intents.listOlderThan(before, batchSize);
    for (const intent of intents) {
      const ids = intent.items.map((i) => i.id);
      const records = new Map((await d.authorizations.getMany(ids)).map((a) => [a.id, a]));
      const lines = new Map((await d.lines.getMany([...new Set(intent.items.map((i) => i.creditLineId))])).map((l) => [l.id, l]));
      for (const item of intent.items) {
        const line = lines.get(item.creditLineId);
        const hold = line?.holds[item.id];
        if (!line || !hold) continue;
        let record = records.get(item.id);
        if (!record) {
          const swept = { ...item, decision: "APPROVED" as const, declineReason: "", availableFen: availableFen(line), expiresAt: now, status: "EXPIRED" as const };
          record = (await d.authorizations.insertIfAbsent(swept)).stored;
        }
        if (record.status !== "OPEN" && (await d.lines.removeHold(item.creditLineId, item.id, hold.amountFen)) !== null) removed++;
      }
    }
    if (intents.length > 0) await d.intents.remove(intents.map((i) => i.id));
    if (intents.length < batchSize) return removed;
  }
}
