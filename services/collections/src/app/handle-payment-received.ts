import { applyPayment, type PaymentFact } from "../domain/case";
import { applyToActiveCase, applyToFoundCase, type EventEffect } from "./mutate-case";
import type { Deps } from "./ports";

/** How long after a cure a late-arriving payment still belongs to the cured case. */
const CURED_CASE_GRACE_MS = 2 * 86_400_000;

/**
 * Billing's PaymentReceived: counts the amount collected and matches it to promises first in,
 * first out (once). AccountCured travels on another topic, so the cure may be handled before
 * the payment that caused it; that payment still belongs to the just-cured case (its promise
 * is kept, the amount counts as collected).
 */
export async function handlePaymentReceived(
  deps: Deps,
  accountId: string,
  f: PaymentFact,
): Promise<EventEffect> {
  const apply = (c: Parameters<typeof applyPayment>[0]) =>
    applyPayment(c, f, { now: deps.clock.now(), strategies: deps.policy.strategies });
  const effect = await applyToActiveCase(deps.cases, accountId, f.eventId, apply);
  if (effect !== "no-case") return effect;
  const since = new Date(deps.clock.now().getTime() - CURED_CASE_GRACE_MS);
  return applyToFoundCase(deps.cases, () => deps.cases.findCuredSince(accountId, since), accountId, f.eventId, apply);
}
