/**
 * Ledger changes of an account: purchases, refunds, repayments (the
 * allocation waterfall), fee waivers and repayment plans. Each function takes
 * an account and returns a changed copy plus the events the change produces;
 * validation of the caller's input happens here so a refused change never
 * reaches storage.
 */
import { addDays, addMonths, applyPpm, compareDates, daysBetween, type Fen, failedPrecondition, invalidArgument, type LocalDate, notFound } from "@whiteslip/core";
import {
  type Account,
  balancesOf,
  cloneAccount,
  daysPastDue,
  type DeferralRecord,
  type Due,
  isDelinquentDue,
  openDues,
  type Parts,
  partsTotal,
  refreshDelinquency,
  WATERFALL,
  zeroParts,
} from "./account";
import { bucketFor } from "./delinquency";
import { type BillingEvent, bucketToProto, eventIds } from "./events";
import { INSTALLMENT_TERMS, type InstallmentTerm, type ProductConfig } from "./product";

/** The result of a ledger change. */
export interface Change<R> {
  /** The account after the change. */
  account: Account;
  /** Events to publish with it (same single-document update). */
  events: BillingEvent[];
  /** Operation-specific result. */
  result: R;
}

/** Refuses any change on an account that is not active. */
export function requireActive(a: Account): void {
  if (a.status === "CHARGED_OFF")
    throw failedPrecondition("ACCOUNT_CHARGED_OFF", `account ${a.id} was charged off on ${a.chargedOffDate}; only recoveries are accepted`, { accountId: a.id });
  if (a.status !== "ACTIVE") throw failedPrecondition("ACCOUNT_NOT_ACTIVE", `account ${a.id} is ${a.status.toLowerCase()}`, { accountId: a.id });
}

/**
 * Takes up to `amount` from `parts` in waterfall order, adding what was taken to
 * `into`; returns what is left of `amount`.
 */
export function takeWaterfall(parts: Parts, amount: Fen, into: Parts): Fen {
  let left = amount;
  for (const k of WATERFALL) {
    if (left === 0n) break;
    const t = parts[k] < left ? parts[k] : left;
    parts[k] -= t;
    into[k] += t;
    left -= t;
  }
  return left;
}

/** Marks dues with nothing left as settled on `date`. */
function settlePaid(a: Account, date: LocalDate): void {
  for (const d of a.dues) if (d.settledDate === undefined && partsTotal(d.unpaid) === 0n) d.settledDate = date;
  if (a.plan?.active && a.plan.installmentIds.every((id) => a.dues.find((d) => d.id === id)?.settledDate !== undefined)) a.plan.active = false;
}

/** Emits AccountCured when `dpdBefore` > 0 and the change brought the account current. */
function cureEvents(a: Account, before: { dpd: number; start?: LocalDate }, date: LocalDate, ledgerId: string, p: ProductConfig): BillingEvent[] {
  if (before.dpd === 0 || daysPastDue(a, date, p) !== 0) return [];
  return [
    {
      type: "AccountCured",
      id: eventIds.accountCured(a.id, ledgerId),
      key: a.id,
      data: {
        accountId: a.id,
        customerId: a.customerId,
        businessDate: date,
        paymentId: ledgerId,
        previousDaysPastDue: before.dpd,
        previousBucket: bucketToProto(bucketFor(before.dpd, p.chargeOffDpd)),
        delinquencyStartDate: before.start ?? "",
      },
    },
  ];
}

/** Input of a purchase. */
export interface PurchaseInput {
  /** Ledger id. */
  purchaseId: string;
  /** Credit authorization id. */
  authorizationId: string;
  /** Amount, > 0. */
  amount: Fen;
  /** 0 or 3/6/12/24. */
  installmentMonths: number;
}

