/**
 * The account aggregate: one document holding the open cycle, the unpaid
 * statement dues, installment schedules, the repayment plan, delinquency and
 * counters, so every change and its events is one single-document update.
 * Pure data + pure functions; no I/O.
 */
import { addDays, compareDates, daysBetween, type Fen, type LocalDate } from "@whiteslip/core";
import { type Bucket, bucketFor } from "./delinquency";
import type { ProductConfig } from "./product";

/** The parts of a due amount, in waterfall order. */
export interface Parts {
  /** Late fees. */
  fees: Fen;
  /** Penalty interest on overdue principal. */
  penaltyInterest: Fen;
  /** Installment fees. */
  installmentFees: Fen;
  /** Revolving interest. */
  interest: Fen;
  /** Principal. */
  principal: Fen;
}

/** Waterfall order inside one due amount: fees → penalty interest → installment fees → interest → principal. */
export const WATERFALL: readonly (keyof Parts)[] = ["fees", "penaltyInterest", "installmentFees", "interest", "principal"];

/** Zero parts. */
export function zeroParts(): Parts {
  return { fees: 0n, penaltyInterest: 0n, installmentFees: 0n, interest: 0n, principal: 0n };
}

/** Sum of parts. */
export function partsTotal(p: Parts): Fen {
  return p.fees + p.penaltyInterest + p.installmentFees + p.interest + p.principal;
}

/** What a closed statement billed (the due keeps what is still unpaid). */
export interface StatementInfo {
  /** Cycle close date. */
  statementDate: LocalDate;
  /** First day of the cycle. */
  periodStart: LocalDate;
  /** One-off purchases of the cycle, less refunds. */
  purchases: Fen;
  /** Installment principal billed. */
  installmentPrincipal: Fen;
  /** Installment fees billed. */
  installmentFees: Fen;
  /** Revolving balance carried in plus its interest. */
  revolving: Fen;
  /** Late fees and penalty interest charged during the cycle (on older dues). */
  feesAndPenalties: Fen;
  /** Unpaid amounts of older dues at close. */
  previousBalance: Fen;
}

/** An amount owed by a due date: a statement's amount due or a repayment-plan installment. */
export interface Due {
  /** Statement id `<account>:<statement date>` or plan installment id `<plan>#<n>`. */
  id: string;
  /** Statement or plan installment. */
  kind: "statement" | "plan";
  /** Due date. */
  dueDate: LocalDate;
  /** Amount originally due. */
  amountDue: Fen;
  /** Minimum payment that keeps the account current. */
  minimumPayment: Fen;
  /** What is still unpaid, by part (late fees and penalty interest are added here when missed). */
  unpaid: Parts;
  /** The due date passed without the minimum: the due is delinquent until fully paid. */
  missed: boolean;
  /** The late fee for this missed due was charged (once per missed due). */
  lateFeeCharged: boolean;
  /** Date fully paid, or rolled into the revolving balance. */
  settledDate?: LocalDate;
  /** Part rolled into the revolving balance when only the minimum was paid. */
  rolled: Fen;
  /** Statement details (kind = statement). */
  statement?: StatementInfo;
}

/** One posted purchase, kept for refunds. */
export interface PurchaseRecord {
  /** Ledger id. */
  id: string;
  /** Credit's authorization id (a purchase is posted once per authorization). */
  authorizationId: string;
  /** Amount. */
  amount: Fen;
  /** Refunded so far. */
  refunded: Fen;
  /** 0 or the installment term. */
  months: number;
  /** Business date posted. */
  postedDate: LocalDate;
  /** Statement the purchase (or its first installment) was billed on. */
  billedOn?: string;
}

/** The unbilled rest of an installment purchase. */
export interface InstallmentSchedule {
  /** The purchase. */
  purchaseId: string;
  /** Term. */
  months: number;
  /** Principal of each remaining portion, next first. */
  portions: Fen[];
  /** Fee per month. */
  feePerMonth: Fen;
}

