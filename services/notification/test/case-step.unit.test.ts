import { create } from "@bufbuild/protobuf";
import { billing, collections } from "@whiteslip/contracts";
import { ManualClock } from "@whiteslip/core";
import { describe, expect, it } from "vitest";
import { caseStepRequest } from "../src/adapters/case-step-consumer";
import { Dispatcher } from "../src/app/dispatch-due-messages";
import { type CasePathRepository, CasePathAwareNotify, HandleCaseStep } from "../src/app/handle-case-step";
import { setPreferences } from "../src/app/set-preferences";
import { DEFAULT_SETTINGS } from "../src/app/settings";
import { upsertContactPoints } from "../src/app/upsert-contact-points";
import type { Fact } from "../src/domain/model";
import { FakeAccounts, FakeCustomers, FakeEngagements, FakeMessages, FakePolicy, RecordingProvider } from "./fakes";

const at = (local: string) => new Date(`${local}+08:00`);

class MemoryCasePaths implements CasePathRepository {
  readonly m = new Map<string, Date>();
  async lastStepAt(a: string) {
    return this.m.get(a) ?? null;
  }
  async lastStepAtMany(ids: string[]) {
    return new Map(ids.flatMap((a) => (this.m.has(a) ? [[a, this.m.get(a)!] as const] : [])));
  }
  async recordStep(a: string, t: Date) {
    const cur = this.m.get(a);
    if (!cur || cur < t) this.m.set(a, t);
  }
}

async function world(start = "2026-12-01T10:00") {
  const clock = new ManualClock(at(start));
  const messages = new FakeMessages();
  const customers = new FakeCustomers();
  const engagements = new FakeEngagements();
  const accounts = new FakeAccounts();
  const casePaths = new MemoryCasePaths();
  const sms = new RecordingProvider();
  const email = new RecordingProvider(false);
  const settings = DEFAULT_SETTINGS;
  const notify = new CasePathAwareNotify(
    { messages, customers, engagements, accounts, policy: new FakePolicy(), clock, settings },
    casePaths,
  );
  const steps = new HandleCaseStep({ messages, customers, engagements, accounts, casePaths, clock, settings });
  let tokens = 0;
  const dispatcher = new Dispatcher({
    messages,
    customers,
    accounts,
    providers: { SMS: sms, EMAIL: email },
    clock,
    settings,
    newToken: () => `t${++tokens}`,
    sleep: async () => {},
  });
  await upsertContactPoints(customers, clock, {
    customerId: "c1",
    phone: "+8613800138000",
    email: "li@example.com",
    pushToken: "",
    timeZone: "Asia/Shanghai",
    locale: "zh-CN",
    displayName: "李雷",
  });
  return { clock, messages, customers, accounts, casePaths, sms, email, notify, steps, dispatcher };
}

/** Collections' event for a step, through the consumer's mapping. */
function step(id: string, channel: collections.StepChannel, time: Date, dpd = 1, template = "overdue-notice@1") {
  return caseStepRequest(
    { id: `ev-${id}`, type: "whiteslip.collections.v1.TreatmentStepRequested", time },
    create(collections.TreatmentStepRequestedSchema, {
      stepId: id,
      caseId: "case-1",
      accountId: "a1",
      customerId: "c1",
      strategyId: "champion",
      ruleRef: "champion/rules[3]",
      channel,
      template,
      daysPastDue: dpd,
      bucket: billing.DelinquencyBucket.M1,
      overdueFen: 10_000n,
      totalBalanceFen: 20_000n,
      businessDate: "2026-12-01",
    }),
  );
}

const overdue = (dpd: number, time: Date): Fact => ({
  eventId: `od-${dpd}`,
  factId: `od-${dpd}`,
  factType: "whiteslip.billing.v1.Overdue",
  trigger: "OVERDUE",
  occurredAt: time,
  customerId: "c1",
  accountId: "a1",
  dpd,
  bucket: "M1",
  vars: { dpd, overdue: 10_000n, total: 20_000n, asOf: "2026-12-01" },
});

