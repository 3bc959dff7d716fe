import { type Fen } from "@whiteslip/core";
import { cloneAccount } from "../domain/account";
import { openAccount } from "./open-account";
import type { BillingDeps } from "./ports";

/** CreditLineOpened → opens the account (idempotent on the id, so a redelivery changes nothing). */
export async function applyCreditLineOpened(
  deps: BillingDeps,
  e: { creditLineId: string; customerId: string; limitFen: Fen; statementDay: number; productCode: string },
): Promise<"opened" | "duplicate"> {
  const r = await openAccount(deps, { accountId: e.creditLineId, customerId: e.customerId, statementDay: e.statementDay, productCode: e.productCode, creditLimit: e.limitFen });
  return r.created ? "opened" : "duplicate";
}

/** CreditLineChanged → updates the limit once per event id (kept among the account's processed keys). */
export async function applyCreditLineChanged(deps: BillingDeps, eventId: string, e: { creditLineId: string; limitFen: Fen }): Promise<"applied" | "duplicate"> {
  for (let attempt = 0; attempt < 8; attempt++) {
    const a = await deps.accounts.get(e.creditLineId);
    if (!a) throw new Error(`account ${e.creditLineId} not opened yet; retry after CreditLineOpened`);
    if (a.processedKeys.some((k) => k.key === eventId && k.op === "credit-line-changed")) return "duplicate";
    const next = cloneAccount(a);
    next.creditLimit = e.limitFen;
    next.version++;
    next.processedKeys.push({ key: eventId, op: "credit-line-changed", fingerprint: `${e.limitFen}`, result: {} });
    if (await deps.accounts.update(next, a.version, [])) return "applied";
  }
  throw new Error(`account ${e.creditLineId} kept changing`);
}
