import { deterministicId, type Fen } from "@whiteslip/core";
import type { Account } from "../domain/account";
import { waiveFees as waive } from "../domain/ledger";
import { mutateAccount, requireKey } from "./context";
import type { BillingDeps } from "./ports";

/** Waives unpaid fees then penalty interest up to an amount (idempotent by key). */
export async function waiveFees(
  deps: BillingDeps,
  i: { accountId: string; maxAmount: Fen; reason: string; approvedBy: string; idempotencyKey: string },
): Promise<{ waived: Fen; account: Account; date: string }> {
  requireKey(i.idempotencyKey);
  const waiverId = `wv_${deterministicId("waiver", i.accountId, i.idempotencyKey)}`;
  const m = await mutateAccount(deps, i.accountId, { key: i.idempotencyKey, op: "waiver", fingerprint: `${i.maxAmount}` }, (a, date, p) =>
    waive(a, { waiverId, maxAmount: i.maxAmount, reason: i.reason }, date, p),
  );
  return { waived: m.result.waived as Fen, account: m.account, date: m.date };
}