/** Checks a purchase request; throws INVALID_ARGUMENT naming each bad field. */
export function validatePurchase(i: { authorizationId: string; amount: Fen; installmentMonths: number }): void {
  const v = [];
  if (!i.authorizationId) v.push({ field: "authorization_id", description: "authorization id is required" });
  if (i.amount <= 0n) v.push({ field: "amount_fen", description: `amount ${i.amount} must be > 0` });
  if (i.installmentMonths !== 0 && !INSTALLMENT_TERMS.includes(i.installmentMonths as InstallmentTerm))
    v.push({ field: "installment_months", description: `installment months ${i.installmentMonths} must be 0, 3, 6, 12 or 24` });
  if (v.length) throw invalidArgument(v);
}

/** Splits `amount` into `n` portions; the first carries the remainder. */
export function splitPortions(amount: Fen, n: number): Fen[] {
  const base = amount / BigInt(n);
  const out = Array.from({ length: n }, () => base);
  out[0] = base + (amount - base * BigInt(n));
  return out;
}

/** Posts a purchase to the open cycle (one-off) or as an installment schedule billed one portion per statement. */
export function postPurchase(acc: Account, i: PurchaseInput, date: LocalDate, p: ProductConfig): Change<{ feePerMonth: Fen }> {
  requireActive(acc);
  validatePurchase(i);
  const a = cloneAccount(acc);
  let feePerMonth = 0n;
  if (i.installmentMonths === 0) a.cyclePurchases += i.amount;
  else {
    feePerMonth = applyPpm(i.amount, p.installmentFeePpmPerMonth[i.installmentMonths as InstallmentTerm]);
    a.installments.push({ purchaseId: i.purchaseId, months: i.installmentMonths, portions: splitPortions(i.amount, i.installmentMonths), feePerMonth });
  }
  a.purchases.push({ id: i.purchaseId, authorizationId: i.authorizationId, amount: i.amount, refunded: 0n, months: i.installmentMonths, postedDate: date });
  a.version++;
  const events: BillingEvent[] = [
    {
      type: "PurchasePosted",
      id: eventIds.purchasePosted(i.purchaseId),
      key: a.id,
      data: {
        accountId: a.id,
        customerId: a.customerId,
        purchaseId: i.purchaseId,
        authorizationId: i.authorizationId,
        amountFen: i.amount,
        installmentMonths: i.installmentMonths,
        businessDate: date,
        totalBalanceFen: balancesOf(a, date, p).total,
      },
    },
  ];
  return { account: a, events, result: { feePerMonth } };
}

/**
 * Refunds part or all of a purchase. Refunds reduce principal: first the
 * purchase's unbilled principal (open cycle, or its unbilled installment
 * portions from the last), then unpaid billed principal oldest due first; any
 * rest becomes a credit balance.
 */
export function refundPurchase(acc: Account, i: { purchaseId: string; amount: Fen; refundId: string }, date: LocalDate, p: ProductConfig): Change<{ refunded: Fen }> {
  requireActive(acc);
  if (i.amount <= 0n) throw invalidArgument([{ field: "amount_fen", description: `amount ${i.amount} must be > 0` }]);
  const purchase = acc.purchases.find((x) => x.id === i.purchaseId);
  if (!purchase) throw notFound("Purchase", i.purchaseId);
  const refundable = purchase.amount - purchase.refunded;
  if (i.amount > refundable) throw invalidArgument([{ field: "amount_fen", description: `amount ${i.amount} exceeds the unrefunded ${refundable} of purchase ${i.purchaseId}` }]);
  const a = cloneAccount(acc);
  const before = { dpd: daysPastDue(a, date, p), start: a.delinquencyStartDate };
  const pu = a.purchases.find((x) => x.id === i.purchaseId)!;
  pu.refunded += i.amount;
  let left = i.amount;
  if (pu.months === 0 && pu.billedOn === undefined) {
    const t = left < a.cyclePurchases ? left : a.cyclePurchases;
    a.cyclePurchases -= t;
    left -= t;
  } else if (pu.months > 0) {
    const s = a.installments.find((x) => x.purchaseId === pu.id);
    if (s) {
      for (let k = s.portions.length - 1; k >= 0 && left > 0n; k--) {
        const t = left < s.portions[k]! ? left : s.portions[k]!;
        s.portions[k]! -= t;
        left -= t;
      }
      s.portions = s.portions.filter((x) => x > 0n);
      const remaining = pu.amount - pu.refunded;
      const rate = p.installmentFeePpmPerMonth[pu.months as InstallmentTerm];
      s.feePerMonth = applyPpm(remaining, rate);
      if (s.portions.length === 0) a.installments = a.installments.filter((x) => x !== s);
    }
  }
  for (const d of openDues(a)) {
    if (left === 0n) break;
    const t = left < d.unpaid.principal ? left : d.unpaid.principal;
    d.unpaid.principal -= t;
    left -= t;
  }
  a.creditBalance += left;
  settlePaid(a, date);
  const events = cureEvents(a, before, date, i.refundId, p);
  refreshDelinquency(a, date, p);
  a.version++;
  return { account: a, events, result: { refunded: i.amount } };
}

