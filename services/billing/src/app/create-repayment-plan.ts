import { deterministicId } from "@whiteslip/core";
import type { Account } from "../domain/account";
import { createRepaymentPlan as create } from "../domain/ledger";
import { mutateAccount, requireKey } from "./context";
import type { BillingDeps } from "./ports";

/** Re-schedules the overdue balance into installments (idempotent by key); the account becomes current. */
export async function createRepaymentPlan(
  deps: BillingDeps,
  i: { accountId: string; installmentCount: number; requestedBy: string; idempotencyKey: string },
): Promise<{ account: Account; planId: string; date: string }> {
  requireKey(i.idempotencyKey);
  const planId = `plan_${deterministicId("plan", i.accountId, i.idempotencyKey)}`;
  const m = await mutateAccount(deps, i.accountId, { key: i.idempotencyKey, op: "plan", fingerprint: `${i.installmentCount}` }, (a, date, p) =>
    create(a, { planId, count: i.installmentCount, requestedBy: i.requestedBy }, date, p, deps.clock.now()),
  );
  return { account: m.account, planId, date: m.date };
}
