import { deterministicId } from "@whiteslip/core";
import type { Account, DeferralRecord } from "../domain/account";
import { deferPayment as defer } from "../domain/ledger";
import { mutateAccount, requireKey } from "./context";
import type { BillingDeps } from "./ports";

/** Hardship deferral of the delinquent dues (idempotent by key). */
export async function deferPayment(
  deps: BillingDeps,
  i: { accountId: string; days: number; reason: string; requestedBy: string; idempotencyKey: string },
): Promise<{ deferral: DeferralRecord; account: Account; date: string }> {
  requireKey(i.idempotencyKey);
  const deferralId = `df_${deterministicId("deferral", i.accountId, i.idempotencyKey)}`;
  const m = await mutateAccount(deps, i.accountId, { key: i.idempotencyKey, op: "deferral", fingerprint: `${i.days}` }, (a, date, p) =>
    defer(a, { deferralId, days: i.days, requestedBy: i.requestedBy, reason: i.reason }, date, p),
  );
  const deferral = m.account.deferrals?.find((d) => d.id === deferralId);
  if (!deferral) throw new Error(`deferral ${deferralId} not on account ${i.accountId} after applying it`);
  return { deferral, account: m.account, date: m.date };
}
