/**
 * Applies one fact to the aggregate: the reporting state (position, month
 * history, delinquencies) and the score. Issues the pre-report notice once per
 * delinquency, when the account first reaches the negative-record DPD (or is
 * charged off without one), before anything negative can be reported.
 */
import { addDays, addMonths, deterministicId, type LocalDate } from "@whiteslip/core";
import {
  type AccountState,
  currentDelinquency,
  type Delinquency,
  newAccount,
  type ScoreChange,
} from "./account";
import type { AccountFact, ChargedOffFact, OverdueFact } from "./facts";
import type { ReportingPolicy, ScorePolicy } from "./policy";
import { onChargedOff, onCured, onOverdue, onPayment, type ScoreOutcome } from "./score";
import { type ProfileChar, profileCharForDpd, worseProfileChar } from "./status";

/** The pre-report notice (NegativeReportPending) to publish. */
export interface NegativeReportNotice {
  /** Notice id; also the event id, which notification echoes as `ref.fact_id` on delivery. */
  noticeId: string;
  /** The account. */
  accountId: string;
  /** The customer. */
  customerId: string;
  /** DPD when issued. */
  dpd: number;
  /** Overdue amount when issued. */
  overdueFen: bigint;
  /** Earliest report date if delivered at once. */
  earliestReportDate: LocalDate;
  /** The bureau. */
  bureau: string;
  /** Instant of the triggering fact. */
  at: Date;
}

/** What a fact did. */
export interface FactOutcome {
  /** The aggregate after the fact. */
  state: AccountState;
  /** The score change, if the score moved. */
  change: ScoreChange | null;
  /** The notice to publish, if one was issued. */
  notice: NegativeReportNotice | null;
  /** False when the fact changed nothing (stale or irrelevant). */
  changed: boolean;
}

/** The notice id of a delinquency: one per account delinquency, forever. */
export function noticeIdFor(accountId: string, delinquencyStart: LocalDate): string {
  return deterministicId("negative-report-pending", accountId, delinquencyStart);
}

/**
 * Applies `fact` to `prev` (null for an account not seen yet). A notice-delivered
 * fact for an account not seen yet changes nothing.
 */
export function applyFact(
  prev: AccountState | null,
  accountId: string,
  fact: AccountFact,
  sp: ScorePolicy,
  rp: ReportingPolicy,
): FactOutcome | null {
  if (fact.kind === "noticeDelivered") {
    if (!prev) return null;
    const s = clone(prev);
    const d = s.delinquencies.find((x) => x.noticeId === fact.noticeId);
    if (!d || d.noticeDeliveredOn !== null)
      return { state: prev, change: null, notice: null, changed: false };
    d.noticeDeliveredOn = fact.deliveredOn;
    return { state: s, change: null, notice: null, changed: true };
  }
  const s = prev ? clone(prev) : newAccount(accountId, fact.customerId, fact.businessDate, sp.initial);
  if (!s.customerId) s.customerId = fact.customerId;
  const fresh = fact.businessDate >= s.positionDate;
  let score: ScoreOutcome = { state: s.score, change: null };
  let notice: NegativeReportNotice | null = null;

  switch (fact.kind) {
    case "opened":
      s.openedOn ??= fact.businessDate;
      break;
    case "creditLimit":
      s.creditLimitFen = fact.limitFen;
      break;
    case "purchase":
      if (fresh) setPosition(s, fact.businessDate, s.dpd, s.overdueFen, fact.balanceFen);
      break;
    case "overdue": {
      const known = s.delinquencies.find((d) => d.start === fact.delinquencyStart);
      // An Overdue of a delinquency already cured arrived late: it changes nothing.
      if (prev && known && known.endedOn !== null)
        return { state: prev, change: null, notice: null, changed: false };
      const d = known ?? openDelinquency(s, fact.delinquencyStart, fact.businessDate);
      d.maxDpd = Math.max(d.maxDpd, fact.dpd);
      if (fresh) setPosition(s, fact.businessDate, fact.dpd, fact.overdueFen, fact.balanceFen);
      markMonth(s, fact.businessDate, fact.dpd >= 30 ? profileCharForDpd(fact.dpd) : null, d.start);
      if (fact.dpd >= rp.noticeAtDpd) notice = issueNotice(s, d, fact, rp);
      score = onOverdue(s.score, fact, sp);
      break;
    }
    case "payment":
      if (s.lastPaymentOn === null || fact.businessDate >= s.lastPaymentOn) {
        s.lastPaymentOn = fact.businessDate;
        s.lastPaymentFen = fact.amountFen;
      }
      if (fresh) setPosition(s, fact.businessDate, fact.dpdAfter, fact.overdueAfterFen, fact.balanceAfterFen);
      score = onPayment(s.score, fact, sp);
      break;
    case "cured": {
      const d = s.delinquencies.find((x) => x.start === fact.delinquencyStart) ?? currentDelinquency(s);
      if (d && d.endedOn === null) d.endedOn = fact.businessDate;
      if (fresh) setPosition(s, fact.businessDate, 0, 0n, s.balanceFen);
      score = onCured(s.score, fact, sp);
      break;
    }
    case "deferred":
      if (!s.deferredUntil || fact.dueDate > s.deferredUntil) s.deferredUntil = fact.dueDate;
      break;
    case "chargedOff": {
      const d =
        s.delinquencies.find((x) => x.start === fact.delinquencyStart) ??
        openDelinquency(s, fact.delinquencyStart, fact.businessDate);
      d.maxDpd = Math.max(d.maxDpd, fact.dpd);
      s.chargedOffOn ??= fact.businessDate;
      if (s.chargedOffFen === 0n) s.chargedOffFen = fact.chargedOffFen;
      if (fresh) setPosition(s, fact.businessDate, fact.dpd, fact.chargedOffFen, fact.chargedOffFen);
      markMonth(s, fact.businessDate, "L", d.start);
      notice = issueNotice(s, d, { ...fact, overdueFen: fact.chargedOffFen }, rp);
      score = onChargedOff(s.score, fact, sp);
      break;
    }
  }
  s.score = score.state;
  if (score.change) s.history.push(score.change);
  return { state: s, change: score.change, notice, changed: true };
}

