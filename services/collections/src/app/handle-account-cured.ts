import { closeCured } from "../domain/case";
import { applyToActiveCase, type EventEffect } from "./mutate-case";
import type { Deps } from "./ports";

/** Billing's AccountCured: closes the account's active case as cured (once). */
export async function handleAccountCured(
  deps: Deps,
  accountId: string,
  eventId: string,
  businessDate: string,
): Promise<EventEffect> {
  return applyToActiveCase(deps.cases, accountId, eventId, (c) =>
    closeCured(c, eventId, businessDate, { now: deps.clock.now(), strategies: deps.policy.strategies }),
  );
}
