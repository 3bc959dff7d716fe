/**
 * The credit line aggregate and its pure rules: opening, available credit,
 * authorization checks, holds, capture, payments, manual adjustment and
 * freezing. Functions return a new state plus the events and audit entries the
 * change produces; they never mutate their input.
 */
import { type Fen, type FieldViolation, type LocalDate, deterministicId, failedPrecondition, invalidArgument } from "@whiteslip/core";
import type { CreditEvent, LineStatus } from "./events";
import type { CreditPolicy, Feature, MerchantScenario } from "./policy";
import type { Tier } from "./scorecard";

/**
 * An open authorization hold: credit reserved at checkout until billing posts
 * the purchase. Only the amount, on purpose: every open hold adds to the line
 * document that each reservation rewrites. The order, the expiry (swept by
 * expire-holds) and the rest of the request are in the authorization record.
 */
export interface Hold {
  readonly amountFen: Fen;
}

/** What the line has observed of the customer's behaviour (input to rescoring). */
export interface Behaviour {
  /** Payments made on or before the due date they settled. */
  readonly onTimePayments: number;
  /** Payments made after the due date. */
  readonly latePayments: number;
  /** Worst days past due ever reached on this line. */
  readonly worstDpd: number;
  /** Days past due now (0 when current). */
  readonly currentDpd: number;
  /** Latest internal credit score from credit-reporting (350–950), null before the first. */
  readonly bureauScore: number | null;
  /** Business date of the latest Overdue applied. */
  readonly lastOverdueOn: LocalDate | null;
  /** Business date of the latest cure applied. */
  readonly lastCuredOn: LocalDate | null;
}

/** Features the account has lost, and why. */
export interface Restriction {
  readonly features: readonly Feature[];
  /** `OVERDUE`, or empty when none. */
  readonly reason: string;
  /** When the current restriction began. */
  readonly since: Date | null;
  /** Days past due behind the restriction (0 when none). */
  readonly daysPastDue: number;
}

/** One audited change of limit, status or tier. */
export interface LineChange {
  readonly at: Date;
  readonly actor: string;
  readonly reason: string;
  readonly previousLimitFen: Fen;
  readonly limitFen: Fen;
  readonly previousStatus: LineStatus;
  readonly status: LineStatus;
  readonly previousTier: Tier;
  readonly tier: Tier;
  readonly score: number;
}

/** A customer's revolving credit line; its id is also billing's account id. */
export interface CreditLine {
  readonly id: string;
  readonly customerId: string;
  readonly applicationId: string;
  readonly productCode: string;
  readonly statementDay: number;
  readonly openedAt: Date;
  readonly modelVersion: string;
  /** Declared monthly income at application (caps line increases). */
  readonly monthlyIncomeFen: Fen;
  /** Score at application. */
  readonly applicationScore: number;
  /** Current (behavioural) score. */
  readonly score: number;
  readonly tier: Tier;
  readonly limitFen: Fen;
  /** Balance posted in billing as credit has observed it. */
  readonly postedBalanceFen: Fen;
  /** Sum of open holds. */
  readonly openHoldsFen: Fen;
  /** Open holds by authorization id. */
  readonly holds: Readonly<Record<string, Hold>>;
  readonly status: LineStatus;
  /** Who froze the line (`system:rescoring` or an operator); null when not frozen. */
  readonly frozenBy: string | null;
  readonly restriction: Restriction;
  readonly behaviour: Behaviour;
  /** Business date of the last periodic rescoring. */
  readonly lastRescoredOn: LocalDate | null;
  /** Optimistic concurrency version; every stored change increments it. */
  readonly version: number;
}

/** A state change: the new line, the events it publishes and its audit entries. */
export interface LineUpdate {
  readonly line: CreditLine;
  readonly events: readonly CreditEvent[];
  readonly changes: readonly LineChange[];
}

