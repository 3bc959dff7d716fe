/**
 * The collection case lifecycle, driven by billing's and credit's events (domain.md "Collections"):
 * opened on an account's first Overdue, updated by each daily Overdue, closed on AccountCured, handed to recovery on
 * ChargedOff; a high-risk DueSoon opens a pre-delinquency (early-warning) case. Every function is pure: it returns
 * the changed case, its new audit lines and the events to publish.
 */
import { deterministicId, type Fen, formatCny, type LocalDate } from "@whiteslip/core";
import { bucketFor, bucketRank } from "@whiteslip/core";
import { ChangeBuilder } from "./change";
import { breakExpired, matchPayment } from "./promises";
import {
  assignStrategy,
  matchRule,
  priorityFor,
  queueFor,
  type StrategySet,
  selectTreatment,
  treatmentRank,
} from "./strategy";
import { queueWithPath, ruleRef, skipOpenSteps, syncPath } from "./treatment-path";
import type { Bucket, CaseChange, CaseStatus, CollectionCase, Jurisdiction, RiskTier } from "./types";

/** The system actor in audit lines. */
export const SYSTEM = "system";

/** Statuses of a case still being worked. */
export const ACTIVE_STATUSES: readonly CaseStatus[] = ["PRE_DELINQUENT", "OPEN", "PAUSED"];

/** True while the case is being worked (pre-delinquent, open or paused). */
export function isActive(status: CaseStatus): boolean {
  return ACTIVE_STATUSES.includes(status);
}

/** Case id for a delinquency episode: the same account and delinquency start always give the same id. */
export function delinquencyCaseId(accountId: string, delinquencyStartDate: string): string {
  return deterministicId("collections-case", accountId, delinquencyStartDate);
}

/** Case id for a pre-delinquency warning on one due date. */
export function preDelinquencyCaseId(accountId: string, dueDate: string): string {
  return deterministicId("collections-case", accountId, "pre-delinquent", dueDate);
}

/** Where the customer is: jurisdiction and time zone (per product; default CN / Asia/Shanghai). */
export interface Locale {
  jurisdiction: Jurisdiction;
  timeZone: string;
}

/** Billing's Overdue, as collections needs it. */
export interface OverdueFact {
  eventId: string;
  accountId: string;
  customerId: string;
  productCode: string;
  businessDate: LocalDate;
  dpd: number;
  bucket: Bucket;
  overdueFen: Fen;
  totalBalanceFen: Fen;
  delinquencyStartDate: LocalDate;
}

/** A high-risk DueSoon (or credit's RiskFlagRaised for one). */
export interface DueSoonFact {
  eventId: string;
  accountId: string;
  customerId: string;
  productCode: string;
  dueDate: LocalDate;
  amountDueFen: Fen;
}

/** Billing's PaymentReceived. */
export interface PaymentFact {
  eventId: string;
  paymentId: string;
  amountFen: Fen;
  businessDate: LocalDate;
  overdueFenAfter: Fen;
  totalBalanceFenAfter: Fen;
}

/** What lifecycle commands need besides the case. */
export interface LifecycleContext {
  now: Date;
  strategies: StrategySet;
}

/** True when the tier is high risk (D or E), which earns a pre-delinquency treatment on DueSoon. */
export function isHighRisk(tier: RiskTier): boolean {
  return tier === "D" || tier === "E";
}

function blankCase(
  caseId: string,
  accountId: string,
  customerId: string,
  productCode: string,
  tier: RiskTier,
  locale: Locale,
  ctx: LifecycleContext,
): CollectionCase {
  return {
    caseId,
    accountId,
    customerId,
    productCode,
    status: "OPEN",
    dpd: 0,
    bucket: "M0",
    overdueFen: 0n,
    totalBalanceFen: 0n,
    amountDueFen: 0n,
    dueDate: "",
    delinquencyStartDate: "",
    lastOverdueDate: "",
    riskTier: tier,
    treatment: "DIGITAL_ONLY",
    strategyId: assignStrategy(accountId, ctx.strategies).id,
    agentId: "",
    queue: "",
    priority: 0,
    jurisdiction: locale.jurisdiction,
    timeZone: locale.timeZone,
    openedAt: ctx.now,
    closedAt: null,
    escalationLevel: 0,
    collectedFen: 0n,
    waivedFen: 0n,
    pauseReason: "",
    lastReason: "UNSPECIFIED",
    bucketsEntered: [],
    promises: [],
    attempts: [],
    planIds: [],
    requestKeys: [],
    deferrals: [],
    legalNotices: [],
    waivers: [],
    consents: [],
    path: [],
    processedEventIds: [],
    audit: [],
    version: 0,
  };
}