/** Result of a repayment. */
export interface RepaymentResult {
  /** Ledger id. */
  paymentId: string;
  /** Allocation by part, plus the credit-balance part. */
  allocation: Parts & { creditBalance: Fen };
  /** The payment cured a delinquent account. */
  cured: boolean;
  /** DPD before. */
  dpdBefore: number;
  /** DPD after. */
  dpdAfter: number;
}

/**
 * Posts a repayment: oldest due first (by due date, plan installments
 * included), and inside each due fees → penalty interest → installment fees →
 * interest → principal; an overpayment becomes a credit balance.
 */
export function postRepayment(acc: Account, i: { paymentId: string; amount: Fen; channel: string }, date: LocalDate, p: ProductConfig, receivedAt: Date): Change<RepaymentResult> {
  if (i.amount <= 0n) throw invalidArgument([{ field: "amount_fen", description: `amount ${i.amount} must be > 0` }]);
  requireActive(acc);
  const a = cloneAccount(acc);
  const dpdBefore = daysPastDue(a, date, p);
  const before = { dpd: dpdBefore, start: a.delinquencyStartDate };
  const into = zeroParts();
  let left = i.amount;
  let onTime = true;
  for (const d of openDues(a)) {
    if (left === 0n) break;
    if (partsTotal(d.unpaid) === 0n) continue;
    if (compareDates(d.dueDate, date) < 0) onTime = false;
    left = takeWaterfall(d.unpaid, left, into);
  }
  a.creditBalance += left;
  settlePaid(a, date);
  const dpdAfter = daysPastDue(a, date, p);
  const cured = dpdBefore > 0 && dpdAfter === 0;
  const events: BillingEvent[] = [];
  const bal = balancesOf(a, date, p);
  const allocation = { ...into, creditBalance: left };
  events.push({
    type: "PaymentReceived",
    id: eventIds.paymentReceived(i.paymentId),
    key: a.id,
    data: {
      accountId: a.id,
      customerId: a.customerId,
      paymentId: i.paymentId,
      amountFen: i.amount,
      allocation: {
        feesFen: into.fees,
        penaltyInterestFen: into.penaltyInterest,
        installmentFeesFen: into.installmentFees,
        interestFen: into.interest,
        principalFen: into.principal,
        creditBalanceFen: left,
      },
      receivedAt: { seconds: BigInt(Math.floor(receivedAt.getTime() / 1000)), nanos: (receivedAt.getTime() % 1000) * 1_000_000 },
      businessDate: date,
      daysPastDueBefore: dpdBefore,
      daysPastDueAfter: dpdAfter,
      overdueFenAfter: bal.overdue,
      totalBalanceFenAfter: bal.total,
      onTime: onTime && dpdBefore === 0,
    },
  });
  events.push(...cureEvents(a, before, date, i.paymentId, p));
  refreshDelinquency(a, date, p);
  a.version++;
  return { account: a, events, result: { paymentId: i.paymentId, allocation, cured, dpdBefore, dpdAfter } };
}

