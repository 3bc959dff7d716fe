import type { billing } from "@whiteslip/contracts";
import { notFound, Violations } from "@whiteslip/core";
import { planGate, recordPlan } from "../domain/work";
import { admitBillingRequest, mutateCase } from "./mutate-case";
import type { Deps } from "./ports";

/** OfferRepaymentPlan input. */
export interface OfferPlanInput {
  caseId: string;
  installmentCount: number;
  agentId: string;
  idempotencyKey: string;
}

/**
 * Books a repayment plan (re-scheduled installments) in billing over gRPC, then records it on the case and
 * publishes PlanAgreed. Billing's call carries a key derived from the client's, so a retry books nothing twice;
 * the key is noted on the case first, so a retry is answered with the plan even when the case closed meanwhile
 * (the plan cures the account, and billing's AccountCured closes the case).
 */
export async function offerRepaymentPlan(deps: Deps, i: OfferPlanInput): Promise<billing.RepaymentPlan> {
  new Violations()
    .check(i.caseId.trim() === "", "case_id", "must be set")
    .check(i.idempotencyKey.trim() === "", "idempotency_key", "must be set")
    .throwIfAny();
  const c = await deps.cases.get(i.caseId);
  if (!c) throw notFound("case", i.caseId);
  // the plan lengths are billing's product terms (their one home), checked before anything is noted on the case
  const { installmentTerms } = await deps.billing.getProductTerms(c.accountId);
  new Violations()
    .check(!installmentTerms.includes(i.installmentCount), "installment_count", `must be one of ${installmentTerms.join(", ")}`)
    .throwIfAny();
  await admitBillingRequest(
    deps,
    c,
    { op: "plan", key: i.idempotencyKey, actor: i.agentId || "system", what: `${i.installmentCount} installments requested from billing` },
    planGate,
  );
  const plan = await deps.billing.createRepaymentPlan({
    accountId: c.accountId,
    installmentCount: i.installmentCount,
    requestedBy: `collections:${c.caseId}`,
    idempotencyKey: `collections:${c.caseId}:plan:${i.idempotencyKey}`,
  });
  await mutateCase(deps.cases, c.caseId, (cur) => ({
    change: recordPlan(
      cur,
      { planId: plan.planId, installmentCount: plan.installmentCount, totalFen: plan.totalFen },
      i.agentId || "system",
      deps.clock.now(),
    ),
  }));
  return plan;
}
