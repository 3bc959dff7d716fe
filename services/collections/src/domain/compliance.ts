/**
 * Contact compliance per jurisdiction, checked before any contact. A breach is a refusal naming the rule; the
 * caller records it (the attempt is logged as refused, not made).
 *
 * CN — China Banking Association, 个人消费类贷款催收工作指引 (2026):
 *   - no collection contact 22:00–08:00 local time without the debtor's consent  → `CN_QUIET_HOURS`
 *   - at most 6 unanswered call attempts a day to one contact                   → `CN_DAILY_UNANSWERED_CALLS`
 *   - no contact with unrelated third parties                                    → `CN_THIRD_PARTY`
 * US — Regulation F (12 CFR part 1006):
 *   - 1006.6(b)(1)(i): no communication before 08:00 or after 21:00 local time (absent consent) → `US_INCONVENIENT_TIME`
 *   - 1006.14(b)(2)(i): no more than 7 calls within 7 consecutive days about a debt            → `US_CALL_FREQUENCY`
 *   - 1006.14(b)(2)(ii): no call within 7 consecutive days after a telephone conversation with the
 *     consumer about the debt (the day of the conversation is the first of the 7)             → `US_CALL_AFTER_CONVERSATION`
 *   - 1006.6(d)(1): no communication with third parties about the debt                         → `US_THIRD_PARTY`
 * Letters are not time-of-day contacts and are not subject to the hour rules.
 */
import { addDays, dateInZone, timeInZone } from "@whiteslip/core";
import type { Channel, ContactAttempt, Jurisdiction, Outcome, Refusal } from "./types";

/** The debtor themself; `debtor:<label>` names one of the debtor's own contact points; anything else is a third party. */
export const DEBTOR = "debtor";

/** True when the contact is the debtor (any of their own contact points). */
export function isDebtor(party: string): boolean {
  return party === DEBTOR || party.startsWith(`${DEBTOR}:`);
}

/** What a compliance check looks at. */
export interface ContactCheck {
  /** When the contact would be made. */
  now: Date;
  /** Customer's IANA time zone. */
  timeZone: string;
  /** Jurisdiction of the product. */
  jurisdiction: Jurisdiction;
  /** Channel. */
  channel: Channel;
  /** `debtor` or a third-party relation. */
  contactParty: string;
  /** The debtor consented to contact outside the permitted hours. */
  consentOutsideHours: boolean;
  /** Attempts already logged on the case (refused ones are ignored). */
  priorAttempts: readonly ContactAttempt[];
}

/** One rule of a jurisdiction: returns a refusal message when broken. */
export interface ComplianceRule {
  /** Rule code, e.g. `CN_QUIET_HOURS`. */
  code: string;
  /** Source of the rule. */
  citation: string;
  /** A message when the contact breaks the rule, else null. */
  check(c: ContactCheck): string | null;
}

/** CN guideline limits. */
export const CN_QUIET_START_MIN = 22 * 60;
export const CN_QUIET_END_MIN = 8 * 60;
export const CN_MAX_UNANSWERED_CALLS_PER_DAY = 6;
/** US Regulation F limits. */
export const US_EARLIEST_MIN = 8 * 60;
export const US_LATEST_MIN = 21 * 60;
export const US_MAX_CALLS_IN_7_DAYS = 7;
/** Call outcomes that mean the agent spoke with the debtor (a "telephone conversation" in Regulation F). */
export const CONVERSATION_OUTCOMES: ReadonlySet<Outcome> = new Set(["RIGHT_PARTY", "PROMISE_TO_PAY", "REFUSED", "DISPUTE", "HARDSHIP"]);

const CN_GUIDELINE = "China Banking Association 个人消费类贷款催收工作指引 (2026)";

function minutesOfDay(c: ContactCheck): number {
  const { hour, minute } = timeInZone(c.now, c.timeZone);
  return hour * 60 + minute;
}

function madeCalls(c: ContactCheck): ContactAttempt[] {
  return c.priorAttempts.filter((a) => !a.refused && a.channel === "CALL");
}

function hhmm(min: number): string {
  return `${String(Math.floor(min / 60)).padStart(2, "0")}:${String(min % 60).padStart(2, "0")}`;
}