describe("treatment-path steps in notification", () => {
  it("sends the step on its channel with its template, under the same quiet hours, and reports the step id as fact_id", async () => {
    const w = await world("2026-12-01T22:30");
    const r = await w.steps.handle(step("s1", collections.StepChannel.SMS, at("2026-12-01T22:30")));
    expect(r.outcome).toBe("planned");
    expect((await w.dispatcher.tick()).sent).toBe(0); // 22:30 local: waits for the window
    w.clock.set(at("2026-12-02T09:00"));
    await w.dispatcher.tick();
    expect(w.sms.sent).toHaveLength(1);
    expect(w.sms.sent[0]!.body).toContain("逾期1天");
    const m = [...w.messages.rows.values()][0]!;
    expect(m).toMatchObject({ channel: "SMS", template: "overdue-notice@1", factId: "s1", category: "COLLECTION", status: "DELIVERED" });
    expect(await w.steps.handle(step("s1", collections.StepChannel.SMS, at("2026-12-01T22:30")))).toEqual({ outcome: "duplicate" });
  });

  it("preferences still apply: an opted-out channel is SUPPRESSED", async () => {
    const w = await world();
    await setPreferences(w.customers, w.clock, {
      customerId: "c1",
      preferences: [{ category: "COLLECTION", channels: ["EMAIL"] }],
      quietHoursConsent: false,
    });
    await w.steps.handle(step("s1", collections.StepChannel.SMS, at("2026-12-01T10:00")));
    expect([...w.messages.rows.values()][0]).toMatchObject({ status: "SUPPRESSED" });
  });

  it("once a case path runs, the overdue cadence plans nothing for the account until a cure", async () => {
    const w = await world();
    await w.steps.handle(step("s1", collections.StepChannel.SMS, at("2026-12-01T10:00")));
    const before = w.messages.rows.size;
    expect(await w.notify.handle(overdue(7, at("2026-12-07T02:00")))).toMatchObject({ messageIds: [] });
    expect(w.messages.rows.size).toBe(before);
    await w.accounts.record("a1", { curedAt: at("2026-12-08T02:00") });
    w.clock.set(at("2027-01-10T10:00"));
    const r = await w.notify.handle(overdue(1, at("2027-01-10T02:00")));
    expect(r.outcome === "planned" && r.messageIds.length).toBeGreaterThan(0);
  });

  it("never doubles: the cadence's SMS already sent that day suppresses the step; one still queued is superseded by it", async () => {
    const w = await world();
    // the cadence saw DPD 1 first and sent its SMS
    await w.notify.handle(overdue(1, at("2026-12-01T02:00")));
    w.clock.set(at("2026-12-01T20:00"));
    await w.dispatcher.tick();
    expect(w.sms.sent).toHaveLength(1);
    await w.steps.handle(step("s1", collections.StepChannel.SMS, at("2026-12-01T20:05")));
    await w.dispatcher.tick();
    expect(w.sms.sent).toHaveLength(1);
    expect([...w.messages.rows.values()].find((m) => m.factId === "s1")).toMatchObject({ status: "SUPPRESSED", lastError: "already sent" });

    // a second world: the cadence's SMS is still queued (planned at 23:00, quiet hours) when the step comes
    const v = await world("2026-12-01T23:00");
    await v.notify.handle(overdue(1, at("2026-12-01T23:00")));
    await v.steps.handle(step("s1", collections.StepChannel.SMS, at("2026-12-01T23:05")));
    v.clock.set(at("2026-12-02T09:00"));
    await v.dispatcher.tick();
    expect(v.sms.sent).toHaveLength(1);
    const cadence = [...v.messages.rows.values()].find((m) => m.factId === "od-1" && m.channel === "SMS");
    expect(cadence?.status).toBe("SUPERSEDED");
  });

  it("regression (flaky treatment-path int test): the Overdue and its step handled at once send one SMS, the step's", async () => {
    // the interleaving of the race: the cadence finds no path, then the whole step runs, then the cadence stores its
    // notice — same instant as the step's fact, after the step's supersession
    const w = await world();
    const insertNew = w.messages.insertNew.bind(w.messages);
    let stepFirst = true;
    w.messages.insertNew = async (ms) => {
      if (stepFirst && ms.some((m) => m.factId === "od-1")) {
        stepFirst = false;
        await w.steps.handle(step("s1", collections.StepChannel.SMS, at("2026-12-01T10:00")));
      }
      return insertNew(ms);
    };
    await w.notify.handle(overdue(1, at("2026-12-01T10:00")));
    expect(stepFirst).toBe(false);
    await w.dispatcher.tick();
    expect(w.sms.sent).toHaveLength(1);
    expect([...w.messages.rows.values()].find((m) => m.factId === "s1")).toMatchObject({ status: "DELIVERED" });
    expect([...w.messages.rows.values()].find((m) => m.factId === "od-1" && m.channel === "SMS")).toMatchObject({
      status: "SUPERSEDED",
      reasonCode: "SUPERSEDED_BY_NEWER_NOTICE",
    });
  });

  it("a non-digital or unknown-template step is refused as invalid (dead-lettered at once)", async () => {
    const w = await world();
    expect(() => step("s1", collections.StepChannel.CALL, at("2026-12-01T10:00"))).toThrow(/channel/);
    await expect(w.steps.handle(step("s2", collections.StepChannel.SMS, at("2026-12-01T10:00"), 1, "nope@1"))).rejects.toThrow(/template/);
  });
});
