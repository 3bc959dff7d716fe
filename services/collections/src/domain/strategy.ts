/**
 * Strategies as data: an ordered list of rules segmenting cases by bucket × risk tier × balance (× DPD) into a
 * treatment; the first matching rule wins. A champion/challenger split sends a stable share of accounts (by a hash
 * of the account id) to a challenger strategy, so outcomes can be compared per strategy (FICO Debt Manager /
 * Experian PowerCurve practice).
 */
import { createHash } from "node:crypto";
import type { Fen } from "@whiteslip/core";
import type { PathStep } from "./treatment-path";
import type { Bucket, RiskTier, Treatment } from "./types";

/** One segment → treatment rule. Omitted criteria match everything. */
export interface TreatmentRule {
  /** Buckets matched. */
  buckets: Bucket[];
  /** Risk tiers matched; an unknown tier counts as `C` (medium). */
  tiers?: RiskTier[];
  /** Minimum total balance (inclusive). */
  minBalanceFen?: Fen;
  /** Balance the segment stops at (exclusive); unbounded when omitted. */
  maxBalanceFen?: Fen;
  /** Minimum days past due (inclusive). */
  minDpd?: number;
  /** Treatment for the segment. */
  treatment: Treatment;
  /** Timed actions per channel for the segment (treatment-path.ts); omitted: the treatment's queue only. */
  path?: PathStep[];
}

/** A strategy: named rules, first match wins; no match means digital only. */
export interface Strategy {
  /** Id, `champion` for the default strategy. */
  id: string;
  /** What it tries. */
  description: string;
  /** Ordered rules. */
  rules: TreatmentRule[];
}

/** The strategies in play: a champion, optional challengers, and the share of accounts sent to challengers. */
export interface StrategySet {
  /** The default strategy. */
  champion: Strategy;
  /** Challengers; the challenger share is split evenly among them. */
  challengers: Strategy[];
  /** Percentage (0–100) of accounts assigned to a challenger. Default 20. */
  challengerPercent: number;
}

/** Severity order of treatments. */
export const TREATMENT_ORDER: readonly Treatment[] = [
  "DIGITAL_ONLY",
  "AGENT_CALLS",
  "LEGAL_NOTICE",
  "EXTERNAL_AGENCY",
];

/** Rank of a treatment (DIGITAL_ONLY = 0 … EXTERNAL_AGENCY = 3). */
export function treatmentRank(t: Treatment): number {
  return TREATMENT_ORDER.indexOf(t);
}

/** A stable number in [0, 10000) for an account: the first four bytes of SHA-256(account id) mod 10000. */
export function accountHashBasisPoints(accountId: string): number {
  const h = createHash("sha256").update(accountId).digest();
  return h.readUInt32BE(0) % 10_000;
}

/**
 * The strategy for an account: the same account always gets the same strategy while the split is unchanged.
 * Accounts whose hash falls below `challengerPercent` go to a challenger (split evenly among challengers).
 */
export function assignStrategy(accountId: string, set: StrategySet): Strategy {
  const bp = accountHashBasisPoints(accountId);
  const share = Math.round(set.challengerPercent * 100);
  if (set.challengers.length === 0 || bp >= share) return set.champion;
  const idx = Math.floor((bp * set.challengers.length) / share);
  return set.challengers[Math.min(idx, set.challengers.length - 1)] ?? set.champion;
}

/** Segment input for a strategy. */
export interface Segment {
  bucket: Bucket;
  tier: RiskTier;
  totalBalanceFen: Fen;
  dpd: number;
  /** Escalation level: any escalation means at least agent calls. */
  escalationLevel: number;
}

/** Index of the first rule of the strategy that matches the segment, or -1. */
export function matchRule(strategy: Strategy, seg: Segment): number {
  const tier: RiskTier = seg.tier === "" ? "C" : seg.tier;
  return strategy.rules.findIndex(
    (r) =>
      r.buckets.includes(seg.bucket) &&
      (r.tiers === undefined || r.tiers.includes(tier)) &&
      (r.minBalanceFen === undefined || seg.totalBalanceFen >= r.minBalanceFen) &&
      (r.maxBalanceFen === undefined || seg.totalBalanceFen < r.maxBalanceFen) &&
      (r.minDpd === undefined || seg.dpd >= r.minDpd),
  );
}

/** The treatment a strategy gives a segment (first matching rule; escalated cases get at least agent calls). */
export function selectTreatment(strategy: Strategy, seg: Segment): Treatment {
  const rule = strategy.rules[matchRule(strategy, seg)];
  const t = rule?.treatment ?? "DIGITAL_ONLY";
  if (seg.escalationLevel > 0 && treatmentRank(t) < treatmentRank("AGENT_CALLS")) return "AGENT_CALLS";
  return t;
}

