/**
 * What the bureau may see of one account as of a date, independent of the file
 * format. Rules (domain.md, "Credit reporting"):
 * - delinquent only from 30 DPD (status 71+); 0–29 DPD is current (11);
 * - a negative record is reportable only when its pre-report notice was
 *   delivered and the waiting period has passed; until then the account is
 *   withheld from the file (nothing is reported rather than something untrue),
 *   and months of a not-yet-reportable delinquency show `D` (no data);
 * - negative information is purged 5 years after the delinquency ended;
 * - a cure shows as status 11/13 with the true history profile (the correction);
 * - a dispute resolved in the consumer's favour removes its negative months;
 * - compliance condition: XB while a dispute is open, XC after it was verified
 *   (consumer disagrees), XH for one cycle after a corrected resolution.
 */
import { addDays, addMonths, daysBetween, type Fen, type LocalDate } from "@whiteslip/core";
import type { AccountState, Delinquency } from "./account";
import type { ReportingPolicy } from "./policy";
import { type AccountStatusCode, type ProfileChar, statusForDpd } from "./status";

/** One account's reportable data as of a date (amounts in fen, dates ISO). */
export interface ReportLine {
  /** The account. */
  accountId: string;
  /** The customer. */
  customerId: string;
  /** Date opened. */
  openedOn: LocalDate;
  /** Credit limit. */
  creditLimitFen: Fen;
  /** Highest balance. */
  highestBalanceFen: Fen;
  /** Current balance. */
  balanceFen: Fen;
  /** Amount 30+ days past due (zero below 30 DPD). */
  pastDueFen: Fen;
  /** Days past due as reported: 0 unless the account is reported delinquent (30+ DPD, reportable) or charged off. */
  dpd: number;
  /** Payment received in the as-of month. */
  actualPaymentFen: Fen;
  /** Status code. */
  status: AccountStatusCode;
  /** Payment rating (statuses 05, 13, 65, 88, 89, 94, 95 only — none of which this product reports: blank). */
  paymentRating: string;
  /** 24 profile characters, most recent month first (the month before the as-of month). */
  profile: string;
  /** Compliance condition code or empty. */
  complianceCode: "" | "XB" | "XC" | "XH";
  /** Special comment code: `CP` (account in forbearance) during a hardship deferral, else empty. */
  specialComment: "" | "CP";
  /** Date of first delinquency (statuses 71–97): the day the account became 30 days past due (CRRG: 30 days after the due date). */
  firstDelinquencyOn: LocalDate | null;
  /** Date of last payment. */
  lastPaymentOn: LocalDate | null;
  /** Date closed (charge-off). */
  closedOn: LocalDate | null;
  /** Original charge-off amount. */
  chargedOffFen: Fen;
  /** As-of date. */
  asOf: LocalDate;
}

/** The view of an account: reported, withheld (negative record not yet reportable), or absent (not open yet). */
export type BureauView =
  | { kind: "report"; line: ReportLine }
  | { kind: "withheld"; reason: "NOTICE_NOT_DELIVERED" | "WAITING_PERIOD"; reportableFrom: LocalDate | null }
  | { kind: "absent" };

/** Reporting state names used by GetCreditScore. */
export type ReportingState = "NOT_REPORTABLE" | "NOTICE_SENT" | "WAITING_PERIOD" | "REPORTABLE" | "CURRENT";

/** True when `d`'s negative information is past the purge horizon at `asOf`. */
export function isPurged(d: Delinquency, asOf: LocalDate, rp: ReportingPolicy): boolean {
  return d.endedOn !== null && asOf >= addMonths(d.endedOn, 12 * rp.purgeAfterYears);
}

/** The first date a delinquency's negative record may be reported, or null while its notice is undelivered. */
export function reportableFrom(d: Delinquency, rp: ReportingPolicy): LocalDate | null {
  return d.noticeDeliveredOn === null ? null : addDays(d.noticeDeliveredOn, rp.waitingDays);
}

/** True when the delinquency's negative record may be reported at `asOf`. */
export function isReportable(d: Delinquency, asOf: LocalDate, rp: ReportingPolicy): boolean {
  const from = reportableFrom(d, rp);
  return from !== null && asOf >= from;
}

/**
 * Removes negative information whose delinquency ended more than the purge
 * horizon ago (delinquency records and their months). Returns the same object
 * when nothing is purged.
 */
export function purgeExpired(s: AccountState, today: LocalDate, rp: ReportingPolicy): AccountState {
  const expired = new Set(s.delinquencies.filter((d) => isPurged(d, today, rp)).map((d) => d.start));
  if (expired.size === 0) return s;
  return {
    ...s,
    delinquencies: s.delinquencies.filter((d) => !expired.has(d.start)),
    months: Object.fromEntries(Object.entries(s.months).filter(([, m]) => !expired.has(m.d))),
  };
}

