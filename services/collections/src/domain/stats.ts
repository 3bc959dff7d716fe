/**
 * Collections measures (domain.md "Measures"): cure rate and roll rate by bucket, promise kept rate, contacts per
 * case and amount collected, per strategy.
 */
import { type Fen, sumFen } from "@whiteslip/core";
import { BUCKETS, nextBucket } from "@whiteslip/core";
import { isActive } from "./case";
import type { ContactCosts } from "./contact-costs";
import { twoProportionZ, wilson } from "./significance";
import { isPaidStep } from "./treatment-path";
import type { Bucket, CollectionCase } from "./types";

/**
 * Contact cost of a case: made attempts, digital path steps a provider got (`isPaidStep`: sent, delivered, or failed
 * after a provider call — not one notification suppressed, let expire, found superseded or has not decided yet),
 * legal notices.
 */
export function caseCostFen(c: CollectionCase, cost: ContactCosts): Fen {
  let n = 0n;
  for (const a of c.attempts) if (!a.refused) n += cost[a.channel] ?? 0n;
  for (const s of c.path) if (isPaidStep(s)) n += cost[s.channel] ?? 0n;
  n += BigInt(c.legalNotices.length) * (cost.LEGAL_NOTICE ?? 0n);
  return n;
}

/** Outcomes of one strategy. */
export interface StrategyOutcome {
  strategyId: string;
  cases: number;
  cured: number;
  /** cured / cases. */
  cureRate: number;
  collectedFen: Fen;
  /** kept / (kept + broken) promises. */
  promiseKeptRate: number;
  /** Made (not refused) contact attempts per case. */
  contactsPerCase: number;
  /** Wilson 95 % interval of the cure rate. */
  cureRateLow: number;
  cureRateHigh: number;
  /** Two-proportion z-test p-value of the cure rate against the champion's (1 for the champion). */
  cureRatePValue: number;
  /** Share of cases that rolled from M1 into M2. */
  rollRateM1: number;
  /** Contact cost, fen, and per case. */
  costFen: Fen;
  costPerCaseFen: Fen;
  /** Cure and roll-forward rate per bucket, over this arm's cases. */
  buckets: BucketRates[];
  /** The champion of the table in force. */
  champion: boolean;
}

/** Cure and roll rate of one bucket. */
export interface BucketRates {
  bucket: Bucket;
  /** Cases that entered the bucket. */
  cases: number;
  /** Share of them cured while in it. */
  cureRate: number;
  /** Share of them that rolled to the next bucket. */
  rollRate: number;
}

/** All measures. */
export interface CollectionsStats {
  strategies: StrategyOutcome[];
  buckets: BucketRates[];
  openCases: number;
  collectedFen: Fen;
}

function ratio(n: number, d: number): number {
  return d === 0 ? 0 : n / d;
}

/** Cure and roll-forward rate of each bucket the cases entered (M1 → M2, M2 → M3, …; M0 and charge-off left out). */
export function bucketRates(cases: readonly CollectionCase[]): BucketRates[] {
  const buckets: BucketRates[] = [];
  for (const bucket of BUCKETS) {
    if (bucket === "M0" || bucket === "CHARGED_OFF") continue;
    const entered = cases.filter((c) => c.bucketsEntered.includes(bucket));
    if (entered.length === 0) continue;
    const next = nextBucket(bucket);
    const rolled = entered.filter((c) => next !== null && c.bucketsEntered.includes(next)).length;
    const curedHere = entered.filter(
      (c) => c.status === "CLOSED_CURED" && c.bucketsEntered.at(-1) === bucket,
    ).length;
    buckets.push({
      bucket,
      cases: entered.length,
      cureRate: ratio(curedHere, entered.length),
      rollRate: ratio(rolled, entered.length),
    });
  }
  return buckets;
}

/**
 * Stats over cases (delinquency cases only for bucket rates; pre-delinquency cases count in strategies), contacts
 * priced by `cost`; `championId` is the champion of the table in force (the arm the others are tested against).
 */
export function computeStats(
  cases: readonly CollectionCase[],
  cost: ContactCosts,
  championId: string,
): CollectionsStats {
  const byStrategy = new Map<string, CollectionCase[]>();
  for (const c of cases) byStrategy.set(c.strategyId, [...(byStrategy.get(c.strategyId) ?? []), c]);
  const strategies = [...byStrategy.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([strategyId, cs]) => {
      const cured = cs.filter((c) => c.status === "CLOSED_CURED").length;
      const promises = cs.flatMap((c) => c.promises);
      const kept = promises.filter((p) => p.status === "KEPT").length;
      const broken = promises.filter((p) => p.status === "BROKEN").length;
      const contacts = cs.reduce((n, c) => n + c.attempts.filter((a) => !a.refused).length, 0);
      const w = wilson(cured, cs.length);
      const champ = byStrategy.get(championId) ?? [];
      const champCured = champ.filter((c) => c.status === "CLOSED_CURED").length;
      const inM1 = cs.filter((c) => c.bucketsEntered.includes("M1"));
      const costFen = sumFen(cs.map((c) => caseCostFen(c, cost)));
      return {
        cureRateLow: w.low,
        cureRateHigh: w.high,
        cureRatePValue: strategyId === championId ? 1 : twoProportionZ(cured, cs.length, champCured, champ.length).pValue,
        rollRateM1: ratio(inM1.filter((c) => c.bucketsEntered.includes("M2")).length, inM1.length),
        costFen,
        costPerCaseFen: cs.length === 0 ? 0n : costFen / BigInt(cs.length),
        buckets: bucketRates(cs),
        champion: strategyId === championId,
        strategyId,
        cases: cs.length,
        cured,
        cureRate: ratio(cured, cs.length),
        collectedFen: sumFen(cs.map((c) => c.collectedFen)),
        promiseKeptRate: ratio(kept, kept + broken),
        contactsPerCase: ratio(contacts, cs.length),
      };
    });
  return {
    strategies,
    buckets: bucketRates(cases),
    openCases: cases.filter((c) => isActive(c.status)).length,
    collectedFen: sumFen(cases.map((c) => c.collectedFen)),
  };
}
