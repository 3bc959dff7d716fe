/**
 * Contact compliance per jurisdiction, checked before any contact. A breach is a refusal naming the rule; the
 * caller records it (the attempt is logged as refused, not made).
 *
 * CN — China Banking Association, 金融机构个人消费类贷款催收工作指引（试行）(30 Jan 2026):
 *   - no collection contact 22:00–08:00 local time without the debtor's consent, the consent stored on the case
 *     with when and on which channel it was given (a flag on the contact itself is not consent) → `CN_QUIET_HOURS`
 *   - a debtor's call not answered: at most 6 attempts a day to one contact point, counted across all the
 *     customer's cases                                                                         → `CN_DAILY_UNANSWERED_CALLS`
 *   - unrelated third parties only while the debtor cannot be reached (失联), only to get the debtor's contact
 *     details or ask them to pass on a request (LOCATE / RELAY)    → `CN_THIRD_PARTY`, `CN_THIRD_PARTY_DEBTOR_REACHABLE`
 *   - never told about the debt: no written contact (SMS, email, letter: the platform's texts state the debt)
 *                                                                                              → `CN_THIRD_PARTY_WRITTEN`
 *   - a third party who asked not to be contacted is never contacted again (any case)          → `CN_THIRD_PARTY_OPTED_OUT`
 * US — Regulation F (12 CFR part 1006):
 *   - 1006.6(b)(1)(i): no communication before 08:00 or after 21:00 local time (absent consent) → `US_INCONVENIENT_TIME`
 *   - 1006.14(b)(2)(i): no more than 7 calls within 7 consecutive days about a debt            → `US_CALL_FREQUENCY`
 *   - 1006.14(b)(2)(ii): no call within 7 consecutive days after a telephone conversation with the
 *     consumer about the debt (the day of the conversation is the first of the 7)             → `US_CALL_AFTER_CONVERSATION`
 *   - 1006.6(d)(1): no communication with third parties about the debt                         → `US_THIRD_PARTY`
 * Letters are not time-of-day contacts and are not subject to the hour rules.
 */
import { addDays, dateInZone, timeInZone } from "@whiteslip/core";
import type { Channel, ContactAttempt, ContactConsent, Jurisdiction, Outcome, Refusal } from "./types";

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
  /** A consent to contact outside the permitted hours is stored (see {@link consentInForce}). */
  consentOutsideHours: boolean;
  /** Attempts already logged on the case (refused ones are ignored). */
  priorAttempts: readonly ContactAttempt[];
  /** Attempts logged on the customer's other cases (per-contact-point rules count across cases); default none. */
  peerAttempts?: readonly ContactAttempt[];
  /** Why a third party is contacted: `LOCATE` or `RELAY` (CN); "" for the debtor. */
  purpose?: string;
}

/** Purposes for which the CN guideline lets an unrelated third party be contacted. */
export const THIRD_PARTY_PURPOSES: readonly string[] = ["LOCATE", "RELAY"];
/** Days without reaching the debtor (and with a failed attempt) after which the debtor counts as unreachable (失联). */
export const CN_UNREACHABLE_DAYS = 7;

/** True when a consent to contact outside the permitted hours was given (and stored) before `now`. */
export function consentInForce(consents: readonly ContactConsent[], now: Date): boolean {
  return consents.some((k) => k.givenAt.getTime() <= now.getTime());
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

/** Made attempts on this case and the customer's other cases. */
function allMade(c: ContactCheck): ContactAttempt[] {
  return [...c.priorAttempts, ...(c.peerAttempts ?? [])].filter((a) => !a.refused);
}

function hhmm(min: number): string {
  return `${String(Math.floor(min / 60)).padStart(2, "0")}:${String(min % 60).padStart(2, "0")}`;
}

const cnRules: ComplianceRule[] = [
  {
    code: "CN_THIRD_PARTY_OPTED_OUT",
    citation: `${CN_GUIDELINE}: a third party who asks not to be contacted must not be contacted again`,
    check: (c) =>
      !isDebtor(c.contactParty) &&
      allMade(c).some((a) => a.contactParty === c.contactParty && a.outcome === "ASKED_NOT_TO_CONTACT")
        ? `${c.contactParty} asked not to be contacted again`
        : null,
  },
  {
    code: "CN_THIRD_PARTY",
    citation: `${CN_GUIDELINE}: unrelated third parties only to obtain the debtor's contact details or ask them to pass on a request, never to collect`,
    check: (c) =>
      !isDebtor(c.contactParty) && !THIRD_PARTY_PURPOSES.includes(c.purpose ?? "")
        ? `a third party may only be contacted to locate the debtor or relay a request (purpose ${THIRD_PARTY_PURPOSES.join(" or ")}), not "${c.purpose ?? ""}"`
        : null,
  },
  {
    code: "CN_THIRD_PARTY_WRITTEN",
    citation: `${CN_GUIDELINE}: no debt information may be disclosed to a third party`,
    check: (c) =>
      !isDebtor(c.contactParty) && c.channel !== "CALL"
        ? `no ${c.channel} to a third party: written collection texts state the debt`
        : null,
  },
  {
    code: "CN_THIRD_PARTY_DEBTOR_REACHABLE",
    citation: `${CN_GUIDELINE}: third parties only when the debtor cannot be reached (失联)`,
    check: (c) => {
      if (isDebtor(c.contactParty)) return null;
      const today = dateInZone(c.now, c.timeZone);
      const from = addDays(today, -(CN_UNREACHABLE_DAYS - 1));
      const debtor = allMade(c).filter((a) => isDebtor(a.contactParty));
      const recent = debtor.filter((a) => dateInZone(a.occurredAt, c.timeZone) >= from);
      if (recent.some((a) => CONVERSATION_OUTCOMES.has(a.outcome)))
        return `the debtor was reached in the last ${CN_UNREACHABLE_DAYS} days`;
      if (!debtor.some((a) => a.outcome === "NO_ANSWER" || a.outcome === "WRONG_NUMBER"))
        return "the debtor has not been tried and failed yet";
      return null;
    },
  },
  {
    code: "CN_QUIET_HOURS",
    citation: `${CN_GUIDELINE}: no collection contact 22:00–08:00 without the debtor's consent`,
    check: (c) => {
      if (c.channel === "LETTER" || c.consentOutsideHours) return null;
      const m = minutesOfDay(c);
      return m >= CN_QUIET_START_MIN || m < CN_QUIET_END_MIN
        ? `no collection contact between 22:00 and 08:00 local time (${c.timeZone}) without a stored consent; it is ${hhmm(m)}`
        : null;
    },
  },
  {
    code: "CN_DAILY_UNANSWERED_CALLS",
    citation: `${CN_GUIDELINE}: a call not answered — at most ${CN_MAX_UNANSWERED_CALLS_PER_DAY} attempts a day to one contact point (all cases)`,
    check: (c) => {
      if (c.channel !== "CALL") return null;
      const today = dateInZone(c.now, c.timeZone);
      const n = allMade(c).filter(
        (a) =>
          a.channel === "CALL" &&
          a.outcome === "NO_ANSWER" &&
          a.contactParty === c.contactParty &&
          dateInZone(a.occurredAt, c.timeZone) === today,
      ).length;
      return n >= CN_MAX_UNANSWERED_CALLS_PER_DAY
        ? `${n} unanswered call attempts to this contact point today already, across the customer's cases (max ${CN_MAX_UNANSWERED_CALLS_PER_DAY})`
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
