/**
 * Collections measures (domain.md "Measures"): cure rate and roll rate by bucket, promise kept rate, contacts per
 * case and amount collected, per strategy.
 */
import { type Fen, sumFen } from "@whiteslip/core";
import { BUCKETS, nextBucket } from "@whiteslip/core";
import { isActive } from "./case";
import type { Bucket, CollectionCase } from "./types";

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

/** Stats over cases (delinquency cases only for bucket rates; pre-delinquency cases count in strategies). */
export function computeStats(cases: readonly CollectionCase[]): CollectionsStats {
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
      return {
        strategyId,
        cases: cs.length,
        cured,
        cureRate: ratio(cured, cs.length),
        collectedFen: sumFen(cs.map((c) => c.collectedFen)),
        promiseKeptRate: ratio(kept, kept + broken),
        contactsPerCase: ratio(contacts, cs.length),
      };
    });
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
  return {
    strategies,
    buckets,
    openCases: cases.filter((c) => isActive(c.status)).length,
    collectedFen: sumFen(cases.map((c) => c.collectedFen)),
  };
}
