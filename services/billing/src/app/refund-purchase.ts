import { deterministicId, type Fen, invalidArgument } from "@whiteslip/core";
import type { Account } from "../domain/account";
import { refundPurchase as refund } from "../domain/ledger";
import { mutateAccount, requireKey } from "./context";
import type { BillingDeps } from "./ports";

/** Refunds part or all of a purchase (idempotent by key). */
export async function refundPurchase(
  deps: BillingDeps,
  i: { accountId: string; purchaseId: string; amount: Fen; idempotencyKey: string },
): Promise<{ refundId: string; account: Account; date: string }> {
  if (i.amount <= 0n) throw invalidArgument([{ field: "amount_fen", description: `amount ${i.amount} must be > 0` }]);
  if (!i.purchaseId) throw invalidArgument([{ field: "purchase_id", description: "purchase id is required" }]);
  requireKey(i.idempotencyKey);
  const refundId = `ref_${deterministicId("refund", i.accountId, i.idempotencyKey)}`;
  const m = await mutateAccount(deps, i.accountId, { key: i.idempotencyKey, op: "refund", fingerprint: `${i.purchaseId}/${i.amount}` }, (a, date, p) =>
    refund(a, { purchaseId: i.purchaseId, amount: i.amount, refundId }, date, p),
  );
  return { refundId, account: m.account, date: m.date };
}