/** The strategy a case was assigned (the champion when its strategy is no longer in the table). */
export function strategyOf(c: CollectionCase, set: StrategySet) {
  return [set.champion, ...set.challengers].find((s) => s.id === c.strategyId) ?? set.champion;
}

/**
 * Recomputes treatment, queue and priority from the case's strategy; emits CaseEscalated (id derived from the
 * triggering fact) when the treatment got more severe or `forcedReason` is given; releases the agent when the
 * queue changes.
 */
function retreat(b: ChangeBuilder, ctx: LifecycleContext, triggerId: string, forcedReason?: string): void {
  const c0 = b.case;
  const pre = c0.status === "PRE_DELINQUENT";
  const strategy = strategyOf(c0, ctx.strategies);
  const seg = {
    bucket: c0.bucket,
    tier: c0.riskTier,
    totalBalanceFen: c0.totalBalanceFen,
    dpd: c0.dpd,
    escalationLevel: c0.escalationLevel,
  };
  const treatment = pre ? "DIGITAL_ONLY" : selectTreatment(strategy, seg);
  if (!pre && c0.lastOverdueDate !== "") {
    // the path of the segment's rule (none before the first Overdue): scheduled once, re-synced on a rule change
    const i = matchRule(strategy, seg);
    const rule = strategy.rules[i];
    syncPath(b, rule?.path?.length ? ruleRef(strategy.id, i) : null, rule?.path ?? [], c0.lastOverdueDate, ctx.now, SYSTEM);
  }
  const c = b.case;
  const queue = queueWithPath(c.path, queueFor(treatment, c.bucket, pre), c.bucket);
  const priority = priorityFor(treatment, c.escalationLevel, c.dpd);
  const wentUp = c.queue !== "" && treatmentRank(treatment) > treatmentRank(c.treatment);
  if (c.agentId && c.queue && queue !== c.queue) {
    b.audit(SYSTEM, "AGENT_RELEASED", `queue ${c.queue} -> ${queue}; agent ${c.agentId} released`);
    b.set({ agentId: "" });
  }
  b.set({ treatment, queue, priority });
  if (wentUp || forcedReason) {
    const reason = forcedReason ?? `BUCKET_${c.bucket}`;
    b.audit(SYSTEM, "CASE_ESCALATED", `${reason}: treatment ${treatment}, level ${c.escalationLevel}`);
    b.emit({
      type: "CaseEscalated",
      id: deterministicId("CaseEscalated", c.caseId, triggerId),
      treatment,
      escalationLevel: c.escalationLevel,
      reason,
    });
  }
}

function enterBucket(b: ChangeBuilder, bucket: Bucket): void {
  const c = b.case;
  if (!c.bucketsEntered.includes(bucket)) b.set({ bucketsEntered: [...c.bucketsEntered, bucket] });
}

/** Opens a case on an account's first Overdue of a delinquency episode. */
export function openFromOverdue(
  f: OverdueFact,
  tier: RiskTier,
  locale: Locale,
  ctx: LifecycleContext,
): CaseChange {
  const base = blankCase(
    delinquencyCaseId(f.accountId, f.delinquencyStartDate),
    f.accountId,
    f.customerId,
    f.productCode,
    tier,
    locale,
    ctx,
  );
  const b = new ChangeBuilder(base, ctx.now);
  b.set({
    dpd: f.dpd,
    bucket: f.bucket,
    overdueFen: f.overdueFen,
    totalBalanceFen: f.totalBalanceFen,
    delinquencyStartDate: f.delinquencyStartDate,
    lastOverdueDate: f.businessDate,
  });
  enterBucket(b, f.bucket);
  retreat(b, ctx, f.eventId);
  b.processed(f.eventId);
  const c = b.case;
  b.audit(
    SYSTEM,
    "CASE_OPENED",
    `Overdue ${f.businessDate}: DPD ${f.dpd}, ${f.bucket}, overdue ${formatCny(f.overdueFen)}; strategy ${c.strategyId}, treatment ${c.treatment}`,
  );
  b.emit({
    type: "CaseOpened",
    id: deterministicId("CaseOpened", c.caseId, "OPEN"),
    status: "OPEN",
    treatment: c.treatment,
    strategyId: c.strategyId,
    bucket: c.bucket,
  });
  return b.done();
}

