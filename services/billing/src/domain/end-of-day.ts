/**
 * End-of-day for one account and one business date D, in the order of the
 * domain rules: close the statement whose statement day is D; accrue interest
 * and fees; move buckets; DueSoon for every unpaid due on D + N (N in the
 * reminder offsets); Overdue while delinquent; charge off at the limit.
 * Pure: returns a changed copy, its events and what it counted; the caller
 * stores all of it in one single-document update that also sets the account's
 * `eodDate = D` marker, so a replay of D is a no-op.
 */
import { addDays, addMonths, applyPpm, compareDates, dayOfMonth, daysBetween, type Fen, isLocalDate, type LocalDate, zonedInstant } from "@whiteslip/core";
import {
  type Account,
  balancesOf,
  bucketAt,
  cloneAccount,
  costAllowance,
  type Due,
  isDelinquentDue,
  MAX_PROCESSED_KEYS,
  MAX_SETTLED_STATEMENTS,
  openDues,
  type Parts,
  partsTotal,
  prune,
  zeroParts,
} from "./account";
import { type Bucket, bucketFor } from "./delinquency";
import { type BillingEvent, bucketToProto, eventIds } from "./events";
import { takeWaterfall } from "./ledger";
import type { ProductConfig } from "./product";

/** What one account contributed to a run. */
export interface EodCounts {
  /** Statements issued. */
  statementsIssued: number;
  /** DueSoon events. */
  dueSoon: number;
  /** Overdue events. */
  overdue: number;
  /** Charge-offs. */
  chargedOff: number;
  /** Late fees charged. */
  lateFees: number;
}

/** Portfolio contribution of one account at D (after its end-of-day). */
export interface EodSnapshot {
  /** Bucket at D. */
  bucket: Bucket;
  /** Bucket one month earlier (undefined if the account did not exist). */
  bucketMonthAgo?: Bucket;
  /** Total balance (0 for a charged-off account: off the book). */
  balance: Fen;
  /** Balance written off today. */
  chargedOffFen: Fen;
  /** Unpaid amounts by future due date. */
  inflows: { date: LocalDate; amount: Fen }[];
}

/** Result of one account's end-of-day. */
export interface AccountEod {
  /** The account after D. */
  account: Account;
  /** Events of D. */
  events: BillingEvent[];
  /** Counts. */
  counts: EodCounts;
  /** Portfolio snapshot. */
  snapshot: EodSnapshot;
}

/** Statement id: `<account id>:<statement date>`. */
export function statementIdOf(accountId: string, statementDate: LocalDate): string {
  return `${accountId}:${statementDate}`;
}

/** Minimum payment of new parts under the product rule, never above the total. */
export function minimumPaymentOf(parts: Parts, p: ProductConfig): Fen {
  const total = partsTotal(parts);
  if (p.minimumPayment.kind === "full") return total;
  const m = applyPpm(parts.principal, p.minimumPayment.principalPpm) + parts.fees + parts.penaltyInterest + parts.installmentFees + parts.interest;
  return m < total ? m : total;
}

/** Closes the open cycle into a statement due on D + grace days; returns the new due, or undefined when nothing was billed. */
export function closeStatement(a: Account, date: LocalDate, p: ProductConfig): { due: Due; event: BillingEvent } | undefined {
  const id = statementIdOf(a.id, date);
  const parts = zeroParts();
  let installmentPrincipal = 0n;
  for (const s of a.installments) {
    const portion = s.portions.shift() ?? 0n;
    installmentPrincipal += portion;
    parts.installmentFees += s.feePerMonth;
  }
  a.installments = a.installments.filter((s) => s.portions.length > 0);
  a.costCharged += parts.installmentFees;
  parts.principal = a.cyclePurchases + installmentPrincipal + a.carriedPrincipal;
  parts.interest = a.cycleInterest;
  const previousBalance = openDues(a).reduce((s, d) => s + partsTotal(d.unpaid), 0n);
  const info = {
    statementDate: date,
    periodStart: a.cycleStart,
    purchases: a.cyclePurchases,
    installmentPrincipal,
    installmentFees: parts.installmentFees,
    revolving: a.carriedPrincipal + a.cycleInterest,
    feesAndPenalties: a.cycleFeesAndPenalties,
    previousBalance,
  };
  for (const pu of a.purchases) if (pu.billedOn === undefined && (pu.months === 0 || installmentPrincipal > 0n)) pu.billedOn = id;
  a.cyclePurchases = 0n;
  a.cycleInterest = 0n;
  a.carriedPrincipal = 0n;
  a.cycleFeesAndPenalties = 0n;
  a.cycleStart = addDays(date, 1);
  const amountDue = partsTotal(parts);
  if (amountDue === 0n) return undefined;
  const due: Due = {
    id,
    kind: "statement",
    dueDate: addDays(date, p.graceDays),
    amountDue,
    minimumPayment: minimumPaymentOf(parts, p),
    unpaid: parts,
    missed: false,
    lateFeeCharged: false,
    rolled: 0n,
    statement: info,
  };
  if (a.creditBalance > 0n) {
    const left = takeWaterfall(due.unpaid, a.creditBalance, zeroParts());
    a.creditBalance = left;
    if (partsTotal(due.unpaid) === 0n) due.settledDate = date;
  }
  a.dues.push(due);
  return { due, event: { type: "StatementIssued", id: eventIds.statementIssued(id), key: a.id, data: { accountId: a.id, customerId: a.customerId, statement: statementToProto(a.id, due) } } };
}

