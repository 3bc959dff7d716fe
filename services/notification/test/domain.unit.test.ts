import type { DomainError } from "@whiteslip/core";
import { describe, expect, it } from "vitest";
import {
  type CadenceRule,
  DEFAULT_CADENCE_POLICY,
  selectChannels,
  validatePolicy,
} from "../src/domain/cadence-policy";
import {
  capDecision,
  channelAllowed,
  contactFor,
  countsTowardCap,
  fallbackChannel,
  retryDelayMs,
} from "../src/domain/delivery-rules";
import { type Bucket, defaultProfile, type Fact } from "../src/domain/model";
import { fallbackMessage, messageId, planMessages } from "../src/domain/plan";
import {
  bestHour,
  chooseSendTime,
  type EngagementSample,
  isInWindow,
  nextAllowed,
} from "../src/domain/schedule";
import { formatDate, renderTemplate, TEMPLATES } from "../src/domain/templates";

const overdue = (dpd: number, bucket: Bucket = dpd > 30 ? "M2" : "M1"): Fact => ({
  eventId: `ev-od-${dpd}`,
  factId: `ev-od-${dpd}`,
  factType: "whiteslip.billing.v1.Overdue",
  trigger: "OVERDUE",
  occurredAt: new Date("2026-12-01T02:00:00Z"),
  customerId: "c1",
  accountId: "a1",
  dpd,
  bucket,
  vars: { dpd, overdue: 123456n, total: 500000n, asOf: "2026-12-06" },
});
const dueSoon: Fact = {
  eventId: "ev-ds",
  factId: "ev-ds",
  factType: "whiteslip.billing.v1.DueSoon",
  trigger: "DUE_SOON",
  occurredAt: new Date("2026-12-01T02:00:00Z"),
  customerId: "c1",
  accountId: "a1",
  vars: { amountDue: 123456n, minimumPayment: 12346n, dueDate: "2026-12-05", daysUntilDue: 5 },
};
const chans = (f: Fact, rules: readonly CadenceRule[] = DEFAULT_CADENCE_POLICY) =>
  selectChannels(rules, f).map((s) => `${s.rule.id}:${s.channel}`);

describe("cadence policy (data)", () => {
  it("default table is valid and every template exists", () => {
    expect(() => validatePolicy(DEFAULT_CADENCE_POLICY)).not.toThrow();
  });
  it.each([
    [1, ["overdue-dpd1:SMS", "overdue-dpd1:IN_APP"]],
    [2, []],
    [3, ["overdue-dpd3:EMAIL"]],
    [7, ["overdue-dpd7:SMS"]],
    [8, []],
    [14, ["overdue-weekly:SMS", "overdue-weekly:IN_APP"]],
    [15, []],
    [21, ["overdue-weekly:SMS", "overdue-weekly:IN_APP"]],
    [31, ["overdue-formal-notice-m2plus:EMAIL", "overdue-formal-notice-m2plus:IN_APP"]],
    [35, ["overdue-weekly:SMS", "overdue-weekly:IN_APP"]],
    // DPD 91 (M4): formal notice and weekly fall on the same day; formal owns in-app, weekly keeps SMS.
    [91, ["overdue-formal-notice-m2plus:EMAIL", "overdue-formal-notice-m2plus:IN_APP", "overdue-weekly:SMS"]],
    [181, []],
  ])("Overdue at DPD %i selects %j", (dpd, expected) => {
    expect(chans(overdue(dpd, dpd === 91 ? "M4" : undefined))).toEqual(expected);
  });
  it("the formal notice needs bucket M2+ (a DPD 31 fact still tagged M1 gets none)", () => {
    expect(chans(overdue(31, "M1"))).toEqual([]);
  });
  it("DueSoon selects SMS, email and in-app reminders", () => {
    expect(chans(dueSoon)).toEqual(["due-soon:SMS", "due-soon:EMAIL", "due-soon:IN_APP"]);
  });
  it("a risk team's change of the table changes behaviour without code (DPD 2 voice call)", () => {
    const rules = [
      ...DEFAULT_CADENCE_POLICY,
      {
        id: "dpd2-voice",
        priority: 25,
        trigger: "OVERDUE",
        onDpd: [2],
        channels: ["VOICE"],
        template: "overdue-notice@1",
        category: "COLLECTION",
      } as CadenceRule,
    ];
    validatePolicy(rules);
    expect(chans(overdue(2), rules)).toEqual(["dpd2-voice:VOICE"]);
  });
  it("rejects a bad table naming each bad field", () => {
    const bad = [
      { id: "X", priority: 1, trigger: "NOPE", channels: [], template: "due-soon@9", category: "REMINDER" },
      {
        id: "ok",
        priority: 1,
        trigger: "OVERDUE",
        onDpd: [1],
        everyNDays: 0,
        minDpd: 5,
        maxDpd: 2,
        channels: ["FAX"],
        template: "due-soon@1",
        category: "X",
      },
    ] as unknown as CadenceRule[];
    try {
      validatePolicy(bad);
      expect.unreachable();
    } catch (e) {
      const fields = (e as DomainError).violations.map((v) => v.field);
      expect(fields).toEqual(
        expect.arrayContaining([
          "rules[0].id",
          "rules[0].trigger",
          "rules[0].channels",
          "rules[0].template",
          "rules[1].category",
          "rules[1].channels[0]",
          "rules[1].maxDpd",
          "rules[1].everyNDays",
          "rules[1].onDpd",
        ]),
      );
    }
  });
});