/** limit − posted balance − open holds; may be negative after a limit decrease (callers show max(0, ·)). */
export function rawAvailableFen(line: Pick<CreditLine, "limitFen" | "postedBalanceFen" | "openHoldsFen">): Fen {
  return line.limitFen - line.postedBalanceFen - line.openHoldsFen;
}

/** Available credit as shown to callers: never below 0. */
export function availableFen(line: Pick<CreditLine, "limitFen" | "postedBalanceFen" | "openHoldsFen">): Fen {
  const a = rawAvailableFen(line);
  return a < 0n ? 0n : a;
}

/** Everything needed to open a line for an approved application. */
export interface OpenLineInput {
  readonly id: string;
  readonly customerId: string;
  readonly applicationId: string;
  readonly productCode: string;
  readonly statementDay: number;
  readonly modelVersion: string;
  readonly monthlyIncomeFen: Fen;
  readonly score: number;
  readonly tier: Tier;
  readonly limitFen: Fen;
  readonly at: Date;
}

/** Opens a line and emits CreditLineOpened (id derived from the line id: one fact). */
export function openLine(i: OpenLineInput): LineUpdate {
  const line: CreditLine = {
    id: i.id,
    customerId: i.customerId,
    applicationId: i.applicationId,
    productCode: i.productCode,
    statementDay: i.statementDay,
    openedAt: i.at,
    modelVersion: i.modelVersion,
    monthlyIncomeFen: i.monthlyIncomeFen,
    applicationScore: i.score,
    score: i.score,
    tier: i.tier,
    limitFen: i.limitFen,
    postedBalanceFen: 0n,
    openHoldsFen: 0n,
    holds: {},
    status: "ACTIVE",
    frozenBy: null,
    restriction: { features: [], reason: "", since: null, daysPastDue: 0 },
    behaviour: { onTimePayments: 0, latePayments: 0, worstDpd: 0, currentDpd: 0, bureauScore: null, lastOverdueOn: null, lastCuredOn: null },
    lastRescoredOn: null,
    version: 0,
  };
  return {
    line,
    events: [
      {
        type: "CreditLineOpened",
        id: deterministicId("credit.credit-line-opened", i.id),
        time: i.at,
        data: {
          creditLineId: i.id,
          customerId: i.customerId,
          limitFen: i.limitFen,
          tier: i.tier,
          statementDay: i.statementDay,
          productCode: i.productCode,
          modelVersion: i.modelVersion,
        },
      },
    ],
    changes: [],
  };
}

/** An authorization request at checkout. */
export interface AuthorizationRequest {
  readonly creditLineId: string;
  readonly amountFen: Fen;
  readonly merchantScenario: MerchantScenario;
  readonly merchantId: string;
  readonly orderId: string;
  readonly installmentMonths: number;
  readonly idempotencyKey: string;
}

/** Validates an authorization request's fields; throws INVALID_ARGUMENT listing each bad field. */
export function validateAuthorizationRequest(r: AuthorizationRequest, policy: CreditPolicy): void {
  const v: FieldViolation[] = [];
  if (!r.creditLineId) v.push({ field: "credit_line_id", description: "is required" });
  if (r.amountFen <= 0n) v.push({ field: "amount_fen", description: "must be greater than 0" });
  if (r.merchantScenario === "UNSPECIFIED") v.push({ field: "merchant_scenario", description: "is required" });
  if (!r.orderId) v.push({ field: "order_id", description: "is required" });
  if (!r.idempotencyKey) v.push({ field: "idempotency_key", description: "is required" });
  if (r.installmentMonths !== 0 && !policy.installmentTerms.includes(r.installmentMonths)) {
    v.push({ field: "installment_months", description: `must be 0 or one of ${policy.installmentTerms.join(", ")}` });
  }
  if (v.length > 0) throw invalidArgument(v);
}