/** The protobuf init shape of a statement due. */
export function statementToProto(accountId: string, d: Due) {
  const s = d.statement!;
  return {
    statementId: d.id,
    accountId,
    statementDate: s.statementDate,
    periodStart: s.periodStart,
    dueDate: d.dueDate,
    purchasesFen: s.purchases,
    installmentPrincipalFen: s.installmentPrincipal,
    installmentFeesFen: s.installmentFees,
    feesAndPenaltiesFen: s.feesAndPenalties,
    previousBalanceFen: s.previousBalance,
    amountDueFen: d.amountDue,
    minimumPaymentFen: d.minimumPayment,
    unpaidFen: partsTotal(d.unpaid),
    paidDate: d.settledDate !== undefined && d.rolled === 0n ? d.settledDate : "",
    revolvingFen: s.revolving,
  };
}

/** Charges up to `amount` within the cost cap; returns what was charged. */
function chargeCapped(a: Account, amount: Fen, p: ProductConfig): Fen {
  const allowed = costAllowance(a, p);
  const t = amount < allowed ? amount : allowed;
  a.costCharged += t;
  return t;
}

/** Runs end-of-day D for one active account. */
export function endOfDayForAccount(acc: Account, date: LocalDate, p: ProductConfig): AccountEod {
  const a = cloneAccount(acc);
  const events: BillingEvent[] = [];
  const counts: EodCounts = { statementsIssued: 0, dueSoon: 0, overdue: 0, chargedOff: 0, lateFees: 0 };

  // 1. Close the statement whose statement day is D.
  if (dayOfMonth(date) === a.statementDay && compareDates(a.cycleStart, date) <= 0) {
    const closed = closeStatement(a, date, p);
    if (closed) {
      events.push(closed.event);
      counts.statementsIssued++;
    }
  }

  // 2. Accrue: principal·days for the cost cap, then settle passed due dates, late fees, penalty and revolving interest.
  a.principalDays += balancesOf(a, date, p).principal;
  for (const d of openDues(a)) {
    if (compareDates(d.dueDate, date) >= 0 || d.missed) continue;
    if (isDelinquentDue(d, date, p)) {
      d.missed = true;
    } else {
      // Minimum met (or residue within tolerance): the rest revolves onto the next statement.
      const rest = partsTotal(d.unpaid);
      a.carriedPrincipal += rest;
      d.rolled += rest;
      d.unpaid = zeroParts();
      d.settledDate = date;
    }
  }
  for (const d of openDues(a)) {
    if (!d.missed) continue;
    if (!d.lateFeeCharged) {
      d.lateFeeCharged = true;
      let fee = applyPpm(partsTotal(d.unpaid), p.lateFeePpm);
      if (fee < p.lateFeeMinFen) fee = p.lateFeeMinFen;
      const charged = chargeCapped(a, fee, p);
      if (charged > 0n) {
        d.unpaid.fees += charged;
        a.cycleFeesAndPenalties += charged;
        counts.lateFees++;
      }
    }
    const penalty = chargeCapped(a, applyPpm(d.unpaid.principal, p.penaltyInterestPpmPerDay), p);
    d.unpaid.penaltyInterest += penalty;
    a.cycleFeesAndPenalties += penalty;
  }
  if (a.carriedPrincipal > 0n) a.cycleInterest += chargeCapped(a, applyPpm(a.carriedPrincipal, p.revolvingInterestPpmPerDay), p);

  // 3. Move buckets.
  const oldest = openDues(a).find((d) => isDelinquentDue(d, date, p));
  a.dpd = oldest ? daysBetween(oldest.dueDate, date) : 0;
  a.bucket = bucketFor(a.dpd, p.chargeOffDpd);
  if (a.dpd === 0) delete a.delinquencyStartDate;
  else if (!a.delinquencyStartDate) a.delinquencyStartDate = addDays(oldest!.dueDate, 1);
  const lastLogged = a.bucketLog[a.bucketLog.length - 1]?.bucket;
  if (a.bucket !== lastLogged) a.bucketLog.push({ date, bucket: a.bucket });

  // 4. DueSoon for every unpaid due on D + N.
  for (const d of openDues(a)) {
    const unpaid = partsTotal(d.unpaid);
    if (unpaid === 0n || d.missed) continue;
    const n = daysBetween(date, d.dueDate);
    if (!p.reminderOffsets.includes(n)) continue;
    const paid = d.amountDue - unpaid;
    const minimumLeft = d.minimumPayment - paid > 0n ? d.minimumPayment - paid : 0n;
    events.push({
      type: "DueSoon",
      id: eventIds.dueSoon(d.id, n),
      key: a.id,
      data: {
        accountId: a.id,
        customerId: a.customerId,
        statementId: d.id,
        dueDate: d.dueDate,
        daysUntilDue: n,
        amountDueFen: unpaid,
        minimumPaymentFen: minimumLeft,
        businessDate: date,
        productCode: a.productCode,
      },
    });
    counts.dueSoon++;
  }

  // 5. Overdue while delinquent.
  const bal = balancesOf(a, date, p);
  if (a.dpd > 0) {
    events.push({
      type: "Overdue",
      id: eventIds.overdue(a.id, date),
      key: a.id,
      data: {
        accountId: a.id,
        customerId: a.customerId,
        businessDate: date,
        daysPastDue: a.dpd,
        bucket: bucketToProto(a.bucket),
        oldestDueDate: oldest!.dueDate,
        overdueFen: bal.overdue,
        totalBalanceFen: bal.total,
        feesFen: bal.fees,
        penaltyInterestFen: bal.penaltyInterest,
        delinquencyStartDate: a.delinquencyStartDate ?? "",
        productCode: a.productCode,
      },
    });
    counts.overdue++;
  }

  // 6. Charge off at the limit.
  let chargedOffFen = 0n;
  if (a.dpd >= p.chargeOffDpd) {
    a.status = "CHARGED_OFF";
    a.chargedOffDate = date;
    a.chargedOffFen = bal.total;
    chargedOffFen = bal.total;
    events.push({
      type: "ChargedOff",
      id: eventIds.chargedOff(a.id),
      key: a.id,
      data: { accountId: a.id, customerId: a.customerId, businessDate: date, daysPastDue: a.dpd, chargedOffFen: bal.total, delinquencyStartDate: a.delinquencyStartDate ?? "" },
    });
    counts.chargedOff++;
  }

  a.eodDate = date;
  prune(a);
  a.version++;
  return { account: a, events, counts, snapshot: { ...snapshotOf(a, date, p, chargedOffFen), bucketMonthAgo: bucketAt(acc, addMonths(date, -1)) } };
}

