import { zonedInstant } from "@whiteslip/core";
import { describe, expect, it } from "vitest";
import { type ContactCheck, checkContact } from "../src/domain/compliance";
import type { Channel, ContactAttempt, Outcome } from "../src/domain/types";

const SH = "Asia/Shanghai";
const NY = "America/New_York";

function at(date: string, hh: number, mm: number, tz = SH): Date {
  return zonedInstant(date, hh, mm, tz);
}

function attempt(
  occurredAt: Date,
  outcome: Outcome = "NO_ANSWER",
  extra: Partial<ContactAttempt> = {},
): ContactAttempt {
  return {
    attemptId: `a-${occurredAt.toISOString()}-${Math.random()}`,
    agentId: "ag1",
    channel: "CALL",
    outcome,
    reason: "UNSPECIFIED",
    occurredAt,
    note: "",
    contactParty: "debtor",
    consentOutsideHours: false,
    refused: false,
    refusedRule: "",
    suggestedSolution: "",
    ...extra,
  };
}

function cn(now: Date, extra: Partial<ContactCheck> = {}): ContactCheck {
  return {
    now,
    timeZone: SH,
    jurisdiction: "CN",
    channel: "CALL",
    contactParty: "debtor",
    consentOutsideHours: false,
    priorAttempts: [],
    ...extra,
  };
}

function us(now: Date, extra: Partial<ContactCheck> = {}): ContactCheck {
  return { ...cn(now, extra), timeZone: NY, jurisdiction: "US", ...extra };
}

describe("CN quiet hours 22:00–08:00 (CBA 催收工作指引)", () => {
  it.each([
    [21, 59, null],
    [22, 0, "CN_QUIET_HOURS"],
    [23, 30, "CN_QUIET_HOURS"],
    [0, 0, "CN_QUIET_HOURS"],
    [7, 59, "CN_QUIET_HOURS"],
    [8, 0, null],
  ])("a call at %i:%i local is %s", (h, m, rule) => {
    expect(checkContact(cn(at("2026-03-10", h, m)))?.rule ?? null).toBe(rule);
  });

  it("uses the customer's time zone, not UTC", () => {
    // 13:30 UTC is 21:30 in Shanghai (allowed) and 14:30 UTC is 22:30 (refused).
    expect(checkContact(cn(new Date("2026-03-10T13:30:00Z")))).toBeNull();
    expect(checkContact(cn(new Date("2026-03-10T14:30:00Z")))?.rule).toBe("CN_QUIET_HOURS");
  });

  it("applies to SMS and email too, but not to letters", () => {
    const late = at("2026-03-10", 22, 30);
    for (const ch of ["SMS", "EMAIL"] as Channel[])
      expect(checkContact(cn(late, { channel: ch }))?.rule).toBe("CN_QUIET_HOURS");
    expect(checkContact(cn(late, { channel: "LETTER" }))).toBeNull();
  });

  it("allows contact outside hours with the debtor's consent", () => {
    expect(checkContact(cn(at("2026-03-10", 22, 30), { consentOutsideHours: true }))).toBeNull();
  });
});

describe("CN at most 6 unanswered calls a day to one contact", () => {
  const day = "2026-03-10";
  const calls = (n: number, party = "debtor", outcome: Outcome = "NO_ANSWER") =>
    Array.from({ length: n }, (_, i) => attempt(at(day, 9, i), outcome, { contactParty: party }));

  it("allows the 6th unanswered call and refuses the 7th", () => {
    expect(checkContact(cn(at(day, 12, 0), { priorAttempts: calls(5) }))).toBeNull();
    const r = checkContact(cn(at(day, 12, 0), { priorAttempts: calls(6) }));
    expect(r?.rule).toBe("CN_DAILY_UNANSWERED_CALLS");
  });

  it("counts per contact point: another of the debtor's numbers has its own 6", () => {
    expect(
      checkContact(cn(at(day, 12, 0), { contactParty: "debtor:work", priorAttempts: calls(6, "debtor") })),
    ).toBeNull();
  });

  it("counts only unanswered, made calls of the same local day", () => {
    const answered = calls(6, "debtor", "RIGHT_PARTY");
    expect(checkContact(cn(at(day, 12, 0), { priorAttempts: answered }))).toBeNull();
    const refused = calls(6).map((a) => ({ ...a, refused: true }));
    expect(checkContact(cn(at(day, 12, 0), { priorAttempts: refused }))).toBeNull();
    const yesterday = Array.from({ length: 6 }, (_, i) => attempt(at("2026-03-09", 20, i)));
    expect(checkContact(cn(at(day, 8, 0), { priorAttempts: yesterday }))).toBeNull();
  });

  it("does not limit SMS by the call rule", () => {
    expect(checkContact(cn(at(day, 12, 0), { channel: "SMS", priorAttempts: calls(6) }))).toBeNull();
  });
});