/** A hardship deferral: the delinquent dues moved to a later due date. */
export interface DeferralRecord {
  /** Ledger id. */
  id: string;
  /** Business date granted. */
  grantedOn: LocalDate;
  /** Days granted. */
  days: number;
  /** The new due date of the deferred dues. */
  dueDate: LocalDate;
  /** Unpaid amount deferred. */
  amount: Fen;
  /** Who asked (e.g. `collections:<case>`). */
  requestedBy: string;
  /** Why. */
  reason: string;
}

/** A repayment plan that re-scheduled overdue balances. */
export interface PlanRecord {
  /** Plan id. */
  id: string;
  /** Installments. */
  count: number;
  /** Re-scheduled amount. */
  total: Fen;
  /** Requester. */
  requestedBy: string;
  /** Creation instant, ISO. */
  createdAt: string;
  /** Due ids of its installments. */
  installmentIds: string[];
  /** Amounts of its installments. */
  amounts: Fen[];
  /** Still being paid. */
  active: boolean;
}

/** A processed client idempotency key and its first result. */
export interface ProcessedKey {
  /** The key. */
  key: string;
  /** Operation (`repayment`, `purchase`, …). */
  op: string;
  /** Fingerprint of the request parameters. */
  fingerprint: string;
  /** The first result, as stored. */
  result: Record<string, unknown>;
}

/** Account lifecycle. */
export type AccountStatus = "ACTIVE" | "CHARGED_OFF" | "CLOSED";

/** The account aggregate. */
export interface Account {
  /** Account id = credit line id. */
  id: string;
  /** Customer id. */
  customerId: string;
  /** Product code. */
  productCode: string;
  /** Statement day 1–28. */
  statementDay: number;
  /** Credit limit from credit's line events. */
  creditLimit: Fen;
  /** Lifecycle. */
  status: AccountStatus;
  /** Business date opened. */
  openedDate: LocalDate;
  /** Stable hash of the id, for sharding end-of-day (`shardKey mod n`). */
  shardKey: number;
  /** Optimistic-concurrency version, +1 per change. */
  version: number;
  /** Last business date whose end-of-day was applied (the resume marker). */
  eodDate: LocalDate;
  /** First day of the open cycle. */
  cycleStart: LocalDate;
  /** One-off purchases of the open cycle, less refunds. */
  cyclePurchases: Fen;
  /** Revolving interest accrued in the open cycle. */
  cycleInterest: Fen;
  /** Late fees and penalty interest charged in the open cycle. */
  cycleFeesAndPenalties: Fen;
  /** Revolving balance carried from a statement paid at its minimum. */
  carriedPrincipal: Fen;
  /** Overpayment held for future dues. */
  creditBalance: Fen;
  /** Purchases (kept for refunds). */
  purchases: PurchaseRecord[];
  /** Installment schedules with unbilled portions. */
  installments: InstallmentSchedule[];
  /** Unsettled dues and recent statements, by due date. */
  dues: Due[];
  /** Days past due at the last change. */
  dpd: number;
  /** Bucket at the last change. */
  bucket: Bucket;
  /** First day of the current delinquency. */
  delinquencyStartDate?: LocalDate;
  /** Bucket changes seen by end-of-day (for roll rates). */
  bucketLog: { date: LocalDate; bucket: Bucket }[];
  /** Σ over business days of principal outstanding at end of day (fen·days), the base of the cost cap. */
  principalDays: Fen;
  /** Fees and interest charged so far, less waivers (all-in cost). */
  costCharged: Fen;
  /** Date charged off. */
  chargedOffDate?: LocalDate;
  /** Balance written off. */
  chargedOffFen: Fen;
  /** The repayment plan, if any. */
  plan?: PlanRecord;
  /** Hardship deferrals granted (newest last); absent on accounts stored before deferrals existed. */
  deferrals?: DeferralRecord[];
  /** Recent idempotency keys. */
  processedKeys: ProcessedKey[];
  /**
   * The end-of-day agenda hint: the first business date after `eodDate` whose end-of-day has work for this
   * account (`nextActionDate()` in end-of-day.ts, or the business date of a change, whichever is earlier);
   * absent when none (charged off). End-of-day of D reads only the accounts whose hint is ≤ D.
   */
  nextActionDate?: LocalDate;
}

