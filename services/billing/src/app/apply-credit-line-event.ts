import { type Fen } from "@whiteslip/core";
import { handleCommand, outcome, write } from "@whiteslip/store";
import { type Account, cloneAccount } from "../domain/account";
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

/** CreditLineChanged → updates the limit once per event id (kept among the account's processed keys); a command on the account. */
export function applyCreditLineChanged(deps: BillingDeps, eventId: string, e: { creditLineId: string; limitFen: Fen }): Promise<"applied" | "duplicate"> {
  return handleCommand<Account | null, { next: Account; expected: number }, "applied" | "duplicate">(
    { load: () => deps.accounts.get(e.creditLineId), write: ({ next, expected }) => deps.accounts.update(next, expected, []) },
    (a) => {
      // an unexpected error (not a DomainError): the bus retries it until CreditLineOpened has opened the account
      if (!a) throw new Error(`account ${e.creditLineId} not opened yet; retry after CreditLineOpened`);
      if (a.processedKeys.some((k) => k.key === eventId && k.op === "credit-line-changed")) return outcome("duplicate");
      const next = cloneAccount(a);
      next.creditLimit = e.limitFen;
      next.version++;
      next.processedKeys.push({ key: eventId, op: "credit-line-changed", fingerprint: `${e.limitFen}`, result: {} });
      return write({ next, expected: a.version }, "applied");
    },
    { what: `account ${e.creditLineId}` },
  );
}