/** The account as the bureau may see it on `asOf`. */
export function bureauView(s: AccountState, asOf: LocalDate, rp: ReportingPolicy): BureauView {
  const openedOn = s.openedOn ?? s.firstSeenOn;
  if (openedOn > asOf) return { kind: "absent" };
  const live = s.delinquencies.filter((d) => !isPurged(d, asOf, rp));
  const byStart = new Map(live.map((d) => [d.start, d]));
  const chargedOff = s.chargedOffOn !== null && s.chargedOffOn <= asOf;
  const running = live.at(-1)?.endedOn === null ? live.at(-1) : undefined;
  const negativeDelinquency = chargedOff ? (running ?? live.at(-1)) : s.dpd >= 30 ? running : undefined;
  const negative = negativeDelinquency !== undefined && !negativeDelinquency.corrected;

  if (negative && !isReportable(negativeDelinquency, asOf, rp)) {
    const from = reportableFrom(negativeDelinquency, rp);
    return {
      kind: "withheld",
      reason: from === null ? "NOTICE_NOT_DELIVERED" : "WAITING_PERIOD",
      reportableFrom: from,
    };
  }

  // An open revolving line is current (11) whatever its balance, zero included (CRRG: 13 is a paid or closed
  // account; a zero-balance month shows as `E` in the profile). The product closes a line only by charge-off (97).
  const status: AccountStatusCode = chargedOff ? "97" : !negative ? "11" : statusForDpd(s.dpd);
  const profile = historyProfile(s, asOf, openedOn, byStart, rp);
  const delinquent = status !== "11";
  return {
    kind: "report",
    line: {
      accountId: s.accountId,
      customerId: s.customerId,
      openedOn,
      creditLimitFen: s.creditLimitFen,
      highestBalanceFen: s.highestBalanceFen,
      balanceFen: s.balanceFen,
      pastDueFen: delinquent ? s.overdueFen : 0n,
      dpd: delinquent ? s.dpd : 0,
      actualPaymentFen:
        s.lastPaymentOn !== null &&
        s.lastPaymentOn <= asOf &&
        s.lastPaymentOn.slice(0, 7) === asOf.slice(0, 7)
          ? s.lastPaymentFen
          : 0n,
      status,
      paymentRating: "",
      profile,
      complianceCode: complianceCode(s, asOf, rp),
      specialComment: !chargedOff && s.deferredUntil && asOf <= s.deferredUntil ? "CP" : "",
      firstDelinquencyOn: delinquent && negativeDelinquency ? firstDelinquencyDate(negativeDelinquency) : null,
      lastPaymentOn: s.lastPaymentOn !== null && s.lastPaymentOn <= asOf ? s.lastPaymentOn : null,
      closedOn: chargedOff ? s.chargedOffOn : null,
      chargedOffFen: chargedOff ? s.chargedOffFen : 0n,
      asOf,
    },
  };
}

/** The reporting state for GetCreditScore at `today`. */
export function reportingState(s: AccountState, today: LocalDate, rp: ReportingPolicy): ReportingState {
  const v = bureauView(s, today, rp);
  if (v.kind === "withheld") return v.reason === "WAITING_PERIOD" ? "WAITING_PERIOD" : "NOTICE_SENT";
  if (v.kind === "absent") return "NOT_REPORTABLE";
  return v.line.status === "11" ? "CURRENT" : "REPORTABLE";
}

function historyProfile(
  s: AccountState,
  asOf: LocalDate,
  openedOn: LocalDate,
  byStart: Map<LocalDate, Delinquency>,
  rp: ReportingPolicy,
): string {
  const openedMonth = openedOn.slice(0, 7);
  const chargeOffMonth = s.chargedOffOn?.slice(0, 7);
  let out = "";
  for (let i = 1; i <= 24; i++) {
    const month = addMonths(`${asOf.slice(0, 7)}-01`, -i).slice(0, 7);
    out += monthChar(s, month, asOf, openedMonth, chargeOffMonth, byStart, rp);
  }
  return out;
}

function monthChar(
  s: AccountState,
  month: string,
  asOf: LocalDate,
  openedMonth: string,
  chargeOffMonth: string | undefined,
  byStart: Map<LocalDate, Delinquency>,
  rp: ReportingPolicy,
): ProfileChar {
  if (month < openedMonth) return "B";
  const entry = s.months[month];
  const d = entry ? byStart.get(entry.d) : undefined;
  if (chargeOffMonth !== undefined && month >= chargeOffMonth)
    return d && !isReportable(d, asOf, rp) ? "D" : "L";
  const current = zeroAtMonthEnd(s, month) ? "E" : "0";
  if (!entry || !d || d.corrected) return current;
  return isReportable(d, asOf, rp) ? entry.c : "D";
}

/** True when the last known position at or before the end of `month` had a zero balance (a month without facts carries the one before). */
function zeroAtMonthEnd(s: AccountState, month: string): boolean {
  const known = Object.keys(s.monthEndZero ?? {}).filter((m) => m <= month);
  if (known.length === 0) return false;
  return s.monthEndZero![known.reduce((a, b) => (a > b ? a : b))] === true;
}

/**
 * The CRRG's Date of First Delinquency: the date of the first 30-day delinquency that led to the status, "30 days
 * after the Due Date". Billing's delinquency start is the first day past due (DPD 1, the day after the due date),
 * so that date is the start + 29 days.
 */
export function firstDelinquencyDate(d: Delinquency): LocalDate {
  return addDays(d.start, 29);
}

function complianceCode(s: AccountState, asOf: LocalDate, rp: ReportingPolicy): ReportLine["complianceCode"] {
  const known = s.disputes.filter((d) => d.filedOn <= asOf);
  if (known.some((d) => d.status === "OPEN" || (d.resolvedOn !== null && d.resolvedOn > asOf))) return "XB";
  const last = known.filter((d) => d.resolvedOn !== null).at(-1);
  if (!last) return "";
  if (last.status === "RESOLVED_VERIFIED") return "XC";
  return daysBetween(last.resolvedOn!, asOf) < rp.resolvedDisputeReportDays ? "XH" : "";
}
