import type { Fen } from "@whiteslip/core";
import { handToRecovery } from "../domain/case";
import { applyToActiveCase, type EventEffect } from "./mutate-case";
import type { Deps } from "./ports";

/** Billing's ChargedOff: hands the account's active case to recovery (once). */
export async function handleChargedOff(
  deps: Deps,
  accountId: string,
  eventId: string,
  businessDate: string,
  chargedOffFen: Fen,
): Promise<EventEffect> {
  return applyToActiveCase(deps.cases, accountId, eventId, (c) =>
    handToRecovery(c, eventId, businessDate, chargedOffFen, {
      now: deps.clock.now(),
      strategies: deps.policy.strategies,
    }),
  );
}