/** Waives unpaid late fees, then penalty interest, oldest due first, up to `maxAmount`. */
export function waiveFees(acc: Account, i: { waiverId: string; maxAmount: Fen; reason: string }, date: LocalDate, p: ProductConfig): Change<{ waived: Fen }> {
  const v = [];
  if (i.maxAmount <= 0n) v.push({ field: "max_amount_fen", description: `max amount ${i.maxAmount} must be > 0` });
  if (!i.reason) v.push({ field: "reason", description: "a reason is required" });
  if (v.length) throw invalidArgument(v);
  requireActive(acc);
  const a = cloneAccount(acc);
  const before = { dpd: daysPastDue(a, date, p), start: a.delinquencyStartDate };
  let left = i.maxAmount;
  for (const part of ["fees", "penaltyInterest"] as const) {
    for (const d of openDues(a)) {
      const t = left < d.unpaid[part] ? left : d.unpaid[part];
      d.unpaid[part] -= t;
      left -= t;
    }
  }
  const waived = i.maxAmount - left;
  a.costCharged -= waived;
  settlePaid(a, date);
  const events = cureEvents(a, before, date, i.waiverId, p);
  refreshDelinquency(a, date, p);
  a.version++;
  return { account: a, events, result: { waived } };
}

/**
 * Re-schedules every delinquent due into `count` monthly installments due
 * `date + k months`; the re-scheduled dues are settled and the account is
 * current again (AccountCured carries the plan id as the ledger id).
 */
export function createRepaymentPlan(acc: Account, i: { planId: string; count: number; requestedBy: string }, date: LocalDate, p: ProductConfig, now: Date): Change<{ plan: NonNullable<Account["plan"]> }> {
  const v = [];
  if (!INSTALLMENT_TERMS.includes(i.count as InstallmentTerm)) v.push({ field: "installment_count", description: `installment count ${i.count} must be 3, 6, 12 or 24` });
  if (!i.requestedBy) v.push({ field: "requested_by", description: "requested_by is required" });
  if (v.length) throw invalidArgument(v);
  requireActive(acc);
  if (acc.plan?.active) throw failedPrecondition("PLAN_ALREADY_ACTIVE", `account ${acc.id} already has active plan ${acc.plan.id}`, { planId: acc.plan.id });
  const dpd = daysPastDue(acc, date, p);
  if (dpd === 0) throw failedPrecondition("ACCOUNT_NOT_OVERDUE", `account ${acc.id} is not overdue; nothing to re-schedule`, { accountId: acc.id });
  const a = cloneAccount(acc);
  const before = { dpd, start: a.delinquencyStartDate };
  let total = 0n;
  for (const d of openDues(a)) {
    if (!isDelinquentDue(d, date, p)) continue;
    const t = partsTotal(d.unpaid);
    total += t;
    d.rolled += t;
    d.unpaid = zeroParts();
    d.settledDate = date;
  }
  const amounts = splitPortions(total, i.count);
  const ids = amounts.map((_, k) => `${i.planId}#${k + 1}`);
  amounts.forEach((amount, k) => {
    const due: Due = {
      id: ids[k]!,
      kind: "plan",
      dueDate: addMonths(date, k + 1),
      amountDue: amount,
      minimumPayment: amount,
      unpaid: { ...zeroParts(), principal: amount },
      missed: false,
      lateFeeCharged: false,
      rolled: 0n,
    };
    a.dues.push(due);
  });
  a.plan = { id: i.planId, count: i.count, total, requestedBy: i.requestedBy, createdAt: now.toISOString(), installmentIds: ids, amounts, active: true };
  const events: BillingEvent[] = [
    { type: "RepaymentPlanCreated", id: eventIds.repaymentPlanCreated(i.planId), key: a.id, data: { accountId: a.id, customerId: a.customerId, plan: planToProto(a, a.plan, now) } },
    ...cureEvents(a, before, date, i.planId, p),
  ];
  refreshDelinquency(a, date, p);
  a.version++;
  return { account: a, events, result: { plan: a.plan } };
}

