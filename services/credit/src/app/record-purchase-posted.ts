import type { Fen } from "@whiteslip/core";
import { capturePurchase } from "../domain/credit-line";
import type { CreditDeps } from "./deps";
import type { MutationOutcome } from "./mutate-line";
import { mutateLine } from "./mutate-line";

/** The PurchasePosted facts credit uses. */
export interface PurchasePostedFact {
  readonly eventId: string;
  readonly accountId: string;
  readonly authorizationId: string;
  readonly amountFen: Fen;
}

/**
 * Billing posted a purchase: the hold is captured (removed from open holds) and
 * the posted balance rises, in one idempotent update keyed by the event id.
 */
export async function recordPurchasePosted(d: Pick<CreditDeps, "clock" | "lines" | "authorizations">, f: PurchasePostedFact): Promise<MutationOutcome["outcome"]> {
  const r = await mutateLine(d.lines, f.accountId, f.eventId, (line) => ({ line: capturePurchase(line, f.authorizationId, f.amountFen), events: [], changes: [] }));
  if (r.outcome === "applied" && f.authorizationId) await d.authorizations.closeOpen(f.authorizationId, "CAPTURED", d.clock.now());
  return r.outcome;
}
