/**
 * The internal score engine (350–950). It moves down when DPD thresholds are
 * crossed — once per threshold per delinquency, not once per day — deeper for
 * deeper delinquency and larger overdue amounts; it moves down at charge-off;
 * it moves up slowly: small gains for on-time payments and cures, capped per
 * calendar month, with a lower cap during recovery after a cure. Every change
 * carries reason codes whose points sum to the change.
 */
import { addMonths, deterministicId, type LocalDate } from "@whiteslip/core";
import type { ScoreChange, ScoreReason, ScoreState } from "./account";
import type { ChargedOffFact, CuredFact, OverdueFact, PaymentFact } from "./facts";
import type { AmountTier, ScorePolicy } from "./policy";

/** The outcome of one fact on the score: the new state and the change, or null when the score did not move. */
export interface ScoreOutcome {
  /** State after the fact (counters may move even when the score does not). */
  state: ScoreState;
  /** The change, if the score moved. */
  change: ScoreChange | null;
}

/** The change id for an event: the same event always yields the same id. */
export function scoreChangeId(eventId: string): string {
  return deterministicId("score-change", eventId);
}

/** Drops for every threshold in (`thresholdCharged`, `dpd`], deepened by the amount tier. */
export function onOverdue(s: ScoreState, f: OverdueFact, p: ScorePolicy): ScoreOutcome {
  if (s.chargedOff) return { state: s, change: null };
  // A new delinquency (a cure was missed or arrived late): thresholds start again.
  const charged = s.delinquencyStart === f.delinquencyStart ? s.thresholdCharged : 0;
  const crossed = p.thresholds.filter((t) => t.dpd > charged && t.dpd <= f.dpd);
  const state: ScoreState = {
    ...s,
    delinquencyStart: f.delinquencyStart,
    thresholdCharged: Math.max(charged, f.dpd),
  };
  if (crossed.length === 0) return { state, change: null };
  const reasons: ScoreReason[] = crossed.map((t) => ({
    code: `DPD_${t.dpd}_CROSSED`,
    description: `Account reached ${t.dpd} day${t.dpd === 1 ? "" : "s"} past due`,
    points: -t.points,
  }));
  const tier = amountTier(p, f.overdueFen);
  if (tier) {
    const extra = crossed.reduce((sum, t) => sum + Math.round((t.points * tier.extraPercent) / 100), 0);
    reasons.push({
      code: tier.code,
      description: `Overdue amount of ${f.overdueFen} fen deepens the drop by ${tier.extraPercent}%`,
      points: -extra,
    });
  }
  return finish(state, reasons, f, p);
}

/** A small gain for an on-time payment made while current, within the month's cap. */
export function onPayment(s: ScoreState, f: PaymentFact, p: ScorePolicy): ScoreOutcome {
  if (s.chargedOff || !f.onTime || f.dpdBefore > 0 || s.thresholdCharged > 0)
    return { state: s, change: null };
  return gain(s, f, p, p.onTimeGain, "ON_TIME_PAYMENT", "Payment made on time");
}

/** The delinquency ended: thresholds reset, recovery starts, a small capped gain. */
export function onCured(s: ScoreState, f: CuredFact, p: ScorePolicy): ScoreOutcome {
  if (s.chargedOff) return { state: s, change: null };
  const state: ScoreState = { ...s, thresholdCharged: 0, delinquencyStart: null, curedOn: f.businessDate };
  return gain(
    state,
    f,
    p,
    p.cureGain,
    "ACCOUNT_CURED",
    `Overdue amounts paid after ${f.previousDpd} days past due`,
  );
}

/** Charge-off: a deep drop (deepened by the amount), and no more movement from payment behaviour. */
export function onChargedOff(s: ScoreState, f: ChargedOffFact, p: ScorePolicy): ScoreOutcome {
  if (s.chargedOff) return { state: s, change: null };
  const state: ScoreState = {
    ...s,
    chargedOff: true,
    delinquencyStart: f.delinquencyStart,
    thresholdCharged: Math.max(s.thresholdCharged, f.dpd),
  };
  const reasons: ScoreReason[] = [
    {
      code: "CHARGED_OFF",
      description: `Balance charged off as bad debt at ${f.dpd} days past due`,
      points: -p.chargeOffDrop,
    },
  ];
  const tier = amountTier(p, f.chargedOffFen);
  if (tier) {
    reasons.push({
      code: tier.code,
      description: `Charged-off amount of ${f.chargedOffFen} fen deepens the drop by ${tier.extraPercent}%`,
      points: -Math.round((p.chargeOffDrop * tier.extraPercent) / 100),
    });
  }
  return finish(state, reasons, f, p);
}

/** True while `date` is within the recovery window after the last cure. */
export function inRecovery(s: ScoreState, date: LocalDate, p: ScorePolicy): boolean {
  return s.curedOn !== null && date < addMonths(s.curedOn, p.recoveryMonths);
}

function gain(
  s: ScoreState,
  f: PaymentFact | CuredFact,
  p: ScorePolicy,
  points: number,
  code: string,
  description: string,
): ScoreOutcome {
  const month = f.businessDate.slice(0, 7);
  const gained = s.gainMonth === month ? s.gainedInMonth : 0;
  const recovering = inRecovery(s, f.businessDate, p);
  const cap = recovering ? p.recoveryMonthlyGainCap : p.monthlyGainCap;
  const room = Math.max(0, Math.min(points, cap - gained, p.max - s.value));
  const state: ScoreState = { ...s, gainMonth: month, gainedInMonth: gained + room };
  if (room === 0) return { state: { ...s }, change: null };
  const note =
    room < points ? ` (capped: at most ${cap} points a month${recovering ? " during recovery" : ""})` : "";
  return finish(
    state,
    [{ code: recovering ? `${code}_RECOVERY` : code, description: description + note, points: room }],
    f,
    p,
  );
}

function finish(
  state: ScoreState,
  reasons: ScoreReason[],
  f: { eventId: string; at: Date; businessDate: LocalDate },
  p: ScorePolicy,
): ScoreOutcome {
  const delta = reasons.reduce((sum, r) => sum + r.points, 0);
  const raw = state.value + delta;
  const score = Math.min(p.max, Math.max(p.min, raw));
  if (score !== raw) {
    reasons.push({
      code: score === p.min ? "SCORE_FLOOR" : "SCORE_CEILING",
      description: `Score is kept within ${p.min}–${p.max}`,
      points: score - raw,
    });
  }
  if (score === state.value) return { state, change: null };
  const change: ScoreChange = {
    changeId: scoreChangeId(f.eventId),
    previousScore: state.value,
    score,
    reasons,
    changedAt: f.at,
    businessDate: f.businessDate,
    causeEventId: f.eventId,
  };
  return { state: { ...state, value: score }, change };
}

function amountTier(p: ScorePolicy, amount: bigint): AmountTier | undefined {
  return p.amountTiers.find((t) => amount >= t.minFen);
}
