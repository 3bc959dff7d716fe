import { type Fen, notFound, Violations } from "@whiteslip/core";
import { deferralGate, recordDeferral } from "../domain/work";
import { admitBillingRequest, mutateCase } from "./mutate-case";
import type { Deps } from "./ports";

/** GrantDeferral input. */
export interface GrantDeferralInput {
  caseId: string;
  days: number;
  agentId: string;
  idempotencyKey: string;
}

/**
 * Hardship → deferral: the case's latest reason must be hardship; billing's DeferPayment moves the overdue dues
 * (with a derived idempotency key) and enforces its own limits (its product terms' longest deferral, once in 365 days). The key is noted on the
 * case first, so a retry is answered even after billing's AccountCured closed the case.
 */
export async function grantDeferral(
  deps: Deps,
  i: GrantDeferralInput,
): Promise<{ deferralId: string; dueDate: string; deferredFen: Fen }> {
  new Violations()
    .check(i.caseId.trim() === "", "case_id", "must be set")
    .check(!Number.isInteger(i.days) || i.days < 1, "days", "must be at least 1")
    .check(i.idempotencyKey.trim() === "", "idempotency_key", "must be set")
    .throwIfAny();
  const c = await deps.cases.get(i.caseId);
  if (!c) throw notFound("case", i.caseId);
  // the longest deferral is billing's product term (its one home), checked before anything is noted on the case
  const { maxDeferralDays } = await deps.billing.getProductTerms(c.accountId);
  new Violations().check(i.days > maxDeferralDays, "days", `must be 1–${maxDeferralDays}`).throwIfAny();
  const actor = i.agentId || "system";
  await admitBillingRequest(
    deps,
    c,
    { op: "deferral", key: i.idempotencyKey, actor, what: `deferral of ${i.days} days requested from billing` },
    deferralGate,
  );
  const d = await deps.billing.deferPayment({
    accountId: c.accountId,
    days: i.days,
    reason: "hardship",
    requestedBy: `collections:${c.caseId}`,
    idempotencyKey: `collections:${c.caseId}:deferral:${i.idempotencyKey}`,
  });
  await mutateCase(deps.cases, c.caseId, (cur) => ({
    change: recordDeferral(cur, i.idempotencyKey, { ...d, days: i.days }, actor, deps.clock.now()),
  }));
  return d;
}