describe("templates", () => {
  it("zh-CN: amount as ¥1,234.56 and date as 2026年12月5日", () => {
    const r = renderTemplate("due-soon@1", "zh-CN", dueSoon.vars);
    expect(r.subject).toBe("还款提醒：账单将于2026年12月5日到期");
    expect(r.body).toContain("应还¥1,234.56");
    expect(r.body).toContain("最低还款额¥123.46");
    expect(r.body).toContain("还有5天");
  });
  it("en: 5 Dec 2026", () => {
    const r = renderTemplate("due-soon@1", "en", dueSoon.vars);
    expect(r.subject).toBe("Reminder: your statement is due on 5 Dec 2026");
    expect(r.body).toContain("statement of ¥1,234.56");
  });
  it("formats dates per locale", () => {
    expect(formatDate("2026-01-31", "zh-CN")).toBe("2026年1月31日");
    expect(formatDate("2026-01-31", "en")).toBe("31 Jan 2026");
  });
  it("a missing variable renders as '-', never as the raw placeholder", () => {
    expect(renderTemplate("payment-received@1", "en", {}).body).not.toContain("{");
  });
  it("every template has both locales with non-empty text", () => {
    for (const t of TEMPLATES)
      for (const l of ["zh-CN", "en"] as const) expect(t.text[l].body.length).toBeGreaterThan(10);
  });
});

const SH = "Asia/Shanghai";
// 2026-12-01 is a Tuesday; Shanghai = UTC+8.
const at = (local: string, tz = "+08:00") => new Date(`${local}${tz}`);

describe("quiet hours", () => {
  it.each([
    ["2026-12-01T07:59", false],
    ["2026-12-01T08:00", true],
    ["2026-12-01T20:59", true],
    ["2026-12-01T21:00", false],
    ["2026-12-01T23:00", false],
  ])("%s Shanghai allowed=%s", (t, ok) => {
    expect(isInWindow(at(t), SH)).toBe(ok);
  });
  it("23:00 waits for 08:00 the next day; 05:00 for 08:00 the same day", () => {
    expect(nextAllowed(at("2026-12-01T23:00"), SH).toISOString()).toBe(at("2026-12-02T08:00").toISOString());
    expect(nextAllowed(at("2026-12-02T05:00"), SH).toISOString()).toBe(at("2026-12-02T08:00").toISOString());
  });
  it("uses the recipient's zone, not the business zone", () => {
    // 10:00 Shanghai = 21:00 New York (EST, UTC−5) the day before: quiet there.
    const t = at("2026-12-01T10:00");
    expect(isInWindow(t, "America/New_York")).toBe(false);
    expect(nextAllowed(t, "America/New_York").toISOString()).toBe(
      new Date("2026-12-01T08:00:00-05:00").toISOString(),
    );
  });
});

const sample = (local: string, kind: EngagementSample["kind"] = "OPENED"): EngagementSample => ({
  kind,
  occurredAt: at(local),
  localHour: Number(local.slice(11, 13)),
});

