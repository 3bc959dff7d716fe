import { applyPayment, type PaymentFact } from "../domain/case";
import { applyToActiveCase, type EventEffect } from "./mutate-case";
import type { Deps } from "./ports";

/** Billing's PaymentReceived: counts the amount collected and matches it to promises first in, first out (once). */
export async function handlePaymentReceived(
  deps: Deps,
  accountId: string,
  f: PaymentFact,
): Promise<EventEffect> {
  return applyToActiveCase(deps.cases, accountId, f.eventId, (c) =>
    applyPayment(c, f, { now: deps.clock.now(), strategies: deps.policy.strategies }),
  );
}