/**
 * The end-of-day rule of time: business date D may be closed only once D has ended in the business time
 * zone, plus a cutoff that lets the day's last transactions land (payments accepted at 23:59:59 that
 * commit a moment later). Returns the earliest instant end-of-day of D may run.
 */
export function endOfDayNotBefore(date: LocalDate, timeZone: string, cutoffMs: number): Date {
  return new Date(zonedInstant(addDays(date, 1), 0, 0, timeZone).getTime() + cutoffMs);
}

/** Longest gap an account's end-of-day may catch up in one run (a year); longer means corrupt data. */
export const MAX_CATCH_UP_DAYS = 366;

/**
 * Runs every end-of-day an account has not been through, up to and including `date` — one day for an
 * account that went through yesterday, more for one whose last action was days ago (sparse end-of-day),
 * or that was quarantined and is retried on a later date. Days without work (`nextActionDate`) are
 * skipped in closed form (`advanceIdle`); the days with work run in order so nothing is skipped. With
 * `dayByDay`, every day runs (the reference the property test compares with). Events and counts are
 * those of all the days, the snapshot that of `date`. Throws (for quarantine) when the account's own
 * data cannot be run.
 */
export function endOfDayThrough(acc: Account, date: LocalDate, p: ProductConfig, opts: { dayByDay?: boolean } = {}): AccountEod {
  if (!isLocalDate(acc.eodDate)) throw new RangeError(`account ${acc.id} has no valid end-of-day date (${JSON.stringify(acc.eodDate)})`);
  const gap = daysBetween(acc.eodDate, date);
  if (gap < 1) throw new RangeError(`account ${acc.id} is already through ${acc.eodDate}, not before ${date}`);
  if (gap > MAX_CATCH_UP_DAYS) throw new RangeError(`account ${acc.id} is ${gap} days behind (through ${acc.eodDate}); more than ${MAX_CATCH_UP_DAYS} days cannot be caught up in one run`);
  let cur = cloneAccount(acc);
  const events: BillingEvent[] = [];
  const counts: EodCounts = { statementsIssued: 0, dueSoon: 0, overdue: 0, chargedOff: 0, lateFees: 0 };
  let last: AccountEod | undefined;
  let lastDay: LocalDate | undefined;
  while (compareDates(cur.eodDate, date) < 0) {
    if (cur.status !== "ACTIVE") break; // charged off on a caught-up day: nothing more to run
    let d = addDays(cur.eodDate, 1);
    if (!opts.dayByDay) {
      const next = nextActionDate(cur, p);
      if (next === undefined || compareDates(next, date) > 0) {
        advanceIdle(cur, date, p);
        break;
      }
      if (compareDates(next, d) > 0) {
        advanceIdle(cur, addDays(next, -1), p);
        d = next;
      }
    }
    last = endOfDayForAccount(cur, d, p);
    lastDay = d;
    events.push(...last.events);
    for (const k of Object.keys(counts) as (keyof EodCounts)[]) counts[k] += last.counts[k];
    cur = last.account;
  }
  if (!last) cur.version++; // only idle days: still a change of the stored account
  // A caught-up account that was charged off on an earlier day still ends at `date` (off the book).
  cur.eodDate = date;
  const snapshot = last && (lastDay === date || cur.status !== "ACTIVE") ? last.snapshot : snapshotOf(cur, date, p, 0n);
  if (cur.status === "ACTIVE") cur.nextActionDate = nextActionDate(cur, p);
  else delete cur.nextActionDate;
  assertInt64(cur, `account ${acc.id}`);
  return { account: cur, events, counts, snapshot };
}