/** Hardship deferral policy: at most this many days, at most once in this many days. */
export const MAX_DEFERRAL_DAYS = 30;
export const DEFERRAL_COOLDOWN_DAYS = 365;

/**
 * Hardship deferral (forbearance): every delinquent due is due again on `date + days` (at most 30 days, at most
 * once in 365 days). The whole unpaid amount of those dues is due on the new date; no new late fee is charged for
 * them (one was when they were missed) and no penalty interest accrues while they are not past due; the account is
 * current until then (AccountCured carries the deferral id as the ledger id). Missing the new date makes them
 * delinquent again from that date.
 */
export function deferPayment(acc: Account, i: { deferralId: string; days: number; requestedBy: string; reason: string }, date: LocalDate, p: ProductConfig): Change<{ deferral: DeferralRecord }> {
  const v = [];
  if (!Number.isInteger(i.days) || i.days < 1 || i.days > MAX_DEFERRAL_DAYS) v.push({ field: "days", description: `days ${i.days} must be 1–${MAX_DEFERRAL_DAYS}` });
  if (!i.requestedBy) v.push({ field: "requested_by", description: "requested_by is required" });
  if (!i.reason) v.push({ field: "reason", description: "a reason is required" });
  if (v.length) throw invalidArgument(v);
  requireActive(acc);
  const last = acc.deferrals?.at(-1);
  if (last && daysBetween(last.grantedOn, date) < DEFERRAL_COOLDOWN_DAYS) {
    const next = addDays(last.grantedOn, DEFERRAL_COOLDOWN_DAYS);
    throw failedPrecondition("DEFERRAL_TOO_SOON", `account ${acc.id} was deferred on ${last.grantedOn}; the next deferral is possible from ${next}`, { lastDeferredOn: last.grantedOn, nextAllowedOn: next });
  }
  const dpd = daysPastDue(acc, date, p);
  if (dpd === 0) throw failedPrecondition("ACCOUNT_NOT_OVERDUE", `account ${acc.id} is not overdue; nothing to defer`, { accountId: acc.id });
  const a = cloneAccount(acc);
  const before = { dpd, start: a.delinquencyStartDate };
  const dueDate = addDays(date, i.days);
  let amount = 0n;
  for (const d of openDues(a)) {
    if (!isDelinquentDue(d, date, p)) continue;
    amount += partsTotal(d.unpaid);
    d.dueDate = dueDate;
    d.missed = false;
    // everything still unpaid is due on the new date
    d.minimumPayment = d.amountDue;
  }
  const deferral: DeferralRecord = { id: i.deferralId, grantedOn: date, days: i.days, dueDate, amount, requestedBy: i.requestedBy, reason: i.reason };
  a.deferrals = [...(a.deferrals ?? []), deferral];
  const events: BillingEvent[] = [
    {
      type: "PaymentDeferred",
      id: eventIds.paymentDeferred(i.deferralId),
      key: a.id,
      data: { accountId: a.id, customerId: a.customerId, deferralId: i.deferralId, businessDate: date, dueDate, days: i.days, deferredFen: amount },
    },
    ...cureEvents(a, before, date, i.deferralId, p),
  ];
  refreshDelinquency(a, date, p);
  a.version++;
  return { account: a, events, result: { deferral } };
}

/** The protobuf init shape of a plan. */
export function planToProto(a: Account, plan: NonNullable<Account["plan"]>, createdAt: Date = new Date(plan.createdAt)) {
  return {
    planId: plan.id,
    accountId: a.id,
    installmentCount: plan.count,
    totalFen: plan.total,
    installments: plan.installmentIds.map((id, k) => {
      const d = a.dues.find((x) => x.id === id);
      return { number: k + 1, dueDate: d?.dueDate ?? "", amountFen: plan.amounts[k] ?? 0n, unpaidFen: d ? partsTotal(d.unpaid) : 0n };
    }),
    requestedBy: plan.requestedBy,
    createdAt: { seconds: BigInt(Math.floor(createdAt.getTime() / 1000)), nanos: 0 },
    active: plan.active,
  };
}