describe("best send time", () => {
  const now = at("2026-12-10T12:00");
  it("learns 19:00 from engagements at 19:xx and explains it", () => {
    const b = bestHour(
      [
        sample("2026-12-01T19:10"),
        sample("2026-12-03T19:40", "CLICKED"),
        sample("2026-12-05T19:05", "PAID"),
        sample("2026-12-06T09:00"),
      ],
      now,
    );
    expect(b.hour).toBe(19);
    expect(b.explanation).toBe("best hour 19:00 from 4 engagements in last 30 days");
  });
  it("too little history → no best hour, product default", () => {
    const b = bestHour([sample("2026-12-01T19:10")], now);
    expect(b.hour).toBeNull();
    expect(b.explanation).toMatch(/1 engagement\(s\) in last 30 days/);
  });
  it("ignores engagement older than 30 days and decays older ones", () => {
    expect(bestHour([sample("2026-10-01T19:00"), sample("2026-10-02T19:00")], now).hour).toBeNull();
    // two old opens at 09 vs two recent opens at 18: recency wins.
    const b = bestHour(
      [
        sample("2026-11-12T09:00"),
        sample("2026-11-13T09:00"),
        sample("2026-12-09T18:00"),
        sample("2026-12-09T18:30"),
      ],
      now,
    );
    expect(b.hour).toBe(18);
  });
  it("payments weigh more than opens", () => {
    const b = bestHour(
      [sample("2026-12-09T10:00"), sample("2026-12-09T10:10"), sample("2026-12-09T15:00", "PAID")],
      now,
    );
    expect(b.hour).toBe(15);
  });
  it("night engagement lends weight to the nearest window hour only through smoothing", () => {
    const b = bestHour([sample("2026-12-09T21:30"), sample("2026-12-08T21:10")], now);
    expect(b.hour).toBe(20);
  });
  const none = bestHour([], now);
  const b19 = { hour: 19, engagements: 5, explanation: "best hour 19:00 from 5 engagements in last 30 days" };
  it("23:00 without history → 08:00 next day, reason names quiet hours", () => {
    const r = chooseSendTime({ now: at("2026-12-01T23:00"), timeZone: SH, best: none, useBestHour: true });
    expect(r.at.toISOString()).toBe(at("2026-12-02T08:00").toISOString());
    expect(r.reason).toBe("quiet hours 21:00–08:00 Asia/Shanghai; next window 08:00");
  });
  it("23:00 with best hour 19 → 19:00 next day (within 12 h of the window opening)", () => {
    const r = chooseSendTime({ now: at("2026-12-01T23:00"), timeZone: SH, best: b19, useBestHour: true });
    expect(r.at.toISOString()).toBe(at("2026-12-02T19:00").toISOString());
    expect(r.reason).toContain("best hour 19:00 from 5 engagements in last 30 days");
  });
  it("10:00 with best hour 19 → 19:00 today; 19:30 with best hour 19 → now", () => {
    expect(
      chooseSendTime({
        now: at("2026-12-01T10:00"),
        timeZone: SH,
        best: b19,
        useBestHour: true,
      }).at.toISOString(),
    ).toBe(at("2026-12-01T19:00").toISOString());
    expect(
      chooseSendTime({
        now: at("2026-12-01T19:30"),
        timeZone: SH,
        best: b19,
        useBestHour: true,
      }).at.toISOString(),
    ).toBe(at("2026-12-01T19:30").toISOString());
  });
  it("a best hour too far ahead is not waited for", () => {
    const r = chooseSendTime({
      now: at("2026-12-01T20:00"),
      timeZone: SH,
      best: { ...b19, hour: 9 },
      useBestHour: true,
      maxDeferralHours: 6,
    });
    expect(r.at.toISOString()).toBe(at("2026-12-01T20:00").toISOString());
    expect(r.reason).toContain("more than 6 h away");
  });
  it("categories that do not defer go at once inside the window", () => {
    expect(
      chooseSendTime({
        now: at("2026-12-01T10:00"),
        timeZone: SH,
        best: b19,
        useBestHour: false,
      }).at.toISOString(),
    ).toBe(at("2026-12-01T10:00").toISOString());
  });
});