/** Decline reason codes of AuthorizePurchase. */
export type DeclineReason =
  | "ACCOUNT_CLOSED"
  | "ACCOUNT_FROZEN"
  | "ACCOUNT_RESTRICTED"
  | "INSTALLMENTS_RESTRICTED"
  | "MERCHANT_SCENARIO_NOT_ALLOWED"
  | "INSUFFICIENT_AVAILABLE_CREDIT";

/**
 * Features an authorization needs unrestricted: new purchases always, and
 * installments when the purchase is split.
 */
export function featuresNeeded(installmentMonths: number): Feature[] {
  return installmentMonths > 0 ? ["NEW_PURCHASES", "INSTALLMENTS"] : ["NEW_PURCHASES"];
}

/**
 * The authorization rules of the domain, in order: the line is open, not frozen,
 * not restricted for new purchases (nor installments when split), the merchant
 * scenario is covered, and amount ≤ available credit. Returns null to approve.
 * The store enforces the same conditions atomically when it reserves the hold.
 */
export function declineReason(line: CreditLine, r: Pick<AuthorizationRequest, "amountFen" | "merchantScenario" | "installmentMonths">, policy: CreditPolicy): DeclineReason | null {
  if (line.status === "CLOSED") return "ACCOUNT_CLOSED";
  if (line.status === "FROZEN") return "ACCOUNT_FROZEN";
  if (line.restriction.features.includes("NEW_PURCHASES")) return "ACCOUNT_RESTRICTED";
  if (r.installmentMonths > 0 && line.restriction.features.includes("INSTALLMENTS")) return "INSTALLMENTS_RESTRICTED";
  if (!policy.allowedScenarios.includes(r.merchantScenario)) return "MERCHANT_SCENARIO_NOT_ALLOWED";
  if (r.amountFen > rawAvailableFen(line)) return "INSUFFICIENT_AVAILABLE_CREDIT";
  return null;
}

/** Places a hold (the pure twin of the store's atomic reservation). */
export function placeHold(line: CreditLine, authorizationId: string, hold: Hold): CreditLine {
  if (line.holds[authorizationId]) return line;
  return { ...line, holds: { ...line.holds, [authorizationId]: hold }, openHoldsFen: line.openHoldsFen + hold.amountFen };
}

/** Removes a hold (released, expired or captured); unchanged when it is not open. */
export function removeHold(line: CreditLine, authorizationId: string): CreditLine {
  const hold = line.holds[authorizationId];
  if (!hold) return line;
  const { [authorizationId]: _, ...rest } = line.holds;
  return { ...line, holds: rest, openHoldsFen: line.openHoldsFen - hold.amountFen };
}

/**
 * Billing posted a purchase: its hold (if still open) is captured and the posted
 * balance rises by the posted amount. A purchase without an open hold (expired,
 * or posted by billing directly) still raises the balance.
 */
export function capturePurchase(line: CreditLine, authorizationId: string, amountFen: Fen): CreditLine {
  const released = authorizationId ? removeHold(line, authorizationId) : line;
  return { ...released, postedBalanceFen: released.postedBalanceFen + amountFen };
}

/** Billing received a payment: the posted balance falls (not below 0) and payment behaviour is counted. */
export function recordPayment(line: CreditLine, amountFen: Fen, onTime: boolean): CreditLine {
  const posted = line.postedBalanceFen - amountFen;
  return {
    ...line,
    postedBalanceFen: posted < 0n ? 0n : posted,
    behaviour: {
      ...line.behaviour,
      onTimePayments: line.behaviour.onTimePayments + (onTime ? 1 : 0),
      latePayments: line.behaviour.latePayments + (onTime ? 0 : 1),
    },
  };
}

/** A manual change of limit and/or status by an operator. */
export interface Adjustment {
  /** New limit; 0 keeps the current one. */
  readonly newLimitFen: Fen;
  /** Freeze (true) / unfreeze (false) when `setStatus`. */
  readonly freeze: boolean;
  readonly setStatus: boolean;
  readonly reason: string;
  readonly actor: string;
  readonly idempotencyKey: string;
  readonly at: Date;
}

