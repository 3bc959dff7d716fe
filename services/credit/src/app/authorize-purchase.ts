import { deterministicId, failedPrecondition, notFound } from "@whiteslip/core";
import { CONFLICT, retryOnConflict } from "@whiteslip/store";
import { type AuthorizationRequest, availableFen, declineReason, featuresNeeded, validateAuthorizationRequest } from "../domain/credit-line";
import type { CreditDeps } from "./deps";
import type { AuthorizationRecord } from "./ports";

const DAY_MS = 86_400_000;

/** The authorization id for (line, idempotency key): the same key always names the same authorization. */
export function authorizationIdFor(creditLineId: string, idempotencyKey: string): string {
  return `au_${deterministicId("authorization", creditLineId, idempotencyKey).replaceAll("-", "")}`;
}

/**
 * Authorizes a checkout purchase with the fewest database round trips.
 *
 * Approve path (two writes, no read): one conditional atomic update of the line
 * reserves the amount and records the hold keyed by the authorization id (ACTIVE,
 * not restricted, available ≥ amount, no hold with this id yet), so concurrent
 * requests — in one process or many — can never approve more than the available
 * credit; then the authorization record (audit of the decision, long-lived
 * idempotency) is inserted under the same id.
 *
 * Idempotency (same key → same answer, declines included): while the hold is open
 * a retry's update matches nothing (the hold id is in the filter) and the stored
 * record is answered. When the key was decided before and its hold is gone
 * (declined, captured, released, expired), the reservation of the retry succeeds
 * but the insert finds the first record: that reservation is undone and the first
 * answer returned. Decline path: the update matches nothing, the line is read for
 * the reason, the decline is recorded. When the read finds no reason to decline
 * (the line changed between the two), the store's retryOnConflict tries again
 * after a jittered backoff: ABORTED CONCURRENT_MODIFICATION when it keeps changing.
 */
export async function authorizePurchase(d: Pick<CreditDeps, "clock" | "lines" | "authorizations" | "policy">, req: AuthorizationRequest): Promise<AuthorizationRecord> {
  validateAuthorizationRequest(req, d.policy);
  const id = authorizationIdFor(req.creditLineId, req.idempotencyKey);
  const now = d.clock.now();
  const expiresAt = new Date(now.getTime() + d.policy.holdTtlDays * DAY_MS);
  const base = {
    id,
    creditLineId: req.creditLineId,
    idempotencyKey: req.idempotencyKey,
    amountFen: req.amountFen,
    merchantScenario: req.merchantScenario,
    merchantId: req.merchantId,
    orderId: req.orderId,
    installmentMonths: req.installmentMonths,
    createdAt: now,
  };
  return retryOnConflict<AuthorizationRecord>(async () => {
    if (d.policy.allowedScenarios.includes(req.merchantScenario)) {
      const available = await d.lines.tryReserve(req.creditLineId, id, { amountFen: req.amountFen }, featuresNeeded(req.installmentMonths));
      if (available !== null) {
        const approved: AuthorizationRecord = { ...base, decision: "APPROVED", declineReason: "", availableFen: available < 0n ? 0n : available, expiresAt, status: "OPEN" };
        const { stored, inserted } = await d.authorizations.insertIfAbsent(approved);
        if (inserted) return approved;
        // this key was answered before and its hold has since closed: undo this reservation, answer as the first time
        await d.lines.removeHold(req.creditLineId, id, req.amountFen);
        return sameAnswer(stored, req);
      }
    }
    const line = await d.lines.get(req.creditLineId);
    if (!line) throw notFound("credit line", req.creditLineId);
    const held = line.holds[id];
    if (held) {
      // reserved under this key before (the first answer, or an attempt whose record was not written yet:
      // then the hold's lifetime starts now)
      if (held.amountFen !== req.amountFen) throw keyReused(id);
      const { stored } = await d.authorizations.insertIfAbsent({ ...base, decision: "APPROVED", declineReason: "", availableFen: availableFen(line), expiresAt, status: "OPEN" });
      return sameAnswer(stored, req);
    }
    const reason = declineReason(line, req, d.policy);
    if (reason) {
      const { stored } = await d.authorizations.insertIfAbsent({ ...base, decision: "DECLINED", declineReason: reason, availableFen: availableFen(line), expiresAt: null, status: "DECLINED" });
      return sameAnswer(stored, req);
    }
    // the line changed between the reservation and the read (e.g. a payment freed credit): try again
    return CONFLICT;
  }, { what: `credit line ${req.creditLineId}` });
}

function keyReused(authorizationId: string) {
  return failedPrecondition("IDEMPOTENCY_KEY_REUSED", "idempotency_key was used for a different purchase", { authorization_id: authorizationId });
}

function sameAnswer(previous: AuthorizationRecord, req: AuthorizationRequest): AuthorizationRecord {
  if (previous.amountFen !== req.amountFen || previous.orderId !== req.orderId) throw keyReused(previous.id);
  return previous;
}
