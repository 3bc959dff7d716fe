/**
 * Content rules of event payloads: what the schema cannot say (a real calendar date, a positive DPD) but every
 * consumer relies on. One home per rule: each consumer of the topic calls the check before it acts, so a fact
 * that breaks its contract is refused the same way everywhere — an `invalid_argument` DomainError, which the bus
 * classifies as permanent and dead-letters at once (packages/bus/src/failure.ts), in every group. The producer is
 * held to the same rules: a topic's spec carries them (`TopicSpec.violations`, topics.ts) and the bus's encodeEvent
 * refuses to stage or send a fact that breaks them.
 */
import { type FieldViolation, invalidArgument, isLocalDate } from "@whiteslip/core";
import type { Overdue } from "./gen/whiteslip/billing/v1/events_pb";
import type { NotificationSuppressed } from "./gen/whiteslip/notification/v1/events_pb";
import { DeliveryStatus } from "./gen/whiteslip/notification/v1/notification_pb";

/**
 * What is wrong with an Overdue (empty when nothing). Billing sends one per delinquent account and business date
 * (services/billing/src/domain/end-of-day.ts, step 5): an account and customer, a real business date, days past
 * due ≥ 1 (an account with DPD 0 is not delinquent), real dates for the oldest due date and the start of the
 * delinquency when they are set, and no negative amount.
 */
export function overdueViolations(d: Overdue): FieldViolation[] {
  const v: FieldViolation[] = [];
  const bad = (field: string, description: string) => v.push({ field, description });
  if (!d.accountId) bad("account_id", "must be set");
  if (!d.customerId) bad("customer_id", "must be set");
  if (!isLocalDate(d.businessDate)) bad("business_date", `must be a real YYYY-MM-DD date, got ${JSON.stringify(d.businessDate)}`);
  if (!Number.isInteger(d.daysPastDue) || d.daysPastDue < 1) bad("days_past_due", `must be at least 1 (an Overdue is sent only while the account is delinquent), got ${d.daysPastDue}`);
  if (d.oldestDueDate && !isLocalDate(d.oldestDueDate)) bad("oldest_due_date", `must be a real YYYY-MM-DD date when set, got ${JSON.stringify(d.oldestDueDate)}`);
  if (d.delinquencyStartDate && !isLocalDate(d.delinquencyStartDate))
    bad("delinquency_start_date", `must be a real YYYY-MM-DD date when set, got ${JSON.stringify(d.delinquencyStartDate)}`);
  for (const [field, fen] of [
    ["overdue_fen", d.overdueFen],
    ["total_balance_fen", d.totalBalanceFen],
    ["fees_fen", d.feesFen],
    ["penalty_interest_fen", d.penaltyInterestFen],
  ] as const)
    if (fen < 0n) bad(field, `must not be negative, got ${fen}`);
  return v;
}

/** Throws `invalid_argument` (permanent: dead-lettered at once) when `d` breaks the Overdue contract. */
export function checkOverdue(d: Overdue): void {
  const v = overdueViolations(d);
  if (v.length > 0) throw invalidArgument(v);
}

/** Reason codes of NotificationSuppressed (notification's events.proto documents each). */
export const SUPPRESSION_REASON_CODES = [
  "OPTED_OUT",
  "CAP_HOLD_EXPIRED",
  "ALREADY_SENT",
  "VALIDITY_ENDED",
  "SUPERSEDED_BY_PAYMENT",
  "SUPERSEDED_BY_CURE",
  "SUPERSEDED_BY_NEWER_NOTICE",
] as const;

/**
 * What is wrong with a NotificationSuppressed (empty when nothing): it names a message (id, account, the fact it was
 * about) and a terminal status that is not a send — SUPPRESSED, EXPIRED or SUPERSEDED — with a known reason code that
 * fits that status (a consumer maps status and code to its own records, so an unknown pair is a broken contract).
 */
export function notificationSuppressedViolations(d: NotificationSuppressed): FieldViolation[] {
  const v: FieldViolation[] = [];
  const bad = (field: string, description: string) => v.push({ field, description });
  if (!d.ref) bad("ref", "must be set");
  else {
    if (!d.ref.notificationId) bad("ref.notification_id", "must be set");
    if (!d.ref.accountId && !d.ref.customerId) bad("ref.account_id", "must be set (or customer_id)");
    if (!d.ref.factId) bad("ref.fact_id", "must be set");
  }
  const fits: Partial<Record<DeliveryStatus, readonly string[]>> = {
    [DeliveryStatus.SUPPRESSED]: ["OPTED_OUT", "CAP_HOLD_EXPIRED", "ALREADY_SENT"],
    [DeliveryStatus.EXPIRED]: ["VALIDITY_ENDED"],
    [DeliveryStatus.SUPERSEDED]: ["SUPERSEDED_BY_PAYMENT", "SUPERSEDED_BY_CURE", "SUPERSEDED_BY_NEWER_NOTICE"],
  };
  const codes = fits[d.status];
  if (!codes) bad("status", `must be SUPPRESSED, EXPIRED or SUPERSEDED, got ${DeliveryStatus[d.status] ?? d.status}`);
  else if (!codes.includes(d.reasonCode))
    bad("reason_code", `must be one of ${codes.join(", ")} for ${DeliveryStatus[d.status]}, got ${JSON.stringify(d.reasonCode)}`);
  return v;
}

/** Throws `invalid_argument` (permanent: dead-lettered at once) when `d` breaks the NotificationSuppressed contract. */
export function checkNotificationSuppressed(d: NotificationSuppressed): void {
  const v = notificationSuppressedViolations(d);
  if (v.length > 0) throw invalidArgument(v);
}