/**
 * Applies a later Overdue: DPD, bucket and amounts follow billing; treatment follows the strategy. A pre-delinquent
 * case becomes open. An Overdue older than the latest applied only marks the event as seen.
 */
export function applyOverdue(
  c: CollectionCase,
  f: OverdueFact,
  tier: RiskTier,
  ctx: LifecycleContext,
): CaseChange {
  const b = new ChangeBuilder(c, ctx.now);
  b.processed(f.eventId);
  if (c.lastOverdueDate !== "" && f.businessDate <= c.lastOverdueDate) {
    b.audit(SYSTEM, "OVERDUE_IGNORED", `stale Overdue ${f.businessDate} (latest ${c.lastOverdueDate})`);
    return b.done();
  }
  const promoted = c.status === "PRE_DELINQUENT";
  b.set({
    status: promoted ? "OPEN" : c.status,
    dpd: f.dpd,
    bucket: f.bucket,
    overdueFen: f.overdueFen,
    totalBalanceFen: f.totalBalanceFen,
    lastOverdueDate: f.businessDate,
    delinquencyStartDate: c.delinquencyStartDate || f.delinquencyStartDate,
    riskTier: tier || c.riskTier,
  });
  enterBucket(b, f.bucket);
  b.audit(
    SYSTEM,
    "OVERDUE_APPLIED",
    `Overdue ${f.businessDate}: DPD ${f.dpd}, ${f.bucket}, overdue ${formatCny(f.overdueFen)}`,
  );
  retreat(b, ctx, f.eventId);
  if (promoted) {
    const n = b.case;
    b.audit(SYSTEM, "CASE_OPENED", `pre-delinquency case became delinquent; treatment ${n.treatment}`);
    b.emit({
      type: "CaseOpened",
      id: deterministicId("CaseOpened", n.caseId, "OPEN"),
      status: "OPEN",
      treatment: n.treatment,
      strategyId: n.strategyId,
      bucket: n.bucket,
    });
  }
  return b.done();
}

/** Opens a pre-delinquency (early-warning) case for a high-risk account whose statement is due soon. */
export function openPreDelinquent(
  f: DueSoonFact,
  tier: RiskTier,
  locale: Locale,
  ctx: LifecycleContext,
): CaseChange {
  const base = blankCase(
    preDelinquencyCaseId(f.accountId, f.dueDate),
    f.accountId,
    f.customerId,
    f.productCode,
    tier,
    locale,
    ctx,
  );
  const b = new ChangeBuilder(base, ctx.now);
  b.set({
    status: "PRE_DELINQUENT",
    amountDueFen: f.amountDueFen,
    dueDate: f.dueDate,
    totalBalanceFen: f.amountDueFen,
  });
  retreat(b, ctx, f.eventId);
  b.processed(f.eventId);
  const c = b.case;
  b.audit(
    SYSTEM,
    "CASE_OPENED",
    `pre-delinquency: tier ${tier}, ${formatCny(f.amountDueFen)} due ${f.dueDate}; early-warning treatment`,
  );
  b.emit({
    type: "CaseOpened",
    id: deterministicId("CaseOpened", c.caseId, "PRE_DELINQUENT"),
    status: "PRE_DELINQUENT",
    treatment: c.treatment,
    strategyId: c.strategyId,
    bucket: c.bucket,
  });
  return b.done();
}

/**
 * Applies a payment: adds to the amount collected, breaks promises dated before the payment date, matches the
 * payment to pending promises first in, first out, and closes a pre-delinquency case once its amount due is paid.
 */
