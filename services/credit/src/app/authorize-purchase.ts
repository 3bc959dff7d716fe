import { deterministicId, failedPrecondition, notFound } from "@whiteslip/core";
import { type AuthorizationRequest, availableFen, declineReason, featuresNeeded, validateAuthorizationRequest } from "../domain/credit-line";
import type { CreditDeps } from "./deps";
import type { AuthorizationRecord } from "./ports";

const DAY_MS = 86_400_000;

/** The authorization id for (line, idempotency key): the same key always names the same authorization. */
export function authorizationIdFor(creditLineId: string, idempotencyKey: string): string {
  return `au_${deterministicId("authorization", creditLineId, idempotencyKey).replaceAll("-", "")}`;
}

/**
 * Authorizes a checkout purchase. The hold is reserved by one conditional atomic
 * update of the line (ACTIVE, not restricted, available ≥ amount, no hold with
 * this id yet), so concurrent requests can never approve more than the available
 * credit. The same idempotency key returns the first answer; a decline is
 * recorded with its reason.
 */
export async function authorizePurchase(d: Pick<CreditDeps, "clock" | "lines" | "authorizations" | "policy">, req: AuthorizationRequest): Promise<AuthorizationRecord> {
  validateAuthorizationRequest(req, d.policy);
  const id = authorizationIdFor(req.creditLineId, req.idempotencyKey);
  const previous = await d.authorizations.get(id);
  if (previous) return sameAnswer(previous, req);
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
  for (let attempt = 0; attempt < 5; attempt++) {
    if (d.policy.allowedScenarios.includes(req.merchantScenario)) {
      const hold = { amountFen: req.amountFen, expiresAt, orderId: req.orderId, installmentMonths: req.installmentMonths };
      const available = await d.lines.tryReserve(req.creditLineId, id, hold, featuresNeeded(req.installmentMonths));
      if (available !== null) {
        return d.authorizations.insertIfAbsent({ ...base, decision: "APPROVED", declineReason: "", availableFen: available < 0n ? 0n : available, expiresAt, status: "OPEN" });
      }
    }
    const line = await d.lines.get(req.creditLineId);
    if (!line) throw notFound("credit line", req.creditLineId);
    const held = line.holds[id];
    if (held) {
      // reserved by an earlier attempt with this key whose record was not written
      return d.authorizations.insertIfAbsent({ ...base, decision: "APPROVED", declineReason: "", availableFen: availableFen(line), expiresAt: held.expiresAt, status: "OPEN" });
    }
    const reason = declineReason(line, req, d.policy);
    if (reason) {
      return d.authorizations.insertIfAbsent({ ...base, decision: "DECLINED", declineReason: reason, availableFen: availableFen(line), expiresAt: null, status: "DECLINED" });
    }
    // the line changed between the reservation and the read (e.g. a payment freed credit): try again
  }
  throw failedPrecondition("AUTHORIZATION_CONTENDED", `credit line ${req.creditLineId} is changing too fast; retry`);
}

function sameAnswer(previous: AuthorizationRecord, req: AuthorizationRequest): AuthorizationRecord {
  if (previous.amountFen !== req.amountFen || previous.orderId !== req.orderId) {
    throw failedPrecondition("IDEMPOTENCY_KEY_REUSED", "idempotency_key was used for a different purchase", { authorization_id: previous.id });
  }
  return previous;
}