/** Queue a case works in: by treatment and bucket (agents are skilled per queue). */
export function queueFor(treatment: Treatment, bucket: Bucket, preDelinquent = false): string {
  if (preDelinquent) return "early-warning";
  switch (treatment) {
    case "DIGITAL_ONLY":
      return "digital";
    case "AGENT_CALLS":
      return `calls-${bucket}`;
    case "LEGAL_NOTICE":
      return `legal-${bucket}`;
    case "EXTERNAL_AGENCY":
      return "agency";
  }
}

/** Priority in a queue, higher first: treatment severity, then escalations, then DPD. */
export function priorityFor(treatment: Treatment, escalationLevel: number, dpd: number): number {
  return (
    treatmentRank(treatment) * 1000 + Math.min(escalationLevel, 4) * 200 + Math.min(Math.max(dpd, 0), 199)
  );
}

const LATE: Bucket[] = ["M4", "M5", "M6", "CHARGED_OFF"];

/**
 * Default champion (domain.md "Strategy"): digital only early / low risk; agent calls for higher risk
 * (tier D/E or balance ≥ ¥10,000) from DPD 3 and for everyone in M2; legal notice at M3; external agency M4+.
 */
export const DEFAULT_CHAMPION: Strategy = {
  id: "champion",
  description: "Digital first; calls for high risk from DPD 3 and all of M2; legal notice M3; agency M4+",
  rules: [
    { buckets: LATE, treatment: "EXTERNAL_AGENCY" },
    { buckets: ["M3"], treatment: "LEGAL_NOTICE" },
    { buckets: ["M2"], treatment: "AGENT_CALLS" },
    { buckets: ["M1"], tiers: ["D", "E"], minDpd: 3, treatment: "AGENT_CALLS" },
    { buckets: ["M1"], minBalanceFen: 1_000_000n, minDpd: 3, treatment: "AGENT_CALLS" },
    { buckets: ["M1"], treatment: "DIGITAL_ONLY" },
  ],
};

/** Default challenger: earlier calls — tiers C–E from DPD 1 and balances ≥ ¥5,000 from DPD 3. */
export const DEFAULT_CHALLENGER: Strategy = {
  id: "challenger-early-call",
  description: "Calls tiers C–E from DPD 1 and balances ≥ ¥5,000 from DPD 3; otherwise as champion",
  rules: [
    { buckets: LATE, treatment: "EXTERNAL_AGENCY" },
    { buckets: ["M3"], treatment: "LEGAL_NOTICE" },
    { buckets: ["M2"], treatment: "AGENT_CALLS" },
    { buckets: ["M1"], tiers: ["C", "D", "E"], minDpd: 1, treatment: "AGENT_CALLS" },
    { buckets: ["M1"], minBalanceFen: 500_000n, minDpd: 3, treatment: "AGENT_CALLS" },
    { buckets: ["M1"], treatment: "DIGITAL_ONLY" },
  ],
};

/** The default strategy set: champion + one challenger at 20%. */
export const DEFAULT_STRATEGIES: StrategySet = {
  champion: DEFAULT_CHAMPION,
  challengers: [DEFAULT_CHALLENGER],
  challengerPercent: 20,
};

/** Why a promotion cannot be made (a value, not an exception; the use case maps it to NOT_FOUND). */
export type PromotionRefusal = { refused: "NO_SUCH_CHALLENGER"; challengerId: string };

/**
 * The table after promoting a challenger: it becomes the champion under its own id (so the outcomes recorded on its
 * cases stay attributable to it); the former champion is retired, or — `keepFormerChampion` — takes the promoted
 * one's place among the challengers as a control arm. The challenger share is kept, and becomes 0 when no challenger
 * is left (a share with no challenger is invalid).
 */
export function promoteChallenger(
  set: StrategySet,
  challengerId: string,
  keepFormerChampion = false,
): StrategySet | PromotionRefusal {
  const i = set.challengers.findIndex((c) => c.id === challengerId);
  const promoted = set.challengers[i];
  if (!promoted) return { refused: "NO_SUCH_CHALLENGER", challengerId };
  const challengers = keepFormerChampion
    ? set.challengers.map((c, j) => (j === i ? set.champion : c))
    : set.challengers.filter((_, j) => j !== i);
  return {
    champion: promoted,
    challengers,
    challengerPercent: challengers.length === 0 ? 0 : set.challengerPercent,
  };
}