export function applyPayment(c: CollectionCase, f: PaymentFact, ctx: LifecycleContext): CaseChange {
  const b = new ChangeBuilder(c, ctx.now);
  b.processed(f.eventId);
  b.set({
    collectedFen: c.collectedFen + f.amountFen,
    overdueFen: c.status === "PRE_DELINQUENT" ? c.overdueFen : f.overdueFenAfter,
    totalBalanceFen: f.totalBalanceFenAfter,
  });
  b.audit(
    SYSTEM,
    "PAYMENT_RECEIVED",
    `payment ${f.paymentId} ${formatCny(f.amountFen)} on ${f.businessDate}`,
  );
  breakPromisesInto(b, f.businessDate, ctx, f.eventId);
  const m = matchPayment(b.case.promises, f.amountFen, f.businessDate);
  b.set({ promises: m.promises });
  for (const p of m.kept) {
    b.audit(
      SYSTEM,
      "PROMISE_KEPT",
      `promise ${p.promiseId} ${formatCny(p.amountFen)} by ${p.promisedDate} kept`,
    );
    b.emit({ type: "PromiseKept", id: deterministicId("PromiseKept", p.promiseId), promise: p });
  }
  const n = b.case;
  if (n.status === "PRE_DELINQUENT" && n.collectedFen >= n.amountDueFen) {
    b.set({ status: "CLOSED", closedAt: ctx.now });
    b.audit(SYSTEM, "CASE_CLOSED", "pre-delinquency amount paid on time");
    b.emit({
      type: "CaseClosed",
      id: deterministicId("CaseClosed", n.caseId),
      status: "CLOSED",
      collectedFen: n.collectedFen,
      strategyId: n.strategyId,
    });
  }
  return b.done();
}

function breakPromisesInto(
  b: ChangeBuilder,
  asOf: LocalDate,
  ctx: LifecycleContext,
  triggerId: string,
): void {
  const r = breakExpired(b.case.promises, asOf);
  if (r.broken.length === 0) return;
  b.set({ promises: r.promises });
  for (const p of r.broken) {
    b.set({ escalationLevel: b.case.escalationLevel + 1 });
    b.audit(
      SYSTEM,
      "PROMISE_BROKEN",
      `promise ${p.promiseId} ${formatCny(p.amountFen)} by ${p.promisedDate} broken`,
    );
    b.emit({ type: "PromiseBroken", id: deterministicId("PromiseBroken", p.promiseId), promise: p });
    retreat(b, ctx, `${triggerId}:${p.promiseId}`, "PROMISE_BROKEN");
  }
}

/** The daily promise check: breaks pending promises dated before `asOf` and escalates the case. */
export function breakDuePromises(c: CollectionCase, asOf: LocalDate, ctx: LifecycleContext): CaseChange {
  const b = new ChangeBuilder(c, ctx.now);
  if (isActive(c.status)) breakPromisesInto(b, asOf, ctx, "promise-check");
  return b.done();
}

/** Closes the case: billing says the account is cured. */
export function closeCured(
  c: CollectionCase,
  eventId: string,
  businessDate: LocalDate,
  ctx: LifecycleContext,
): CaseChange {
  const b = new ChangeBuilder(c, ctx.now);
  b.processed(eventId);
  b.set({ status: "CLOSED_CURED", closedAt: ctx.now, dpd: 0, overdueFen: 0n });
  skipOpenSteps(b, "case closed: account cured", ctx.now);
  b.audit(SYSTEM, "CASE_CLOSED", `account cured on ${businessDate}`);
  b.emit({
    type: "CaseClosed",
    id: deterministicId("CaseClosed", c.caseId),
    status: "CLOSED_CURED",
    collectedFen: c.collectedFen,
    strategyId: c.strategyId,
  });
  return b.done();
}

/** Hands the case to recovery: billing charged the account off. */
export function handToRecovery(
  c: CollectionCase,
  eventId: string,
  businessDate: LocalDate,
  chargedOffFen: Fen,
  ctx: LifecycleContext,
): CaseChange {
  const b = new ChangeBuilder(c, ctx.now);
  b.processed(eventId);
  b.set({
    status: "RECOVERY",
    closedAt: ctx.now,
    bucket: "CHARGED_OFF",
    treatment: "EXTERNAL_AGENCY",
    queue: "recovery",
    agentId: "",
  });
  enterBucket(b, "CHARGED_OFF");
  skipOpenSteps(b, "case handed to recovery", ctx.now);
  b.audit(
    SYSTEM,
    "CASE_TO_RECOVERY",
    `charged off on ${businessDate}: ${formatCny(chargedOffFen)} handed to recovery`,
  );
  b.emit({
    type: "CaseClosed",
    id: deterministicId("CaseClosed", c.caseId),
    status: "RECOVERY",
    collectedFen: c.collectedFen,
    strategyId: c.strategyId,
  });
  return b.done();
}

/** The bucket billing would give a DPD (exported for adapters that only get DPD). */
export { bucketFor, bucketRank };