describe("CN and US third parties", () => {
  it("refuses contact with a third party", () => {
    expect(checkContact(cn(at("2026-03-10", 10, 0), { contactParty: "colleague" }))?.rule).toBe(
      "CN_THIRD_PARTY",
    );
    expect(checkContact(us(at("2026-03-10", 10, 0, NY), { contactParty: "neighbour" }))?.rule).toBe(
      "US_THIRD_PARTY",
    );
  });
});

describe("US Regulation F", () => {
  it.each([
    [7, 59, "US_INCONVENIENT_TIME"],
    [8, 0, null],
    [20, 59, null],
    [21, 0, null],
    [21, 1, "US_INCONVENIENT_TIME"],
  ])("1006.6(b)(1)(i): a call at %i:%i local is %s", (h, m, rule) => {
    expect(checkContact(us(at("2026-07-10", h, m, NY)))?.rule ?? null).toBe(rule);
  });

  it("1006.14(b)(2)(i): the 7th call in 7 days is allowed, the 8th refused", () => {
    const now = at("2026-07-10", 12, 0, NY);
    const six = Array.from({ length: 6 }, (_, i) =>
      attempt(at(`2026-07-0${4 + i}`, 10, 0, NY), "NO_ANSWER"),
    );
    expect(checkContact(us(now, { priorAttempts: six }))).toBeNull();
    const seven = [...six, attempt(at("2026-07-10", 9, 0, NY))];
    expect(checkContact(us(now, { priorAttempts: seven }))?.rule).toBe("US_CALL_FREQUENCY");
  });

  it("a call 7 days ago falls out of the window", () => {
    const now = at("2026-07-10", 12, 0, NY);
    const seven = [
      attempt(at("2026-07-03", 10, 0, NY)),
      ...Array.from({ length: 6 }, (_, i) => attempt(at(`2026-07-0${4 + i}`, 10, 0, NY))),
    ];
    expect(checkContact(us(now, { priorAttempts: seven }))).toBeNull();
  });

  it("1006.14(b)(2)(ii): after a conversation, no call for 7 days counting the day of the conversation", () => {
    const talked = [attempt(at("2026-07-03", 15, 0, NY), "PROMISE_TO_PAY")];
    const refusal = checkContact(us(at("2026-07-09", 12, 0, NY), { priorAttempts: talked }));
    expect(refusal?.rule).toBe("US_CALL_AFTER_CONVERSATION");
    expect(refusal?.message).toContain("2026-07-03");
    expect(refusal?.message).toContain("2026-07-10");
    expect(checkContact(us(at("2026-07-10", 9, 0, NY), { priorAttempts: talked }))).toBeNull();
    // other channels are not calls
    expect(checkContact(us(at("2026-07-05", 12, 0, NY), { priorAttempts: talked, channel: "EMAIL" }))).toBeNull();
  });

  it.each([
    ["NO_ANSWER", null],
    ["WRONG_NUMBER", null],
    ["RIGHT_PARTY", "US_CALL_AFTER_CONVERSATION"],
    ["REFUSED", "US_CALL_AFTER_CONVERSATION"],
    ["DISPUTE", "US_CALL_AFTER_CONVERSATION"],
    ["HARDSHIP", "US_CALL_AFTER_CONVERSATION"],
  ] as const)("a call ending %s starts the 7-day wait: %s", (outcome, rule) => {
    const prior = [attempt(at("2026-07-08", 15, 0, NY), outcome)];
    expect(checkContact(us(at("2026-07-09", 12, 0, NY), { priorAttempts: prior }))?.rule ?? null).toBe(rule);
  });

  it("a conversation with a third party or a refused attempt does not start the wait", () => {
    const prior = [
      attempt(at("2026-07-08", 15, 0, NY), "RIGHT_PARTY", { contactParty: "employer" }),
      attempt(at("2026-07-08", 16, 0, NY), "RIGHT_PARTY", { refused: true, refusedRule: "US_INCONVENIENT_TIME" }),
    ];
    expect(checkContact(us(at("2026-07-09", 12, 0, NY), { priorAttempts: prior }))).toBeNull();
  });

  it("has no daily unanswered-call rule of its own (CN's does not apply)", () => {
    const day = "2026-07-10";
    const six = Array.from({ length: 6 }, (_, i) => attempt(at(day, 9, i, NY)));
    expect(checkContact(us(at(day, 12, 0, NY), { priorAttempts: six }))).toBeNull();
  });
});
