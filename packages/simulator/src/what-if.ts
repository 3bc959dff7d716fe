/**
 * A small what-if run for the console (issue 18.4, last sentence): an edited strategy table played on a small
 * synthetic book next to the table in force, same seed and same book, so a risk manager sees before saving what the
 * edit changes. Bounded (WHAT_IF_LIMITS) because it runs in the console's server process: at ~40 µs per account-day
 * measured for `pnpm simulate`, the largest run allowed (2 tables × 300 accounts × 90 days) is about 2 s of CPU.
 */
import { twoProportionZ, wilson } from "../../../services/collections/src/domain/significance";
import type { StrategySet } from "../../../services/collections/src/domain/strategy";
import { cureRate, rollRate } from "./report";
import { type ArmResult, type CostConfig, simulate } from "./simulate";
import { defaultCosts } from "./strategies";

/** Collections' proto → domain conversion of a strategy table (the console receives the table as proto JSON). */
export { strategyTableFromProto } from "../../../services/collections/src/adapters/proto-strategies";

/** The largest what-if the console may ask for. */
export const WHAT_IF_LIMITS = { maxAccounts: 300, maxDays: 90 } as const;

/** One arm of a what-if, with its uncertainty. */
export interface WhatIfArm {
  strategyId: string;
  accounts: number;
  cases: number;
  cured: number;
  cureRate: number;
  /** Wilson 95 % interval of the cure rate. */
  cureRateLow: number;
  cureRateHigh: number;
  /** p-value of the cure rate against the same table's champion (1 for the champion). */
  pValue: number;
  rollRate: number;
  collectedFen: bigint;
  costFen: bigint;
  costPerCaseFen: bigint;
  contacts: number;
}

/** What a what-if returns. */
export interface WhatIf {
  accounts: number;
  days: number;
  seed: number;
  edited: WhatIfArm[];
  current: WhatIfArm[];
  /** Wall time of both runs, ms (reported, never asserted). */
  elapsedMs: number;
}

function arms(results: ArmResult[]): WhatIfArm[] {
  const champ = results[0]!;
  return results.map((r, i) => {
    const w = wilson(r.cured, r.cases);
    return {
      strategyId: r.strategyId,
      accounts: r.accounts,
      cases: r.cases,
      cured: r.cured,
      cureRate: cureRate(r),
      cureRateLow: w.low,
      cureRateHigh: w.high,
      pValue: i === 0 ? 1 : twoProportionZ(r.cured, r.cases, champ.cured, champ.cases).pValue,
      rollRate: rollRate(r),
      collectedFen: r.collectedFen,
      costFen: r.costFen,
      costPerCaseFen: r.cases === 0 ? 0n : r.costFen / BigInt(r.cases),
      contacts: r.contacts,
    };
  });
}

/**
 * Plays `edited` and `current` on the same seeded book. The caller validates `edited` first (collections'
 * UpdateStrategies with validate_only); accounts and days beyond WHAT_IF_LIMITS are refused with a RangeError.
 */
export function whatIf(o: {
  edited: StrategySet;
  current: StrategySet;
  accounts: number;
  days: number;
  seed: number;
  costs?: CostConfig;
}): WhatIf {
  if (!Number.isInteger(o.accounts) || o.accounts < 1 || o.accounts > WHAT_IF_LIMITS.maxAccounts)
    throw new RangeError(`accounts must be 1–${WHAT_IF_LIMITS.maxAccounts}`);
  if (!Number.isInteger(o.days) || o.days < 1 || o.days > WHAT_IF_LIMITS.maxDays)
    throw new RangeError(`days must be 1–${WHAT_IF_LIMITS.maxDays}`);
  const costs = o.costs ?? defaultCosts();
  const t0 = performance.now();
  const run = (strategies: StrategySet) => arms(simulate({ accounts: o.accounts, days: o.days, seed: o.seed, strategies, costs }));
  const edited = run(o.edited);
  const current = run(o.current);
  return { accounts: o.accounts, days: o.days, seed: o.seed, edited, current, elapsedMs: Math.round(performance.now() - t0) };
}