/** How many idempotency keys an account remembers. */
export const MAX_PROCESSED_KEYS = 200;
/** How many settled statements an account keeps for ListStatements. */
export const MAX_SETTLED_STATEMENTS = 24;

/** FNV-1a 32-bit hash of the id: shard key. */
export function shardKeyOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % 1_000_000;
}

/** A fresh account opened on `businessDate`. */
export function newAccount(init: { id: string; customerId: string; productCode: string; statementDay: number; creditLimit: Fen; businessDate: LocalDate }): Account {
  return {
    id: init.id,
    customerId: init.customerId,
    productCode: init.productCode,
    statementDay: init.statementDay,
    creditLimit: init.creditLimit,
    status: "ACTIVE",
    openedDate: init.businessDate,
    shardKey: shardKeyOf(init.id),
    version: 0,
    eodDate: addDays(init.businessDate, -1),
    cycleStart: init.businessDate,
    cyclePurchases: 0n,
    cycleInterest: 0n,
    cycleFeesAndPenalties: 0n,
    carriedPrincipal: 0n,
    creditBalance: 0n,
    purchases: [],
    installments: [],
    dues: [],
    dpd: 0,
    bucket: "M0",
    bucketLog: [{ date: init.businessDate, bucket: "M0" }],
    principalDays: 0n,
    costCharged: 0n,
    chargedOffFen: 0n,
    processedKeys: [],
    nextActionDate: init.businessDate,
  };
}

/** Dues not yet settled, in due-date order. */
export function openDues(a: Account): Due[] {
  return a.dues.filter((d) => d.settledDate === undefined).sort((x, y) => compareDates(x.dueDate, y.dueDate));
}

/**
 * True when `d` counts as delinquent at business date `date`: its due date has
 * passed (the amount was not paid by the end of the due date) and either it was
 * already marked missed, or what was paid does not reach the minimum; a residue
 * within the tolerance is ignored.
 */
export function isDelinquentDue(d: Due, date: LocalDate, p: ProductConfig): boolean {
  if (d.settledDate !== undefined || compareDates(d.dueDate, date) >= 0) return false;
  const unpaid = partsTotal(d.unpaid);
  if (unpaid <= p.toleranceFen) return false;
  if (d.missed) return true;
  return unpaid > d.amountDue - d.minimumPayment + p.toleranceFen;
}

/** Days past due at `date`: `date − oldest delinquent due date`, 0 when current. */
export function daysPastDue(a: Account, date: LocalDate, p: ProductConfig): number {
  if (a.status === "CHARGED_OFF") return a.dpd;
  const oldest = openDues(a).find((d) => isDelinquentDue(d, date, p));
  return oldest ? daysBetween(oldest.dueDate, date) : 0;
}

/** Oldest delinquent due date at `date`, if any. */
export function oldestDelinquentDueDate(a: Account, date: LocalDate, p: ProductConfig): LocalDate | undefined {
  return openDues(a).find((d) => isDelinquentDue(d, date, p))?.dueDate;
}

/** Balances of an account at `date`. */
export interface Balances {
  /** Principal of one-off purchases not yet billed, plus the carried revolving balance. */
  unbilledPrincipal: Fen;
  /** Installment principal not yet billed. */
  installmentPrincipalRemaining: Fen;
  /** Unpaid amounts of dues not yet past their due date (or within the minimum rule). */
  amountDue: Fen;
  /** Unpaid amounts of delinquent dues. */
  overdue: Fen;
  /** Unpaid late fees. */
  fees: Fen;
  /** Unpaid penalty interest. */
  penaltyInterest: Fen;
  /** Principal outstanding (billed and unbilled). */
  principal: Fen;
  /** Everything owed less the credit balance. */
  total: Fen;
}

