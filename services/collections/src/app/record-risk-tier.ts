import type { RiskTier } from "../domain/types";
import type { Deps } from "./ports";

/** Remembers an account's risk tier from credit's CreditLineOpened / CreditLineChanged / RiskFlagRaised (idempotent). */
export async function recordRiskTier(
  deps: Deps,
  accountId: string,
  tier: RiskTier,
  eventId: string,
): Promise<"applied" | "duplicate" | "ignored"> {
  if (tier === "") return "ignored";
  return deps.tiers.record(accountId, tier, eventId);
}