/** The portfolio contribution of an account at `date` (after its end-of-day of `date`). */
export function snapshotOf(a: Account, date: LocalDate, p: ProductConfig, chargedOffFen: Fen): EodSnapshot {
  const inflows = new Map<LocalDate, Fen>();
  if (a.status === "ACTIVE")
    for (const d of openDues(a)) {
      const u = partsTotal(d.unpaid);
      if (u > 0n && compareDates(d.dueDate, date) > 0) inflows.set(d.dueDate, (inflows.get(d.dueDate) ?? 0n) + u);
    }
  return {
    bucket: a.bucket,
    bucketMonthAgo: bucketAt(a, addMonths(date, -1)),
    balance: a.status === "ACTIVE" ? balancesOf(a, date, p).total : 0n,
    chargedOffFen,
    inflows: [...inflows].map(([d, amount]) => ({ date: d, amount })),
  };
}

/**
 * True when the account has end-of-day work every day: delinquent (penalty interest, Overdue, DPD and
 * bucket move daily), a revolving balance (interest accrues daily), a bucket change not yet logged
 * (a cure logs M0 at the next end-of-day), or something for `prune` to drop.
 */
function hasDailyWork(a: Account): boolean {
  if (a.dpd > 0 || a.bucket !== "M0" || a.delinquencyStartDate !== undefined) return true;
  if (a.carriedPrincipal > 0n) return true;
  if (a.bucketLog[a.bucketLog.length - 1]?.bucket !== "M0") return true;
  if (a.processedKeys.length > MAX_PROCESSED_KEYS || a.bucketLog.length > 48) return true;
  let settledStatements = 0;
  const planActive = a.plan?.active ?? false;
  for (const d of a.dues) {
    if (d.settledDate === undefined) {
      if (d.missed) return true;
      continue;
    }
    if (d.kind === "statement") settledStatements++;
    else if (!planActive) return true;
  }
  return settledStatements > MAX_SETTLED_STATEMENTS;
}

/** The first date on or after `from` (and not before the open cycle's start) whose day of month is the statement day. */
function nextStatementDate(a: Account, from: LocalDate): LocalDate {
  const start = compareDates(a.cycleStart, from) > 0 ? a.cycleStart : from;
  const inMonth = `${start.slice(0, 8)}${String(a.statementDay).padStart(2, "0")}`;
  return compareDates(inMonth, start) >= 0 ? inMonth : addMonths(inMonth, 1);
}

