import { type Fen, notFound, Violations } from "@whiteslip/core";
import { deferralGate, recordDeferral } from "../domain/work";
import { admitBillingRequest, mutateCase } from "./mutate-case";
import type { Deps } from "./ports";

/** The longest deferral an agent can grant (billing enforces the same). */
export const MAX_DEFERRAL_DAYS = 30;

/** GrantDeferral input. */
export interface GrantDeferralInput {
  caseId: string;
  days: number;
  agentId: string;
  idempotencyKey: string;
}

/**
 * Hardship → deferral: the case's latest reason must be hardship; billing's DeferPayment moves the overdue dues
 * (with a derived idempotency key) and enforces its own limits (30 days, once in 365 days). The key is noted on the
 * case first, so a retry is answered even after billing's AccountCured closed the case.
 */
export async function grantDeferral(
  deps: Deps,
  i: GrantDeferralInput,
): Promise<{ deferralId: string; dueDate: string; deferredFen: Fen }> {
  new Violations()
    .check(i.caseId.trim() === "", "case_id", "must be set")
    .check(!Number.isInteger(i.days) || i.days < 1 || i.days > MAX_DEFERRAL_DAYS, "days", `must be 1–${MAX_DEFERRAL_DAYS}`)
    .check(i.idempotencyKey.trim() === "", "idempotency_key", "must be set")
    .throwIfAny();
  const c = await deps.cases.get(i.caseId);
  if (!c) throw notFound("case", i.caseId);
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
