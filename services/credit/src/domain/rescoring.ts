/**
 * Dynamic rescoring (shared/design/domain.md, "Credit"): the application score
 * plus a behavioural overlay — payment behaviour, days past due reached,
 * utilisation and the credit-reporting score — gives a current score and tier;
 * a tier change drives the line policy (increase for good tiers, decrease or
 * freeze for bad), each change with a reason and a CreditLineChanged event.
 */
import { addDays, type Fen, type LocalDate, deterministicId } from "@whiteslip/core";
import { type CreditLine, type LineUpdate, changed } from "./credit-line";
import type { RiskFlagRaisedEvent } from "./events";
import type { CreditPolicy } from "./policy";
import { type ScorecardModel, type Tier, TIERS, creditLineFor, tierForScore } from "./scorecard";

/** One overlay adjustment of the behavioural score. */
export interface Adjustment {
  readonly code: string;
  readonly points: number;
}

/** The actor of automatic rescoring changes. */
export const RESCORING_ACTOR = "system:rescoring";

/** (posted balance + open holds) / limit; 0 for a zero limit. */
export function utilisation(line: Pick<CreditLine, "limitFen" | "postedBalanceFen" | "openHoldsFen">): number {
  if (line.limitFen <= 0n) return 0;
  return Number(((line.postedBalanceFen + line.openHoldsFen) * 10_000n) / line.limitFen) / 10_000;
}

/**
 * Behavioural overlay points (documented in docs/scorecard.md):
 * on-time payments +4 each (max +20); late payments −15 each (max −60);
 * worst DPD reached 1–30 −30, 31–60 −60, 61–90 −90, > 90 −120; currently overdue −20;
 * utilisation ≥ 90% −20, ≥ 70% −10, ≤ 30% +5; credit-reporting score
 * (350–950): (score − 650) / 10, clamped to [−40, +20].
 */
export function behaviouralScore(line: CreditLine): { score: number; adjustments: Adjustment[] } {
  const b = line.behaviour;
  const adj: Adjustment[] = [];
  const add = (code: string, points: number) => {
    if (points !== 0) adj.push({ code, points });
  };
  add("ON_TIME_PAYMENTS", Math.min(20, 4 * b.onTimePayments));
  add("LATE_PAYMENTS", -Math.min(60, 15 * b.latePayments));
  add("DPD_REACHED", b.worstDpd <= 0 ? 0 : b.worstDpd <= 30 ? -30 : b.worstDpd <= 60 ? -60 : b.worstDpd <= 90 ? -90 : -120);
  add("CURRENTLY_OVERDUE", b.currentDpd > 0 ? -20 : 0);
  const u = utilisation(line);
  add("UTILISATION", u >= 0.9 ? -20 : u >= 0.7 ? -10 : u <= 0.3 ? 5 : 0);
  if (b.bureauScore !== null) add("CREDIT_REPORTING_SCORE", Math.max(-40, Math.min(20, Math.round((b.bureauScore - 650) / 10))));
  return { score: line.applicationScore + adj.reduce((s, a) => s + a.points, 0), adjustments: adj };
}

const rank = (t: Tier) => TIERS.indexOf(t);

function roundDownToYuan100(fen: Fen): Fen {
  return (fen / 10_000n) * 10_000n;
}

/** What triggered a rescoring; the event id of the change derives from it. */
export interface RescoreCause {
  /** The triggering event id, or `periodic:<date>` for the scheduled run. */
  readonly causeId: string;
  readonly at: Date;
  /** Business date of a periodic run (stored as lastRescoredOn). */
  readonly periodicOn?: LocalDate;
  /** Today's business date (for the cooling period after a delinquency). */
  readonly today: LocalDate;
}

/** The first business date a rescoring may increase the line again after its last delinquency, or null. */
export function lineIncreaseAllowedFrom(line: CreditLine, policy: Pick<CreditPolicy, "lineIncreaseCoolingDays">): LocalDate | null {
  const { lastOverdueOn, lastCuredOn } = line.behaviour;
  const last = [lastOverdueOn, lastCuredOn].filter((d): d is LocalDate => d !== null).sort().at(-1);
  return last === undefined ? null : addDays(last, policy.lineIncreaseCoolingDays);
}

