/**
 * The credit-reporting aggregate: one per credit account. It holds the
 * internal score with its history, and the bureau reporting state (balances,
 * delinquencies with their pre-report notices, month-by-month history,
 * disputes). Pure data; transitions live in score.ts, reporting.ts, disputes.ts.
 */
import type { Fen, LocalDate } from "@whiteslip/core";
import type { ProfileChar } from "./status";

/** One reason of a score change. */
export interface ScoreReason {
  /** Stable code, e.g. `DPD_30_CROSSED`. */
  code: string;
  /** Human-readable explanation. */
  description: string;
  /** Points this reason moved the score (negative for drops). The points of a change sum to its delta. */
  points: number;
}

/** One entry of the score history. */
export interface ScoreChange {
  /** Derived from the triggering event id, so one event makes at most one change. */
  changeId: string;
  /** Score before. */
  previousScore: number;
  /** Score after. */
  score: number;
  /** Why. */
  reasons: ScoreReason[];
  /** When the triggering fact happened. */
  changedAt: Date;
  /** Business date of the triggering fact. */
  businessDate: LocalDate;
  /** The event that caused it. */
  causeEventId: string;
}

/** Score state between events. */
export interface ScoreState {
  /** Current score. */
  value: number;
  /** Highest DPD threshold already charged in the current delinquency (0 = none). */
  thresholdCharged: number;
  /** Start of the delinquency the thresholds belong to. */
  delinquencyStart: LocalDate | null;
  /** True once charged off: no more drops or gains from payment behaviour. */
  chargedOff: boolean;
  /** Date of the last cure (recovery runs from it). */
  curedOn: LocalDate | null;
  /** Month (`YYYY-MM`) the gain counter is for. */
  gainMonth: string;
  /** Points gained in `gainMonth`. */
  gainedInMonth: number;
}

/** One delinquency of the account and its pre-report notice. */
export interface Delinquency {
  /** First day of the delinquency (billing's `delinquency_start_date`). */
  start: LocalDate;
  /** Date it ended (cure), or null while running. */
  endedOn: LocalDate | null;
  /** Deepest DPD seen. */
  maxDpd: number;
  /** Pre-report notice id (the NegativeReportPending event id), once sent. */
  noticeId: string | null;
  /** Business date the notice was issued. */
  noticeSentOn: LocalDate | null;
  /** Business date notification reported the notice delivered. */
  noticeDeliveredOn: LocalDate | null;
  /** True when a dispute resolved in the consumer's favour removed it. */
  corrected: boolean;
}

/** Dispute states. */
export type DisputeStatus = "OPEN" | "RESOLVED_CORRECTED" | "RESOLVED_VERIFIED";

/** A consumer dispute of reported information. */
export interface Dispute {
  /** Dispute id (derived from the account and the client's idempotency key). */
  disputeId: string;
  /** The client's idempotency key. */
  idempotencyKey: string;
  /** Status. */
  status: DisputeStatus;
  /** Consumer's statement. */
  reason: string;
  /** When filed. */
  filedAt: Date;
  /** Business date filed. */
  filedOn: LocalDate;
  /** When resolved. */
  resolvedAt: Date | null;
  /** Business date resolved. */
  resolvedOn: LocalDate | null;
  /** Resolution note. */
  resolution: string;
}

/** The worst status of one month and the delinquency it belongs to. */
export interface MonthEntry {
  /** Profile character (`1`–`6`, `L`); months without an entry were current. */
  c: ProfileChar;
  /** Start of the delinquency that made it. */
  d: LocalDate;
}

/** The aggregate. */
export interface AccountState {
  /** The account (= credit line) id. */
  accountId: string;
  /** The customer. */
  customerId: string;
  /** Business date of opening; null until AccountOpened is seen. */
  openedOn: LocalDate | null;
  /** Business date of the first fact seen (stands in for the opening date if AccountOpened was missed). */
  firstSeenOn: LocalDate;
  /** Credit limit. */
  creditLimitFen: Fen;
  /** Highest balance seen. */
  highestBalanceFen: Fen;
  /** Current balance. */
  balanceFen: Fen;
  /** Amount past due. */
  overdueFen: Fen;
  /** Days past due. */
  dpd: number;
  /** Business date of the last fact that set the position (balance, DPD). */
  positionDate: LocalDate;
  /** Last payment. */
  lastPaymentOn: LocalDate | null;
  /** Amount of the last payment. */
  lastPaymentFen: Fen;
  /** Charge-off date and amount. */
  chargedOffOn: LocalDate | null;
  chargedOffFen: Fen;
  /** Worst status per month `YYYY-MM` (negative months only). */
  months: Record<string, MonthEntry>;
  /** Delinquencies, oldest first. */
  delinquencies: Delinquency[];
  /** Disputes, oldest first. */
  disputes: Dispute[];
  /** Score state. */
  score: ScoreState;
  /** Score history, oldest first. */
  history: ScoreChange[];
  /** Last day of a hardship deferral (forbearance), if one was granted; absent on older documents. */
  deferredUntil?: LocalDate | null;
  /** Whether the balance was zero at the end of each month `YYYY-MM` (the last position of the month), the last 25 months; absent on older documents. */
  monthEndZero?: Record<string, boolean>;
}

/** A new aggregate for an account first seen on `date`. */
export function newAccount(
  accountId: string,
  customerId: string,
  date: LocalDate,
  initialScore: number,
): AccountState {
  return {
    accountId,
    customerId,
    openedOn: null,
    firstSeenOn: date,
    creditLimitFen: 0n,
    highestBalanceFen: 0n,
    balanceFen: 0n,
    overdueFen: 0n,
    dpd: 0,
    positionDate: date,
    lastPaymentOn: null,
    lastPaymentFen: 0n,
    chargedOffOn: null,
    chargedOffFen: 0n,
    months: {},
    delinquencies: [],
    disputes: [],
    score: {
      value: initialScore,
      thresholdCharged: 0,
      delinquencyStart: null,
      chargedOff: false,
      curedOn: null,
      gainMonth: "",
      gainedInMonth: 0,
    },
    history: [],
  };
}

/** The running (not ended) delinquency, if any. */
export function currentDelinquency(s: AccountState): Delinquency | undefined {
  const last = s.delinquencies.at(-1);
  return last && last.endedOn === null ? last : undefined;
}
