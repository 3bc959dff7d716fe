/**
 * Messages expire. Each message has a validity window from its fact, decided
 * when it is planned and checked again when it is due (a message that waited
 * behind quiet hours, a frequency cap or a dispatcher backlog past its window is
 * never sent):
 *
 * - a reminder (DueSoon) is worthless after its due date: valid until the end of
 *   the due date in the business time zone (Asia/Shanghai);
 * - an overdue notice describes the account as of one business day (billing
 *   emits a fresh Overdue every business day the account stays overdue): valid
 *   until the end of the business day after its as-of date — the day it is
 *   planned, since end-of-day for D runs just after D ends — and superseded
 *   before that by a payment or a cure of the account after the notice's fact,
 *   or by a newer overdue notice for the same account and channel;
 * - confirmations (payment received/deferred, line changes) stay true and legal
 *   notices must be delivered however late: no window.
 *
 * Pure: no I/O; the dispatcher supplies what it knows of the account.
 */
import { addDays, isLocalDate, type LocalDate, dateInZone, zonedInstant } from "@whiteslip/core";
import type { Channel, Fact, Message, UnsentReasonCode } from "./model";

/** The validity of a message planned for a fact. */
export interface Validity {
  /** End of the window (exclusive), when there is one. */
  validUntil?: Date;
  /** True for an overdue notice: later payments, cures and newer notices supersede it. */
  supersedable: boolean;
}

/** Start of the day after `date` in `timeZone`: the end of `date`. */
export function endOfDay(date: LocalDate, timeZone: string): Date {
  return zonedInstant(addDays(date, 1), 0, 0, timeZone);
}

/** The validity window of messages for `fact` (see the module comment). */
export function validityOf(fact: Fact, timeZone: string): Validity {
  switch (fact.trigger) {
    case "DUE_SOON": {
      const due = String(fact.vars.dueDate ?? "");
      return isLocalDate(due) ? { validUntil: endOfDay(due, timeZone), supersedable: false } : { supersedable: false };
    }
    case "OVERDUE": {
      const asOf = String(fact.vars.asOf ?? "");
      const day = isLocalDate(asOf) ? asOf : dateInZone(fact.occurredAt, timeZone);
      return { validUntil: endOfDay(addDays(day, 1), timeZone), supersedable: true };
    }
    default:
      return { supersedable: false };
  }
}

/** What notification knows of an account's later facts (kept from the events it consumes). */
export interface AccountFacts {
  /** Latest payment received (its `received_at`). */
  lastPaymentAt?: Date;
  /** Latest cure (the AccountCured event's time). */
  curedAt?: Date;
  /** Per channel, the fact time of the newest overdue notice planned on it. */
  latestNoticeAt?: Partial<Record<Channel, Date>>;
  /** Per channel, the message id of that newest notice (what the next, newer notice supersedes by id). */
  latestNoticeId?: Partial<Record<Channel, string>>;
}

/** What superseded a notice. */
export type Supersessor = "PAYMENT" | "CURE" | "NEWER_NOTICE";

/** The stored reason of a supersession (one wording, whether found when the fact arrives or at dispatch). */
export function supersededReason(by: Supersessor, at: Date): string {
  switch (by) {
    case "PAYMENT":
      return `superseded by a payment received ${at.toISOString()}`;
    case "CURE":
      return `superseded: account cured ${at.toISOString()}`;
    case "NEWER_NOTICE":
      return `superseded by a newer overdue notice (fact of ${at.toISOString()})`;
  }
}

/** A supersession's reason code and words (what a message SUPERSEDED by `by` at `at` records and publishes). */
export interface Supersession {
  code: UnsentReasonCode;
  reason: string;
}

/** The reason code of a supersession. */
export function supersededCode(by: Supersessor): UnsentReasonCode {
  return by === "PAYMENT" ? "SUPERSEDED_BY_PAYMENT" : by === "CURE" ? "SUPERSEDED_BY_CURE" : "SUPERSEDED_BY_NEWER_NOTICE";
}

/** Code and words of a supersession by `by` at `at`. */
export function supersession(by: Supersessor, at: Date): Supersession {
  return { code: supersededCode(by), reason: supersededReason(by, at) };
}

/** A message that must not be sent any more, and why. */
export interface Obsolete {
  /** EXPIRED (window closed) or SUPERSEDED (a later fact made it wrong). */
  status: "EXPIRED" | "SUPERSEDED";
  /** The rule (VALIDITY_ENDED, SUPERSEDED_BY_*). */
  code: UnsentReasonCode;
  /** Stored and shown in ListNotifications. */
  reason: string;
}

/**
 * Whether a not-yet-sent message is obsolete at `now`: superseded (a payment, a
 * cure or a newer notice for the same account and channel after its fact) or
 * expired (past `validUntil`); null when it may still be sent. Supersession is
 * reported first: it is the more telling reason.
 */
export function obsolescence(
  m: Pick<Message, "validUntil" | "supersedable" | "factAt" | "channel" | "category">,
  now: Date,
  facts: AccountFacts | null,
): Obsolete | null {
  if (m.category === "LEGAL") return null;
  if (m.supersedable && m.factAt && facts) {
    const after = (t: Date | undefined) => t !== undefined && t.getTime() > m.factAt!.getTime();
    if (after(facts.lastPaymentAt))
      return { status: "SUPERSEDED", ...supersession("PAYMENT", facts.lastPaymentAt!) };
    if (after(facts.curedAt)) return { status: "SUPERSEDED", ...supersession("CURE", facts.curedAt!) };
    const newer = facts.latestNoticeAt?.[m.channel];
    if (after(newer)) return { status: "SUPERSEDED", ...supersession("NEWER_NOTICE", newer!) };
  }
  if (m.validUntil && now.getTime() >= m.validUntil.getTime())
    return { status: "EXPIRED", code: "VALIDITY_ENDED", reason: `validity window ended ${m.validUntil.toISOString()}` };
  return null;
}