const cnRules: ComplianceRule[] = [
  {
    code: "CN_THIRD_PARTY",
    citation: `${CN_GUIDELINE}: no collection contact with unrelated third parties`,
    check: (c) => (!isDebtor(c.contactParty) ? "collection contact with a third party is not allowed" : null),
  },
  {
    code: "CN_QUIET_HOURS",
    citation: `${CN_GUIDELINE}: no collection contact 22:00–08:00 without the debtor's consent`,
    check: (c) => {
      if (c.channel === "LETTER" || c.consentOutsideHours) return null;
      const m = minutesOfDay(c);
      return m >= CN_QUIET_START_MIN || m < CN_QUIET_END_MIN
        ? `no collection contact between 22:00 and 08:00 local time (${c.timeZone}); it is ${hhmm(m)}`
        : null;
    },
  },
  {
    code: "CN_DAILY_UNANSWERED_CALLS",
    citation: `${CN_GUIDELINE}: at most ${CN_MAX_UNANSWERED_CALLS_PER_DAY} unanswered call attempts a day to one contact`,
    check: (c) => {
      if (c.channel !== "CALL") return null;
      const today = dateInZone(c.now, c.timeZone);
      const n = madeCalls(c).filter(
        (a) =>
          a.outcome === "NO_ANSWER" &&
          a.contactParty === c.contactParty &&
          dateInZone(a.occurredAt, c.timeZone) === today,
      ).length;
      return n >= CN_MAX_UNANSWERED_CALLS_PER_DAY
        ? `${n} unanswered call attempts to this contact today already (max ${CN_MAX_UNANSWERED_CALLS_PER_DAY})`
        : null;
    },
  },
];

const usRules: ComplianceRule[] = [
  {
    code: "US_THIRD_PARTY",
    citation: "12 CFR 1006.6(d)(1): no communication with third parties in connection with the debt",
    check: (c) =>
      !isDebtor(c.contactParty) ? "communication with a third party about the debt is not allowed" : null,
  },
  {
    code: "US_INCONVENIENT_TIME",
    citation: "12 CFR 1006.6(b)(1)(i): before 8:00 a.m. or after 9:00 p.m. local time is inconvenient",
    check: (c) => {
      if (c.channel === "LETTER" || c.consentOutsideHours) return null;
      const m = minutesOfDay(c);
      return m < US_EARLIEST_MIN || m > US_LATEST_MIN
        ? `contact only 08:00–21:00 local time (${c.timeZone}); it is ${hhmm(m)}`
        : null;
    },
  },
  {
    code: "US_CALL_FREQUENCY",
    citation: "12 CFR 1006.14(b)(2)(i): no more than 7 calls within 7 consecutive days about a debt",
    check: (c) => {
      if (c.channel !== "CALL") return null;
      const today = dateInZone(c.now, c.timeZone);
      const from = addDays(today, -6);
      const n = madeCalls(c).filter((a) => {
        const d = dateInZone(a.occurredAt, c.timeZone);
        return d >= from && d <= today;
      }).length;
      return n >= US_MAX_CALLS_IN_7_DAYS
        ? `${n} calls about this debt in the 7 days ${from}..${today} already (max ${US_MAX_CALLS_IN_7_DAYS})`
        : null;
    },
  },
  {
    code: "US_CALL_AFTER_CONVERSATION",
    citation:
      "12 CFR 1006.14(b)(2)(ii): no call within 7 consecutive days after a telephone conversation about the debt",
    check: (c) => {
      if (c.channel !== "CALL") return null;
      const today = dateInZone(c.now, c.timeZone);
      const last = madeCalls(c)
        .filter((a) => isDebtor(a.contactParty) && CONVERSATION_OUTCOMES.has(a.outcome))
        .map((a) => dateInZone(a.occurredAt, c.timeZone))
        .filter((d) => d <= today)
        .sort()
        .at(-1);
      if (last === undefined) return null;
      const allowedFrom = addDays(last, 7);
      return today < allowedFrom
        ? `a telephone conversation about this debt took place on ${last}; no call before ${allowedFrom}`
        : null;
    },
  },
];

/** Rules per jurisdiction, checked in order (the first broken rule is reported). */
export const RULES: Readonly<Record<Jurisdiction, readonly ComplianceRule[]>> = { CN: cnRules, US: usRules };

/** Checks a contact against its jurisdiction's rules; null when allowed, else the first broken rule. */
export function checkContact(c: ContactCheck): Refusal | null {
  for (const rule of RULES[c.jurisdiction]) {
    const message = rule.check(c);
    if (message) return { rule: rule.code, message, citation: rule.citation };
  }
  return null;
}
