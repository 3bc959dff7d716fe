import { alreadyExists, deterministicId, type Fen } from "@whiteslip/core";
import { type Account } from "../domain/account";
import { postPurchase as post, validatePurchase } from "../domain/ledger";
import { loadAccount, mutateAccount } from "./context";
import type { BillingDeps } from "./ports";

/** Posts a purchase once per authorization: a repeat with the same authorization and amount returns the first purchase. */
export async function postPurchase(
  deps: BillingDeps,
  i: { accountId: string; authorizationId: string; amount: Fen; installmentMonths: number; idempotencyKey: string },
): Promise<{ purchaseId: string; account: Account; feePerMonth: Fen; date: string }> {
  validatePurchase(i);
  const purchaseId = `pur_${deterministicId("purchase", i.accountId, i.authorizationId)}`;
  const fingerprint = `${i.amount}/${i.installmentMonths}`;
  const existing = (await loadAccount(deps, i.accountId)).purchases.find((x) => x.authorizationId === i.authorizationId);
  if (existing && `${existing.amount}/${existing.months}` !== fingerprint) throw alreadyExists("Purchase", i.authorizationId);
  const m = await mutateAccount(deps, i.accountId, { key: `auth:${i.authorizationId}`, op: "purchase", fingerprint }, (a, date, p) =>
    post(a, { purchaseId, authorizationId: i.authorizationId, amount: i.amount, installmentMonths: i.installmentMonths }, date, p),
  );
  return { purchaseId, account: m.account, feePerMonth: m.result.feePerMonth as Fen, date: m.date };
}