/**
 * Rescores a line and applies the tier policy:
 * - better tier: a line frozen by rescoring is unfrozen once back in A–C; in A/B an
 *   active, unrestricted line grows to min(limit × lineIncreasePct%, the tier's line
 *   for the declared income), rounded down to ¥100 — not within the cooling period
 *   after its last delinquency (reason RESCORE_TIER_UP_COOLING_PERIOD);
 * - worse tier: E freezes the line; D cuts the limit to lineDecreasePct% (not below
 *   the product minimum); C keeps the limit.
 * Returns null when neither score nor tier changed (and it is not a periodic run).
 */
export function rescore(line: CreditLine, model: Pick<ScorecardModel, "tiers" | "lineMultipliers">, policy: CreditPolicy, cause: RescoreCause): LineUpdate | null {
  const { score } = behaviouralScore(line);
  const tier = tierForScore(model.tiers, score);
  const base: CreditLine = { ...line, score, tier, ...(cause.periodicOn ? { lastRescoredOn: cause.periodicOn } : {}) };
  if (tier === line.tier) {
    if (score === line.score && !cause.periodicOn) return null;
    return { line: base, events: [], changes: [] };
  }
  let next = base;
  let reason: string;
  if (rank(tier) < rank(line.tier)) {
    if (line.status === "FROZEN" && line.frozenBy === RESCORING_ACTOR && rank(tier) <= rank("C")) {
      next = { ...next, status: "ACTIVE", frozenBy: null };
      reason = "RESCORE_UNFREEZE";
    } else {
      const target = creditLineFor(model, tier, line.monthlyIncomeFen, { minFen: policy.minLineFen, maxFen: policy.maxLineFen });
      const grown = roundDownToYuan100((line.limitFen * BigInt(policy.lineIncreasePct)) / 100n);
      const limit = grown < target ? grown : target;
      const canGrow = (tier === "A" || tier === "B") && line.status === "ACTIVE" && !line.restriction.features.includes("LINE_INCREASES");
      const coolingUntil = lineIncreaseAllowedFrom(line, policy);
      if (canGrow && limit > line.limitFen && coolingUntil !== null && cause.today < coolingUntil) {
        reason = "RESCORE_TIER_UP_COOLING_PERIOD";
      } else if (canGrow && limit > line.limitFen) {
        next = { ...next, limitFen: limit };
        reason = "RESCORE_TIER_UP_LINE_INCREASE";
      } else reason = "RESCORE_TIER_UP";
    }
  } else if (tier === "E") {
    if (line.status === "ACTIVE") {
      next = { ...next, status: "FROZEN", frozenBy: RESCORING_ACTOR };
      reason = "RESCORE_TIER_E_FREEZE";
    } else reason = "RESCORE_TIER_DOWN";
  } else if (tier === "D") {
    const cut = roundDownToYuan100((line.limitFen * BigInt(policy.lineDecreasePct)) / 100n);
    const limit = cut < policy.minLineFen ? policy.minLineFen : cut;
    if (limit < line.limitFen) {
      next = { ...next, limitFen: limit };
      reason = "RESCORE_TIER_DOWN_LINE_DECREASE";
    } else reason = "RESCORE_TIER_DOWN";
  } else reason = "RESCORE_TIER_DOWN";
  return changed(line, next, {
    reason,
    actor: RESCORING_ACTOR,
    at: cause.at,
    eventId: deterministicId("credit.credit-line-changed", line.id, "rescore", cause.causeId),
  });
}

/** A DueSoon fact from billing. */
export interface DueSoonFact {
  readonly eventId: string;
  readonly dueDate: LocalDate;
  readonly amountDueFen: Fen;
  readonly at: Date;
}

/**
 * Reaction to DueSoon: a line in a high-risk tier (*default* D/E) approaching a
 * due date with an amount due raises `HIGH_RISK_DUE_SOON`, so collections can
 * start an early-warning (pre-delinquency) treatment and risk teams can watch the
 * accounts most likely to roll into M1. Null when no flag is due.
 */
export function flagDueSoon(line: CreditLine, d: DueSoonFact, policy: CreditPolicy): RiskFlagRaisedEvent | null {
  if (line.status === "CLOSED" || d.amountDueFen <= 0n || !policy.riskFlagTiers.includes(line.tier)) return null;
  return {
    type: "RiskFlagRaised",
    id: deterministicId("credit.risk-flag-raised", line.id, d.eventId),
    time: d.at,
    data: { creditLineId: line.id, customerId: line.customerId, tier: line.tier, flag: "HIGH_RISK_DUE_SOON", dueDate: d.dueDate, amountDueFen: d.amountDueFen },
  };
}
