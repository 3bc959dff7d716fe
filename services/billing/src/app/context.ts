/** Shared helpers of the use cases: business date, product lookup, optimistic read-modify-write with idempotency keys. */
import { dateInZone, failedPrecondition, invalidArgument, type LocalDate, notFound } from "@whiteslip/core";
import { handleCommand, outcome, write } from "@whiteslip/store";
import type { Account } from "../domain/account";
import { catchUpIdle, markChanged } from "../domain/end-of-day";
import type { Change } from "../domain/ledger";
import type { ProductConfig } from "../domain/product";
import type { BillingDeps } from "./ports";

/** The current business date (created from the clock's date on first use). */
export async function businessDate(deps: BillingDeps): Promise<LocalDate> {
  return (await deps.businessDates.get(dateInZone(deps.clock.now(), deps.timeZone))).current;
}

/** The product of an account. */
export function productOf(deps: BillingDeps, code: string): ProductConfig {
  const p = deps.catalog.products.get(code);
  if (!p) throw failedPrecondition("PRODUCT_UNKNOWN", `product ${code} is not configured`, { productCode: code });
  return p;
}

/** Loads an account or throws NOT_FOUND. */
export async function loadAccount(deps: BillingDeps, id: string): Promise<Account> {
  if (!id) throw invalidArgument([{ field: "account_id", description: "account id is required" }]);
  const a = await deps.accounts.get(id);
  if (!a) throw notFound("Account", id);
  return a;
}

/** Outcome of a keyed mutation. */
export interface Mutation<R> {
  /** The account after the change (or as stored, on a replay). */
  account: Account;
  /** The first result for this key. */
  result: R;
  /** True when the key had been processed before (nothing changed). */
  replay: boolean;
  /** Business date of the change. */
  date: LocalDate;
}

/**
 * A command on one account (the store's handleCommand): applies `change` in one
 * single-document update guarded by its version, deciding again on a concurrent
 * change (ABORTED CONCURRENT_MODIFICATION when it keeps changing). With an
 * idempotency key, the same key returns the first result and changes nothing;
 * the same key with other parameters is refused.
 */
export function mutateAccount<R extends object>(
  deps: BillingDeps,
  accountId: string,
  key: { key: string; op: string; fingerprint: string } | undefined,
  change: (a: Account, date: LocalDate, p: ProductConfig) => Change<R>,
): Promise<Mutation<R>> {
  return handleCommand<{ a: Account; date: LocalDate }, { c: Change<R>; expected: number }, Mutation<R>>(
    {
      load: async () => ({ a: await loadAccount(deps, accountId), date: await businessDate(deps) }),
      write: ({ c, expected }) => deps.accounts.update(c.account, expected, c.events),
    },
    ({ a: stored, date }) => {
      const p = productOf(deps, stored.productCode);
      // Sparse end-of-day skipped the idle days since the account's last action; they accrued with the state before this change.
      const a = catchUpIdle(stored, date, p);
      if (key) {
        const seen = a.processedKeys.find((k) => k.key === key.key && k.op === key.op);
        if (seen) {
          if (seen.fingerprint !== key.fingerprint)
            throw failedPrecondition("IDEMPOTENCY_KEY_REUSED", `idempotency key ${key.key} was used for a different ${key.op}`, { idempotencyKey: key.key });
          return outcome({ account: stored, result: seen.result as R, replay: true, date });
        }
      }
      const c = change(a, date, p);
      if (key) c.account.processedKeys.push({ key: key.key, op: key.op, fingerprint: key.fingerprint, result: c.result as unknown as Record<string, unknown> });
      markChanged(c.account, date);
      return write({ c, expected: stored.version }, { account: c.account, result: c.result, replay: false, date });
    },
    { what: `account ${accountId}` },
  );
}

/** Requires a non-empty idempotency key. */
export function requireKey(key: string): void {
  if (!key) throw invalidArgument([{ field: "idempotency_key", description: "an idempotency key is required" }]);
}