/**
 * Applies a manual adjustment: a reason and actor are required; the limit stays
 * within the product bounds; an increase is refused while line increases are
 * restricted; a closed line cannot change. Returns the update with one audit
 * entry and a CreditLineChanged event, or null when nothing changes.
 */
export function adjustLine(line: CreditLine, a: Adjustment, policy: CreditPolicy): LineUpdate | null {
  const v: FieldViolation[] = [];
  if (!a.reason.trim()) v.push({ field: "reason", description: "is required" });
  if (!a.actor.trim()) v.push({ field: "actor", description: "is required" });
  if (!a.idempotencyKey) v.push({ field: "idempotency_key", description: "is required" });
  if (a.newLimitFen < 0n) v.push({ field: "new_limit_fen", description: "must not be negative" });
  else if (a.newLimitFen > 0n && (a.newLimitFen < policy.minLineFen || a.newLimitFen > policy.maxLineFen)) {
    v.push({ field: "new_limit_fen", description: `must be between ${policy.minLineFen} and ${policy.maxLineFen} fen` });
  }
  if (!a.setStatus && a.newLimitFen === 0n) v.push({ field: "new_limit_fen", description: "nothing to change: set new_limit_fen or set_status" });
  if (v.length > 0) throw invalidArgument(v);
  if (line.status === "CLOSED") throw failedPrecondition("CREDIT_LINE_CLOSED", `credit line ${line.id} is closed`);
  const limit = a.newLimitFen > 0n ? a.newLimitFen : line.limitFen;
  if (limit > line.limitFen && line.restriction.features.includes("LINE_INCREASES")) {
    throw failedPrecondition("LINE_INCREASES_RESTRICTED", `credit line ${line.id} may not be increased while restricted`);
  }
  const status: LineStatus = a.setStatus ? (a.freeze ? "FROZEN" : "ACTIVE") : line.status;
  if (limit === line.limitFen && status === line.status) return null;
  const next: CreditLine = {
    ...line,
    limitFen: limit,
    status,
    frozenBy: status === "FROZEN" ? (line.status === "FROZEN" ? line.frozenBy : a.actor) : null,
  };
  const reason = a.reason.trim();
  return changed(line, next, { reason, actor: a.actor, at: a.at, eventId: deterministicId("credit.credit-line-changed", line.id, "adjust", a.idempotencyKey) });
}

/** Builds the audit entry and CreditLineChanged event of a change from `before` to `after`. */
export function changed(
  before: CreditLine,
  after: CreditLine,
  c: { reason: string; actor: string; at: Date; eventId: string },
  extraEvents: readonly CreditEvent[] = [],
): LineUpdate {
  return {
    line: after,
    events: [
      ...extraEvents,
      {
        type: "CreditLineChanged",
        id: c.eventId,
        time: c.at,
        data: {
          creditLineId: after.id,
          customerId: after.customerId,
          previousLimitFen: before.limitFen,
          limitFen: after.limitFen,
          status: after.status,
          previousTier: before.tier,
          tier: after.tier,
          reason: c.reason,
          actor: c.actor,
        },
      },
    ],
    changes: [
      {
        at: c.at,
        actor: c.actor,
        reason: c.reason,
        previousLimitFen: before.limitFen,
        limitFen: after.limitFen,
        previousStatus: before.status,
        status: after.status,
        previousTier: before.tier,
        tier: after.tier,
        score: after.score,
      },
    ],
  };
}

/**
 * Runs `next` on the result of `first` (or on `line` when `first` is null) and
 * joins their events and audit entries; null when neither changed anything.
 */
export function chain(line: CreditLine, first: LineUpdate | null, next: (l: CreditLine) => LineUpdate | null): LineUpdate | null {
  const second = next(first ? first.line : line);
  if (!first) return second;
  if (!second) return first;
  return { line: second.line, events: [...first.events, ...second.events], changes: [...first.changes, ...second.changes] };
}
