import { deterministicId, type Fen, invalidArgument } from "@whiteslip/core";
import type { Account } from "../domain/account";
import { postRepayment as post, type RepaymentResult } from "../domain/ledger";
import { mutateAccount, requireKey } from "./context";
import type { BillingDeps } from "./ports";

/** Posts a repayment allocated by the waterfall; the same idempotency key returns the first allocation and changes nothing. */
export async function postRepayment(
  deps: BillingDeps,
  i: { accountId: string; amount: Fen; idempotencyKey: string; channel: string },
): Promise<RepaymentResult & { account: Account; replay: boolean; date: string }> {
  if (i.amount <= 0n) throw invalidArgument([{ field: "amount_fen", description: `amount ${i.amount} must be > 0` }]);
  requireKey(i.idempotencyKey);
  const paymentId = `pay_${deterministicId("payment", i.accountId, i.idempotencyKey)}`;
  const m = await mutateAccount(deps, i.accountId, { key: i.idempotencyKey, op: "repayment", fingerprint: `${i.amount}` }, (a, date, p) =>
    post(a, { paymentId, amount: i.amount, channel: i.channel }, date, p, deps.clock.now()),
  );
  return { ...m.result, account: m.account, replay: m.replay, date: m.date };
}