/**
 * The first business date after the account's `eodDate` whose end-of-day changes it or emits anything,
 * assuming no command changes it meanwhile (a command moves the hint to its own business date):
 * the statement day; the day after an unpaid due date (missed, or rolled at its minimum); every
 * reminder day `due − N`; and every day while the account has daily work (`hasDailyWork`). Plan
 * installments and the new due date of a deferral are dues like the others; and the day a bucket change
 * becomes "a month earlier" for the roll rates (the portfolio contribution changes). Undefined when the account
 * is not active. Every other day only adds the (unchanged) principal to the cost cap's principal·days,
 * which `advanceIdle` does in closed form.
 */
export function nextActionDate(a: Account, p: ProductConfig): LocalDate | undefined {
  if (a.status !== "ACTIVE") return undefined;
  const from = addDays(a.eodDate, 1);
  if (hasDailyWork(a)) return from;
  let best = nextStatementDate(a, from);
  const consider = (d: LocalDate) => {
    const x = compareDates(d, from) < 0 ? from : d;
    if (compareDates(x, best) < 0) best = x;
  };
  for (const d of a.dues) {
    if (d.settledDate !== undefined) continue;
    consider(addDays(d.dueDate, 1));
    if (partsTotal(d.unpaid) === 0n) continue;
    for (const n of p.reminderOffsets) {
      const r = addDays(d.dueDate, -n);
      if (compareDates(r, from) >= 0) consider(r);
    }
  }
  // The day a bucket-log entry becomes the bucket "a month earlier" (roll rates): the account's portfolio
  // contribution changes although nothing else does.
  for (let i = a.bucketLog.length - 1; i >= 0; i--) {
    const at = a.bucketLog[i]!.date;
    let d = addDays(addMonths(at, 1), -3);
    while (compareDates(addMonths(d, -1), at) < 0) d = addDays(d, 1);
    if (compareDates(d, from) < 0) break;
    consider(d);
  }
  return best;
}

/**
 * Applies the end-of-day of every day in (eodDate, through] to an account with no work on those days
 * (the caller checked `nextActionDate` > through): each such day adds the principal outstanding to
 * principal·days and nothing else, so n days add n × principal.
 */
export function advanceIdle(a: Account, through: LocalDate, p: ProductConfig): void {
  const n = daysBetween(a.eodDate, through);
  if (n <= 0) return;
  a.principalDays += balancesOf(a, through, p).principal * BigInt(n);
  a.eodDate = through;
}

/**
 * Before a command changes an account on business date `date`: brings its end-of-day state through
 * `date − 1` over the idle days it skipped (those days accrued with the state before the change), as
 * far as its next action allows (a lagging, quarantined account keeps its remaining days for the
 * end-of-day run). Returns a changed copy, or the account itself when nothing was skipped.
 */
export function catchUpIdle(acc: Account, date: LocalDate, p: ProductConfig): Account {
  if (acc.status !== "ACTIVE") return acc;
  const yesterday = addDays(date, -1);
  if (compareDates(acc.eodDate, yesterday) >= 0) return acc;
  const next = nextActionDate(acc, p);
  const through = next !== undefined && compareDates(next, yesterday) <= 0 ? addDays(next, -1) : yesterday;
  if (compareDates(through, acc.eodDate) <= 0) return acc;
  const a = cloneAccount(acc);
  advanceIdle(a, through, p);
  return a;
}

/** After a command changed an account on business date `date`: its end-of-day of `date` has work (its state and portfolio contribution changed). */
export function markChanged(a: Account, date: LocalDate): void {
  if (a.status !== "ACTIVE") {
    delete a.nextActionDate;
    return;
  }
  if (a.nextActionDate === undefined || compareDates(date, a.nextActionDate) < 0) a.nextActionDate = date;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Error of an amount that does not fit the int64 every store and contract holds money in. */
export class Int64OverflowError extends RangeError {
  override readonly name = "Int64OverflowError";
  readonly reason = "INT64_OVERFLOW";
}

/**
 * Throws when any amount in `value` leaves int64: the BSON encoder would silently wrap it (a balance of
 * 2^63 fen stored as a negative one), so the overflow is caught here and the account quarantined.
 */
export function assertInt64(value: unknown, path: string): void {
  if (typeof value === "bigint") {
    if (value < INT64_MIN || value > INT64_MAX) throw new Int64OverflowError(`${path} is ${value} fen, outside int64`);
    return;
  }
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) assertInt64(v, `${path}[${i}]`);
  } else if (value && typeof value === "object" && !(value instanceof Date)) for (const [k, v] of Object.entries(value)) assertInt64(v, `${path}.${k}`);
}