/** Computes the balances at `date`. */
export function balancesOf(a: Account, date: LocalDate, p: ProductConfig): Balances {
  let amountDue = 0n;
  let overdue = 0n;
  let fees = 0n;
  let penaltyInterest = 0n;
  let duePrincipal = 0n;
  for (const d of openDues(a)) {
    const t = partsTotal(d.unpaid);
    if (isDelinquentDue(d, date, p)) overdue += t;
    else amountDue += t;
    fees += d.unpaid.fees;
    penaltyInterest += d.unpaid.penaltyInterest;
    duePrincipal += d.unpaid.principal;
  }
  const unbilledPrincipal = a.cyclePurchases + a.carriedPrincipal;
  const installmentPrincipalRemaining = a.installments.reduce((s, i) => s + i.portions.reduce((x, y) => x + y, 0n), 0n);
  const total = unbilledPrincipal + a.cycleInterest + installmentPrincipalRemaining + amountDue + overdue - a.creditBalance;
  return {
    unbilledPrincipal,
    installmentPrincipalRemaining,
    amountDue,
    overdue,
    fees,
    penaltyInterest,
    principal: unbilledPrincipal + installmentPrincipalRemaining + duePrincipal,
    total,
  };
}

/** The next unsettled due date on or after `date`. */
export function nextDueDate(a: Account, date: LocalDate): LocalDate | undefined {
  return openDues(a).find((d) => compareDates(d.dueDate, date) >= 0)?.dueDate;
}

/** Minimum still to pay by the next due date: overdue amounts in full plus the unmet minimum of the dues falling due next. */
export function minimumToPay(a: Account, date: LocalDate, p: ProductConfig): Fen {
  let m = 0n;
  const next = nextDueDate(a, date);
  for (const d of openDues(a)) {
    const unpaid = partsTotal(d.unpaid);
    if (isDelinquentDue(d, date, p)) m += unpaid;
    else if (d.dueDate === next) {
      const rest = d.minimumPayment - (d.amountDue - unpaid);
      if (rest > 0n) m += rest;
    }
  }
  return m;
}

/** Remaining cost allowance under the all-in cap: principal·days·cap/365 − costs charged (never negative). */
export function costAllowance(a: Account, p: ProductConfig): Fen {
  const allowed = (a.principalDays * BigInt(p.costCapPpmPerYear)) / (365n * 1_000_000n);
  const left = allowed - a.costCharged;
  return left > 0n ? left : 0n;
}

/** Recomputes dpd/bucket/delinquency start at `date` (no bucket log entry; end-of-day logs). */
export function refreshDelinquency(a: Account, date: LocalDate, p: ProductConfig): void {
  if (a.status !== "ACTIVE") return;
  const oldest = oldestDelinquentDueDate(a, date, p);
  a.dpd = oldest ? daysBetween(oldest, date) : 0;
  a.bucket = bucketFor(a.dpd, p.chargeOffDpd);
  if (a.dpd === 0) delete a.delinquencyStartDate;
  else if (!a.delinquencyStartDate) a.delinquencyStartDate = addDays(oldest as LocalDate, 1);
}

/** Drops settled statements beyond the newest MAX_SETTLED_STATEMENTS, settled plan dues of finished plans, and old keys. */
export function prune(a: Account): void {
  const settledStatements = a.dues.filter((d) => d.kind === "statement" && d.settledDate !== undefined).sort((x, y) => compareDates(y.dueDate, x.dueDate));
  const drop = new Set(settledStatements.slice(MAX_SETTLED_STATEMENTS).map((d) => d.id));
  const planActive = a.plan?.active ?? false;
  a.dues = a.dues.filter((d) => !drop.has(d.id) && !(d.kind === "plan" && d.settledDate !== undefined && !planActive));
  if (a.processedKeys.length > MAX_PROCESSED_KEYS) a.processedKeys = a.processedKeys.slice(-MAX_PROCESSED_KEYS);
  if (a.bucketLog.length > 48) a.bucketLog = a.bucketLog.slice(-48);
}

/** The bucket an account was in at `date` according to its bucket log (undefined before opening). */
export function bucketAt(a: Pick<Account, "bucketLog">, date: LocalDate): Bucket | undefined {
  let b: Bucket | undefined;
  for (const e of a.bucketLog) {
    if (compareDates(e.date, date) <= 0) b = e.bucket;
    else break;
  }
  return b;
}

/** Deep copy (bigint-safe) so domain functions never mutate their input. */
export function cloneAccount(a: Account): Account {
  return structuredClone(a);
}