describe("delivery rules", () => {
  it("caps hold the 4th collection message of a day and the 11th of a week; in-app and legal are never held", () => {
    expect(capDecision("COLLECTION", "SMS", { today: 2, week: 2 }).hold).toBe(false);
    expect(capDecision("COLLECTION", "SMS", { today: 3, week: 3 })).toEqual({
      hold: true,
      reason: "frequency cap: 3 of 3 messages today",
    });
    expect(capDecision("COLLECTION", "EMAIL", { today: 0, week: 10 }).hold).toBe(true);
    expect(capDecision("COLLECTION", "IN_APP", { today: 9, week: 20 }).hold).toBe(false);
    expect(capDecision("LEGAL", "SMS", { today: 9, week: 20 }).hold).toBe(false);
    expect(countsTowardCap("LEGAL", "SMS")).toBe(true);
    expect(countsTowardCap("COLLECTION", "IN_APP")).toBe(false);
    expect(countsTowardCap("REMINDER", "SMS")).toBe(false);
  });
  it("backoff doubles and is capped", () => {
    expect([1, 2, 3, 10].map((a) => retryDelayMs(a))).toEqual([60_000, 120_000, 240_000, 3_600_000]);
  });
  it("fallback: email → SMS → in-app, skipping opted-out and already-used channels; legal ignores opt-outs", () => {
    const p = {
      ...defaultProfile("c1"),
      preferences: { COLLECTION: ["EMAIL" as const, "IN_APP" as const], REMINDER: [] },
    };
    expect(fallbackChannel(defaultProfile("c1"), "COLLECTION", "EMAIL")).toBe("SMS");
    expect(fallbackChannel(p, "COLLECTION", "EMAIL")).toBe("IN_APP");
    expect(
      fallbackChannel(defaultProfile("c1"), "COLLECTION", "EMAIL", new Set(["SMS", "IN_APP"])),
    ).toBeUndefined();
    expect(fallbackChannel(p, "LEGAL", "EMAIL")).toBe("SMS");
    expect(fallbackChannel(p, "COLLECTION", "IN_APP")).toBeUndefined();
    expect(channelAllowed(p, "REMINDER", "SMS")).toBe(false);
    expect(channelAllowed(p, "LEGAL", "SMS")).toBe(true);
    expect(contactFor(defaultProfile("c1"), "EMAIL")).toBeUndefined();
    expect(contactFor(defaultProfile("c1"), "IN_APP")).toBe("c1");
  });
});

describe("planning", () => {
  const now = at("2026-12-01T23:00");
  const best = bestHour([], now);
  it("one message per channel with id = deterministicId(eventId, channel); opt-outs recorded as SUPPRESSED", () => {
    const profile = { ...defaultProfile("c1"), preferences: { REMINDER: ["EMAIL" as const] } };
    const ms = planMessages({ fact: dueSoon, rules: DEFAULT_CADENCE_POLICY, profile, best, now });
    expect(ms.map((m) => [m.channel, m.status])).toEqual([
      ["SMS", "SUPPRESSED"],
      ["EMAIL", "SCHEDULED"],
      ["IN_APP", "SUPPRESSED"],
    ]);
    expect(ms[1]!.id).toBe(messageId("ev-ds", "EMAIL"));
    expect(ms[1]!.scheduledAt.toISOString()).toBe(at("2026-12-02T08:00").toISOString());
    expect(ms[1]!.template).toBe("due-soon@1");
    expect(ms[1]!.subject).toContain("2026年12月5日");
  });
  it("legal notices ignore a full opt-out but not quiet hours", () => {
    const profile = { ...defaultProfile("c1"), locale: "en" as const, preferences: { LEGAL: [] } };
    const fact: Fact = {
      ...dueSoon,
      eventId: "ev-l",
      trigger: "LEGAL_NOTICE_REQUESTED",
      vars: { creditor: "Whiteslip", overdue: 100n, total: 200n, dpd: 95, deadline: "2026-12-20" },
    };
    const ms = planMessages({ fact, rules: DEFAULT_CADENCE_POLICY, profile, best, now });
    expect(ms.every((m) => m.status === "SCHEDULED" && m.category === "LEGAL")).toBe(true);
    expect(ms.every((m) => m.scheduledAt.getTime() === at("2026-12-02T08:00").getTime())).toBe(true);
    expect(ms[0]!.body).toContain("Please pay by 20 Dec 2026");
  });
  it("a fallback copy gets its own deterministic id and remembers where it came from", () => {
    const [email] = planMessages({
      fact: overdue(3),
      rules: DEFAULT_CADENCE_POLICY,
      profile: defaultProfile("c1"),
      best,
      now,
    });
    const fb = fallbackMessage({ ...email!, status: "FAILED", lastError: "smtp down" }, "SMS", now);
    expect(fb.id).toBe(messageId("ev-od-3", "SMS"));
    expect(fb.fallbackFrom).toBe("EMAIL");
    expect(fb.scheduleReason).toBe("fallback from EMAIL: smtp down");
  });
});
