import type { Account } from "../domain/account";
import type { ProductConfig } from "../domain/product";
import { businessDate, loadAccount, productOf } from "./context";
import type { BillingDeps } from "./ports";

/** An account with its product and the business date, for the summary view. */
export async function getAccountSummary(deps: BillingDeps, accountId: string): Promise<{ account: Account; date: string; product: ProductConfig }> {
  const account = await loadAccount(deps, accountId);
  return { account, date: await businessDate(deps), product: productOf(deps, account.productCode) };
}