function setPosition(
  s: AccountState,
  date: LocalDate,
  dpd: number,
  overdueFen: bigint,
  balanceFen: bigint,
): void {
  s.positionDate = date;
  s.dpd = dpd;
  s.overdueFen = overdueFen;
  s.balanceFen = balanceFen;
  if (balanceFen > s.highestBalanceFen) s.highestBalanceFen = balanceFen;
  // the last position of a month is its month-end balance (Metro 2 profile `E`: zero balance and current)
  const month = date.slice(0, 7);
  const oldest = addMonths(`${month}-01`, -25).slice(0, 7);
  s.monthEndZero = Object.fromEntries(
    Object.entries({ ...(s.monthEndZero ?? {}), [month]: balanceFen === 0n }).filter(([m]) => m >= oldest),
  );
}

function openDelinquency(s: AccountState, start: LocalDate, date: LocalDate): Delinquency {
  // A running delinquency with another start means its cure was missed: it ended when the new one began.
  const running = currentDelinquency(s);
  if (running && running.start !== start) running.endedOn = start < running.start ? date : start;
  const d: Delinquency = {
    start,
    endedOn: null,
    maxDpd: 0,
    noticeId: null,
    noticeSentOn: null,
    noticeDeliveredOn: null,
    corrected: false,
  };
  s.delinquencies.push(d);
  s.delinquencies.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  return d;
}

function markMonth(
  s: AccountState,
  date: LocalDate,
  c: ProfileChar | null,
  delinquencyStart: LocalDate,
): void {
  if (c === null) return;
  const key = date.slice(0, 7);
  const prev = s.months[key];
  const worst = worseProfileChar(prev?.c, c);
  s.months[key] = { c: worst, d: worst === prev?.c ? prev.d : delinquencyStart };
}

function issueNotice(
  s: AccountState,
  d: Delinquency,
  f: Pick<OverdueFact | ChargedOffFact, "dpd" | "businessDate" | "at"> & { overdueFen: bigint },
  rp: ReportingPolicy,
): NegativeReportNotice | null {
  if (d.noticeId !== null || d.corrected) return null;
  d.noticeId = noticeIdFor(s.accountId, d.start);
  d.noticeSentOn = f.businessDate;
  return {
    noticeId: d.noticeId,
    accountId: s.accountId,
    customerId: s.customerId,
    dpd: f.dpd,
    overdueFen: f.overdueFen,
    earliestReportDate: addDays(f.businessDate, rp.waitingDays),
    bureau: rp.bureau,
    at: f.at,
  };
}

/** A deep copy of the aggregate (structuredClone keeps bigint and Date). */
export function clone(s: AccountState): AccountState {
  return structuredClone(s);
}
