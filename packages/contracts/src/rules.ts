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
