import { type DueSoonFact, isHighRisk, openPreDelinquent, preDelinquencyCaseId } from "../domain/case";
import type { RiskTier } from "../domain/types";
import type { Deps } from "./ports";

/** What a DueSoon / RiskFlagRaised did. */
export type PreDelinquencyEffect = "opened" | "not-high-risk" | "case-exists" | "duplicate";

/**
 * A statement is due soon (billing's DueSoon, or credit's RiskFlagRaised which carries the tier): for a high-risk
 * account (tier D/E) with no active case, opens a pre-delinquency early-warning case. One case per account and due
 * date, however often either event is delivered.
 */
export async function openPreDelinquency(
  deps: Deps,
  f: DueSoonFact,
  tierFromEvent?: RiskTier,
): Promise<PreDelinquencyEffect> {
  const tier = tierFromEvent || (await deps.tiers.get(f.accountId));
  if (!isHighRisk(tier)) return "not-high-risk";
  if (await deps.cases.get(preDelinquencyCaseId(f.accountId, f.dueDate))) return "duplicate";
  if (await deps.cases.findActiveByAccount(f.accountId)) return "case-exists";
  const change = openPreDelinquent(f, tier, deps.policy.localeFor(f.productCode), {
    now: deps.clock.now(),
    strategies: deps.policy.strategies,
  });
  return (await deps.cases.insert(change)) === "inserted" ? "opened" : "duplicate";
}
