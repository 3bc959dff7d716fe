import { alreadyExists, type Fen, Violations } from "@whiteslip/core";
import { type Account, newAccount } from "../domain/account";
import { eventIds } from "../domain/events";
import { businessDate } from "./context";
import type { BillingDeps } from "./ports";

/** Input of OpenAccount (and of credit's CreditLineOpened). */
export interface OpenAccountInput {
  /** Account id = credit line id. */
  accountId: string;
  /** Customer. */
  customerId: string;
  /** Statement day 1–28. */
  statementDay: number;
  /** Product code; empty = default. */
  productCode: string;
  /** Credit limit. */
  creditLimit: Fen;
}

/** Opens an account; idempotent on the id (same terms → the existing account, `created: false`). */
export async function openAccount(deps: BillingDeps, i: OpenAccountInput): Promise<{ account: Account; created: boolean }> {
  const productCode = i.productCode || deps.catalog.defaultCode;
  new Violations()
    .check(!i.accountId, "account_id", "account id is required")
    .check(i.accountId.length > 128, "account_id", "account id is longer than 128 characters")
    .check(!i.customerId, "customer_id", "customer id is required")
    .check(!Number.isInteger(i.statementDay) || i.statementDay < 1 || i.statementDay > 28, "statement_day", `statement day ${i.statementDay} must be 1–28`)
    .check(i.creditLimit < 0n, "credit_limit_fen", `credit limit ${i.creditLimit} must be ≥ 0`)
    .check(!deps.catalog.products.has(productCode), "product_code", `product ${productCode} is not configured`)
    .throwIfAny();
  const date = await businessDate(deps);
  const a = newAccount({ id: i.accountId, customerId: i.customerId, productCode, statementDay: i.statementDay, creditLimit: i.creditLimit, businessDate: date });
  const outcome = await deps.accounts.insert(a, [
    { type: "AccountOpened", id: eventIds.accountOpened(a.id), key: a.id, data: { accountId: a.id, customerId: a.customerId, productCode, statementDay: a.statementDay, businessDate: date } },
  ]);
  if (outcome === "inserted") return { account: a, created: true };
  const existing = (await deps.accounts.get(i.accountId))!;
  if (existing.customerId !== i.customerId || existing.statementDay !== i.statementDay || existing.productCode !== productCode) throw alreadyExists("Account", i.accountId);
  return { account: existing, created: false };
}
