import { DomainError, ManualClock } from "@whiteslip/core";
import { beforeEach, describe, expect, it } from "vitest";
import { Dispatcher } from "../src/app/dispatch-due-messages";
import { listInbox } from "../src/app/list-inbox";
import { listNotifications } from "../src/app/list-notifications";
import { markInboxRead } from "../src/app/mark-inbox-read";
import { NotifyOnFact } from "../src/app/notify-on-fact";
import { ProviderError } from "../src/app/ports";
import { listReconciliations, resolveReconciliation } from "../src/app/reconciliations";
import { recordEngagement } from "../src/app/record-engagement";
import { setPreferences } from "../src/app/set-preferences";
import { DEFAULT_SETTINGS } from "../src/app/settings";
import { upsertContactPoints } from "../src/app/upsert-contact-points";
import type { Fact } from "../src/domain/model";
import { messageId } from "../src/domain/plan";
import { supersedeNotices } from "../src/app/supersede-notices";
import { FakeAccounts, FakeCustomers, FakeEngagements, FakeMessages, FakePolicy, RecordingProvider } from "./fakes";

const at = (local: string) => new Date(`${local}+08:00`);

function world(start = "2026-12-01T10:00") {
  const clock = new ManualClock(at(start));
  const messages = new FakeMessages();
  const customers = new FakeCustomers();
  const engagements = new FakeEngagements();
  const accounts = new FakeAccounts();
  const sms = new RecordingProvider();
  // like SMTP: a second send is a second email
  const email = new RecordingProvider(false);
  const settings = DEFAULT_SETTINGS;
  let tokens = 0;
  const notify = new NotifyOnFact({
    messages,
    customers,
    engagements,
    accounts,
    policy: new FakePolicy(),
    clock,
    settings,
  });
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
  return { clock, messages, customers, engagements, accounts, sms, email, notify, dispatcher, settings };
}

const overdue = (n: number, dpd = 1, customerId = "c1"): Fact => ({
  eventId: `od-${n}`,
  factId: `od-${n}`,
  factType: "whiteslip.billing.v1.Overdue",
  trigger: "OVERDUE",
  occurredAt: new Date("2026-12-01T02:00:00Z"),
  customerId,
  accountId: `a${n}`,
  dpd,
  bucket: "M1",
  vars: { dpd, overdue: 10000n, total: 20000n },
});
const dueSoon = (id = "ds-1"): Fact => ({
  eventId: id,
  factId: id,
  factType: "whiteslip.billing.v1.DueSoon",
  trigger: "DUE_SOON",
  occurredAt: new Date("2026-12-01T02:00:00Z"),
  customerId: "c1",
  accountId: "a1",
  vars: { amountDue: 123456n, minimumPayment: 12346n, dueDate: "2026-12-05", daysUntilDue: 5 },
});

async function contacts(
  w: ReturnType<typeof world>,
  extra: Partial<Parameters<typeof upsertContactPoints>[2]> = {},
) {
  await upsertContactPoints(w.customers, w.clock, {
    customerId: "c1",
    phone: "+8613800138000",
    email: "li@example.com",
    pushToken: "",
    timeZone: "Asia/Shanghai",
    locale: "zh-CN",
    displayName: "李雷",
    ...extra,
  });
}

describe("NotifyOnFact", () => {
  it("an event delivered twice plans once", async () => {
    const w = world();
    const first = await w.notify.handle(dueSoon());
    expect(first).toMatchObject({
      outcome: "planned",
      inserted: [messageId("ds-1", "SMS"), messageId("ds-1", "EMAIL"), messageId("ds-1", "IN_APP")],
    });
    expect(await w.notify.handle(dueSoon())).toEqual({ outcome: "duplicate" });
    expect(w.messages.rows.size).toBe(3);
  });
  it("a stale reminder (replayed days later) is skipped; a stale legal notice is not", async () => {
    const w = world("2026-12-04T10:00");
    expect(await w.notify.handle(dueSoon())).toEqual({ outcome: "stale" });
    const legal = await w.notify.handle({
      ...overdue(5),
      eventId: "legal-5",
      trigger: "LEGAL_NOTICE_REQUESTED",
    });
    expect(legal.outcome).toBe("planned");
    expect(w.messages.rows.size).toBe(3);
  });
  it("a batch plans what the facts one by one would: same messages and states, supersession in order, duplicates and stale skipped", async () => {
    const facts: Fact[] = [
      dueSoon(),
      overdue(3, 1),
      // the same account again, a newer notice: supersedes the older one's queued SMS
      { ...overdue(4, 7), accountId: "a3", occurredAt: new Date("2026-12-01T02:30:00Z") },
      dueSoon(), // delivered twice in one batch
      { ...overdue(5, 1, "c2"), occurredAt: new Date("2026-11-20T02:00:00Z") }, // stale
      overdue(6, 3, "c2"),
    ];
    const one = world();
    const many = world();
    for (const w of [one, many]) {
      await contacts(w);
      await upsertContactPoints(w.customers, w.clock, { customerId: "c2", phone: "+8613900000002", email: "c2@example.com", timeZone: "Asia/Shanghai", locale: "en", pushToken: "", displayName: "" });
    }
    const seq = [];
    for (const f of facts) seq.push(await one.notify.handle(f));
    const batch = await many.notify.handleBatch(facts);
    expect(batch).toEqual(seq);
    const rows = (w: typeof one) => [...w.messages.rows.values()].sort((a, b) => a.id.localeCompare(b.id));
    expect(rows(many)).toEqual(rows(one));
    expect(many.messages.rows.get(messageId("od-3", "SMS"))!.status).toBe("SUPERSEDED");
    expect(await many.notify.handleBatch(facts)).toEqual(facts.map((f) => (f.eventId === "od-5" ? { outcome: "stale" } : { outcome: "duplicate" })));
  });
  it.each(["insertNew", "recordNotices", "supersedeByIds", "markFactsProcessed"] as const)(
    "a batch cut off at %s and delivered again loses nothing and duplicates nothing; the superseded notice is never sent",
    async (point) => {
      // od-4 is a newer notice of od-3's account in the same batch: it supersedes od-3's queued SMS
      const facts: Fact[] = [overdue(3, 1), { ...overdue(4, 7), accountId: "a3", occurredAt: new Date("2026-12-01T02:30:00Z") }, dueSoon()];
      const clean = world();
      const cut = world();
      for (const w of [clean, cut]) await contacts(w);
      await clean.notify.handleBatch(facts);
      // the write at `point` fails once (the process died there); the writes started beside it land
      const repo = (point === "recordNotices" ? cut.accounts : cut.messages) as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
      const real = repo[point]!.bind(repo);
      let killed = false;
      repo[point] = async (...a: unknown[]) => {
        if (!killed) {
          killed = true;
          throw new Error("killed");
        }
        return real(...a);
      };
      await expect(cut.notify.handleBatch(facts)).rejects.toThrow("killed");
      await cut.notify.handleBatch(facts); // the redelivery
      expect(await cut.notify.handleBatch(facts)).toEqual(facts.map(() => ({ outcome: "duplicate" })));
      expect([...cut.messages.rows.keys()].sort()).toEqual([...clean.messages.rows.keys()].sort());
      expect(cut.accounts.rows.get("a3")).toEqual(clean.accounts.rows.get("a3"));
      for (const w of [clean, cut]) {
        for (let i = 0; i < 5 && (await w.dispatcher.tick()).due > 0; i++);
        expect(w.sms.sent.map((m) => m.messageId)).not.toContain(messageId("od-3", "SMS"));
        expect(w.messages.rows.get(messageId("od-3", "SMS"))!.status).toBe("SUPERSEDED");
        expect(w.sms.sent.map((m) => m.messageId)).toContain(messageId("od-4", "SMS"));
      }
    },
  );
  it("an overdue day the cadence skips plans nothing", async () => {
    const w = world();
    expect(await w.notify.handle(overdue(1, 2))).toEqual({
      outcome: "planned",
      messageIds: [],
      inserted: [],
    });
  });
});

describe("Dispatcher", () => {
  let w: ReturnType<typeof world>;
  beforeEach(async () => {
    w = world();
    await contacts(w);
  });

  it("a DueSoon at 23:00 local waits for 08:00, then sends SMS and email and delivers in-app", async () => {
    w.clock.set(at("2026-12-01T23:00"));
    await w.notify.handle(dueSoon());
    expect((await w.dispatcher.tick()).due).toBe(0);
    w.clock.set(at("2026-12-02T07:59"));
    expect((await w.dispatcher.tick()).due).toBe(0);
    w.clock.set(at("2026-12-02T08:00"));
    expect(await w.dispatcher.tick()).toMatchObject({ due: 3, sent: 3 });
    expect(w.sms.sent).toHaveLength(1);
    expect(w.email.sent[0]!.to).toBe("li@example.com");
    // The greeting with the name goes to the provider, never into the stored body.
    expect(w.email.sent[0]!.body.startsWith("尊敬的李雷：")).toBe(true);
    const stored = w.messages.rows.get(messageId("ds-1", "EMAIL"))!;
    expect(stored.body).not.toContain("李雷");
    expect(stored.status).toBe("DELIVERED");
    expect(w.messages.events.filter((e) => e.messageId === stored.id).map((e) => e.event.type)).toEqual([
      "SENT",
      "DELIVERED",
    ]);
    expect((await w.dispatcher.tick()).due).toBe(0);
  });

  it("the 4th collection message of a day is held (in-app not counted), sent next day, dropped after 72 h", async () => {
    for (const n of [1, 2, 3, 4]) await w.notify.handle(overdue(n));
    const r = await w.dispatcher.tick();
    expect(r).toMatchObject({ due: 8, sent: 7, held: 1 });
    expect(w.sms.sent).toHaveLength(3);
    const held = [...w.messages.rows.values()].find((m) => m.status === "HELD")!;
    expect(held.channel).toBe("SMS");
    expect(held.scheduleReason).toContain("frequency cap: 3 of 3 messages today");
    expect(held.scheduledAt.toISOString()).toBe(at("2026-12-02T08:00").toISOString());
    w.clock.set(at("2026-12-02T08:00"));
    expect(await w.dispatcher.tick()).toMatchObject({ sent: 1 });
    expect(w.sms.sent).toHaveLength(4);
  });

  it("a held message is suppressed when the cap keeps it back longer than the hold expiry", async () => {
    const settings = { ...DEFAULT_SETTINGS, caps: { ...DEFAULT_SETTINGS.caps, perDay: 0, holdExpiryHours: 20 } };
    const d = new Dispatcher({
      messages: w.messages,
      customers: w.customers,
      accounts: w.accounts,
      providers: { SMS: w.sms },
      clock: w.clock,
      settings,
    });
    await w.notify.handle(overdue(7, 7));
    await d.tick();
    expect(w.messages.rows.get(messageId("od-7", "SMS"))!.status).toBe("HELD");
    w.clock.set(at("2026-12-02T08:00"));
    await d.tick();
    expect(w.messages.rows.get(messageId("od-7", "SMS"))).toMatchObject({ status: "SUPPRESSED", reasonCode: "CAP_HOLD_EXPIRED" });
    expect(w.messages.events.filter((e) => e.messageId === messageId("od-7", "SMS")).map((e) => e.event.type)).toEqual(["UNSENT"]);
    expect(w.sms.sent).toHaveLength(0);
  });

  it("a notice held by the cap past its validity window is EXPIRED, not sent", async () => {
    const settings = { ...DEFAULT_SETTINGS, caps: { ...DEFAULT_SETTINGS.caps, perDay: 0 } };
    const d = new Dispatcher({ messages: w.messages, customers: w.customers, accounts: w.accounts, providers: { SMS: w.sms }, clock: w.clock, settings });
    await w.notify.handle(overdue(7, 7)); // as of 2026-12-01: valid until the end of 2026-12-02
    await d.tick();
    w.clock.set(at("2026-12-02T08:00"));
    await d.tick();
    expect(w.messages.rows.get(messageId("od-7", "SMS"))!.status).toBe("HELD");
    w.clock.set(at("2026-12-03T08:00"));
    expect(await d.tick()).toMatchObject({ expired: 1, sent: 0 });
    const m = w.messages.rows.get(messageId("od-7", "SMS"))!;
    expect(m).toMatchObject({ status: "EXPIRED", statusReason: `validity window ended ${at("2026-12-03T00:00").toISOString()}` });
    expect(w.sms.sent).toHaveLength(0);
  });

  it("a reminder that waited behind quiet hours past its due date is EXPIRED at dispatch", async () => {
    w.clock.set(at("2026-12-05T22:00")); // due date 2026-12-05: the reminder is planned for 08:00 on the 6th
    await w.notify.handle({ ...dueSoon(), occurredAt: w.clock.now() });
    w.clock.set(at("2026-12-06T08:00"));
    expect(await w.dispatcher.tick()).toMatchObject({ due: 3, expired: 3, sent: 0 });
    expect(w.sms.sent).toHaveLength(0);
    expect(w.email.sent).toHaveLength(0);
    expect(await w.messages.listInbox("c1", false, { offset: 0, limit: 10 })).toHaveLength(0);
  });

  it("a payment, a cure or a newer notice supersedes queued overdue notices; a payment before the notice does not", async () => {
    w.clock.set(at("2026-12-01T22:00")); // quiet hours: queued until 08:00
    await w.notify.handle({ ...overdue(1), occurredAt: w.clock.now() });
    await supersedeNotices(w, { accountId: "a1", kind: "PAYMENT", at: at("2026-12-01T21:00") }); // before it
    await supersedeNotices(w, { accountId: "a1", kind: "PAYMENT", at: at("2026-12-01T23:30") });
    const ids = [messageId("od-1", "SMS"), messageId("od-1", "IN_APP")];
    for (const id of ids)
      expect(w.messages.rows.get(id)).toMatchObject({
        status: "SUPERSEDED",
        statusReason: `superseded by a payment received ${at("2026-12-01T23:30").toISOString()}`,
      });
    // an older notice that arrives after the payment (another topic, no order) is superseded at dispatch
    await w.notify.handle({ ...overdue(2), accountId: "a1", occurredAt: at("2026-12-01T22:30") });
    w.clock.set(at("2026-12-02T08:00"));
    expect(await w.dispatcher.tick()).toMatchObject({ superseded: 2, sent: 0 });
    expect(w.sms.sent).toHaveLength(0);

    // a newer notice on the same channel supersedes the queued one on that channel only
    w.clock.set(at("2026-12-09T22:00"));
    await w.notify.handle({ ...overdue(3, 1), accountId: "a9", occurredAt: at("2026-12-09T22:00") }); // SMS + in-app
    await w.notify.handle({ ...overdue(4, 7), accountId: "a9", occurredAt: at("2026-12-09T22:05") }); // SMS
    expect(w.messages.rows.get(messageId("od-3", "SMS"))!.status).toBe("SUPERSEDED");
    expect(w.messages.rows.get(messageId("od-3", "IN_APP"))!.status).toBe("SCHEDULED");
    // a cure supersedes what is left
    await supersedeNotices(w, { accountId: "a9", kind: "CURE", at: at("2026-12-09T23:00") });
    expect(w.messages.rows.get(messageId("od-4", "SMS"))!.status).toBe("SUPERSEDED");
    expect(w.messages.rows.get(messageId("od-3", "IN_APP"))!.statusReason).toMatch(/^superseded: account cured/);
  });

  it("every message that will never be sent reports it once, in the write that records it, with the rule's code", async () => {
    const unsent = (id: string) => w.messages.events.filter((e) => e.messageId === id && e.event.type === "UNSENT");
    // planned SUPPRESSED: opted out of SMS for collection messages
    await setPreferences(w.customers, w.clock, { customerId: "c1", preferences: [{ category: "COLLECTION", channels: ["IN_APP"] }], quietHoursConsent: false });
    await w.notify.handle(overdue(1));
    expect(w.messages.rows.get(messageId("od-1", "SMS"))).toMatchObject({ status: "SUPPRESSED", reasonCode: "OPTED_OUT" });
    expect(unsent(messageId("od-1", "SMS"))).toHaveLength(1);
    expect(unsent(messageId("od-1", "IN_APP"))).toHaveLength(0);
    await w.notify.handle(overdue(1)); // redelivered: nothing twice
    expect(unsent(messageId("od-1", "SMS"))).toHaveLength(1);
    // superseded on arrival of a payment, and expired at dispatch
    await setPreferences(w.customers, w.clock, { customerId: "c1", preferences: [], quietHoursConsent: false });
    w.clock.set(at("2026-12-01T22:00"));
    await w.notify.handle({ ...overdue(2), occurredAt: w.clock.now() });
    await supersedeNotices(w, { accountId: "a2", kind: "PAYMENT", at: at("2026-12-01T23:00") });
    expect(w.messages.rows.get(messageId("od-2", "SMS"))).toMatchObject({ status: "SUPERSEDED", reasonCode: "SUPERSEDED_BY_PAYMENT" });
    expect(unsent(messageId("od-2", "SMS"))).toHaveLength(1);
    await w.notify.handle({ ...overdue(3), occurredAt: at("2026-11-30T22:00") }); // as of 11-30: valid until the end of 12-01
    w.clock.set(at("2026-12-02T08:00"));
    await w.dispatcher.tick();
    expect(w.messages.rows.get(messageId("od-3", "SMS"))).toMatchObject({ status: "EXPIRED", reasonCode: "VALIDITY_ENDED" });
    expect(unsent(messageId("od-3", "SMS"))).toEqual([{ messageId: messageId("od-3", "SMS"), event: { type: "UNSENT", at: at("2026-12-02T08:00") } }]);
    await w.dispatcher.tick(); // nothing due any more, nothing reported again
    expect(unsent(messageId("od-3", "SMS"))).toHaveLength(1);
    // sent messages report no suppression
    expect([...w.messages.rows.values()].filter((m) => m.status === "SENT" || m.status === "DELIVERED").flatMap((m) => unsent(m.id))).toEqual([]);
  });

  it("legal notices never expire nor are superseded", async () => {
    w.clock.set(at("2026-12-01T22:00"));
    await w.notify.handle({ ...overdue(5), eventId: "legal-5", trigger: "LEGAL_NOTICE_REQUESTED", occurredAt: w.clock.now() });
    await supersedeNotices(w, { accountId: "a5", kind: "PAYMENT", at: at("2026-12-01T23:00") });
    w.clock.set(at("2026-12-20T10:00"));
    const r = await w.dispatcher.tick();
    expect(r).toMatchObject({ sent: 3, expired: 0, superseded: 0 });
  });

  it("email failing retries with backoff, then falls back to SMS", async () => {
    w.email.failures = [new Error("ECONNREFUSED"), new Error("ECONNREFUSED"), new Error("ECONNREFUSED")];
    await w.notify.handle(overdue(3, 3));
    expect(await w.dispatcher.tick()).toMatchObject({ retried: 1 });
    const id = messageId("od-3", "EMAIL");
    expect(w.messages.rows.get(id)!.scheduledAt.toISOString()).toBe(at("2026-12-01T10:01").toISOString());
    w.clock.advance(60_000);
    expect(await w.dispatcher.tick()).toMatchObject({ retried: 1 });
    expect(w.messages.rows.get(id)!.scheduledAt.toISOString()).toBe(at("2026-12-01T10:03").toISOString());
    w.clock.advance(120_000);
    expect(await w.dispatcher.tick()).toMatchObject({ failed: 1 });
    const failed = w.messages.rows.get(id)!;
    expect(failed).toMatchObject({
      status: "FAILED",
      attempts: 3,
      lastError: "ECONNREFUSED",
      fallbackTo: "SMS",
    });
    expect(w.messages.events.find((e) => e.event.type === "FAILED")!.event).toMatchObject({
      attempts: 3,
      fallbackChannel: "SMS",
    });
    expect(await w.dispatcher.tick()).toMatchObject({ sent: 1 });
    expect(w.sms.sent[0]!.body).toContain("逾期3天");
    expect(w.messages.rows.get(messageId("od-3", "SMS"))!.fallbackFrom).toBe("EMAIL");
  });

  it("a permanent provider error falls back at once; a retry never lands in quiet hours", async () => {
    w.email.failures = [new ProviderError("550 mailbox unavailable", true)];
    await w.notify.handle(overdue(3, 3));
    expect(await w.dispatcher.tick()).toMatchObject({ failed: 1 });
    w.clock.set(at("2026-12-01T20:59:30"));
    w.sms.failures = [new Error("503")];
    expect(await w.dispatcher.tick()).toMatchObject({ retried: 1 });
    expect(w.messages.rows.get(messageId("od-3", "SMS"))!.scheduledAt.toISOString()).toBe(
      at("2026-12-02T08:00").toISOString(),
    );
  });

  it("a missing contact point falls back without trying the provider", async () => {
    const w2 = world();
    await contacts(w2, { email: "", phone: "" });
    await w2.notify.handle(overdue(3, 3));
    expect(await w2.dispatcher.tick()).toMatchObject({ failed: 1 });
    expect(w2.messages.rows.get(messageId("od-3", "EMAIL"))!.lastError).toBe("no contact point for EMAIL");
    // SMS also has no number → in-app.
    expect(await w2.dispatcher.tick()).toMatchObject({ failed: 1 });
    expect(await w2.dispatcher.tick()).toMatchObject({ sent: 1 });
    expect(w2.messages.rows.get(messageId("od-3", "IN_APP"))!.status).toBe("DELIVERED");
    expect(w2.email.sent.length + w2.sms.sent.length).toBe(0);
  });

  it("an opt-out made after scheduling is honoured at dispatch, but not for LEGAL", async () => {
    await w.notify.handle(overdue(7, 7));
    await w.notify.handle({ ...overdue(9), eventId: "legal-1", trigger: "LEGAL_NOTICE_REQUESTED" });
    await setPreferences(w.customers, w.clock, {
      customerId: "c1",
      preferences: [
        { category: "COLLECTION", channels: [] },
        { category: "LEGAL", channels: [] },
      ],
      quietHoursConsent: false,
    });
    const r = await w.dispatcher.tick();
    expect(r).toMatchObject({ suppressed: 1, sent: 3 });
    expect(w.messages.rows.get(messageId("od-7", "SMS"))!.status).toBe("SUPPRESSED");
  });

  it("a message read by two workers is claimed and sent by one", async () => {
    await w.notify.handle(overdue(7, 7));
    const due = await w.messages.findDue(w.clock.now(), 10);
    const claimed = (token: string) => ({ ...due[0]!, status: "SENDING" as const, claimToken: token });
    expect(await w.messages.transition(claimed("a"), [], due[0]!)).toBe(true);
    expect(await w.messages.transition(claimed("b"), [], due[0]!)).toBe(false);
  });

  /** A dispatcher whose record after the provider call dies (the process stopping there). */
  function crashingAfterSend() {
    const messages = Object.create(w.messages) as FakeMessages;
    messages.transition = async (next, events, expected) => {
      if (expected.status === "SENDING" && next.status !== "SENDING") throw new Error("killed between send and record");
      return w.messages.transition(next, events, expected);
    };
    return new Dispatcher({ messages, customers: w.customers, accounts: w.accounts, providers: { SMS: w.sms, EMAIL: w.email }, clock: w.clock, settings: w.settings, newToken: () => "dead" });
  }

  it("killed between send and record: after the claim expires the SMS is re-sent with the same key, the email goes to RECONCILE", async () => {
    await w.notify.handle(overdue(3, 3)); // email
    await w.notify.handle({ ...overdue(7, 7), accountId: "a3" }); // SMS
    await crashingAfterSend().tick();
    expect(w.sms.sent).toHaveLength(1);
    expect(w.email.sent).toHaveLength(1);
    const smsId = messageId("od-7", "SMS");
    const emailId = messageId("od-3", "EMAIL");
    expect(w.messages.rows.get(smsId)).toMatchObject({ status: "SENDING", claimToken: "dead" });
    // before the claim expires nobody touches it
    expect((await w.dispatcher.tick()).due).toBe(0);
    w.clock.advance(w.settings.claimMs);
    expect(await w.dispatcher.tick()).toMatchObject({ due: 2, sent: 1, reconcile: 1 });
    expect(w.sms.sent.map((m) => m.messageId)).toEqual([smsId, smsId]); // same idempotency key: the provider dedupes
    expect(w.messages.rows.get(smsId)).toMatchObject({ status: "DELIVERED", attempts: 1 });
    expect(w.email.sent).toHaveLength(1); // never re-sent blindly
    expect(w.messages.rows.get(emailId)).toMatchObject({ status: "RECONCILE" });
    expect(w.messages.rows.get(emailId)!.statusReason).toContain("cannot deduplicate");
    expect(w.messages.rows.get(emailId)!.reconcileAt).toBeUndefined();
    w.clock.advance(w.settings.claimMs * 10);
    expect((await w.dispatcher.tick()).due).toBe(0); // RECONCILE waits for an operator
  });

  it("a recovered SMS that may not be sent now is recorded from the provider's lookup when the provider had it", async () => {
    const lookups: string[] = [];
    w.sms.lookup = async (id: string) => {
      lookups.push(id);
      return w.sms.sent.some((m) => m.messageId === id) ? { providerMessageId: "p-1", delivered: true } : null;
    };
    w.clock.set(at("2026-12-01T20:50"));
    await w.notify.handle({ ...overdue(7, 7), occurredAt: w.clock.now() });
    await crashingAfterSend().tick();
    w.clock.set(at("2026-12-01T21:30")); // claim expired, now quiet hours: not to be sent now
    expect(await w.dispatcher.tick()).toMatchObject({ sent: 1 });
    expect(lookups).toEqual([messageId("od-7", "SMS")]);
    expect(w.sms.sent).toHaveLength(1);
    expect(w.messages.rows.get(messageId("od-7", "SMS"))!.status).toBe("DELIVERED");
  });

  /** An email provider with an event log (lookup by Message-ID) over what it really received. */
  function withEventLog(settleMs = 0) {
    const lookups: string[] = [];
    w.email.lookupSettleMs = settleMs;
    w.email.lookup = async (id: string) => {
      lookups.push(id);
      return w.email.sent.some((m) => m.messageId === id) ? { providerMessageId: `<${id}@x>`, delivered: true } : null;
    };
    return lookups;
  }

  /** A dispatcher killed after its claim and before the provider took the message (its record dies too). */
  function crashingBeforeSend() {
    const messages = Object.create(w.messages) as FakeMessages;
    messages.transition = async (next, events, expected) => {
      if (expected.status === "SENDING" && next.status !== "SENDING") throw new Error("killed");
      return w.messages.transition(next, events, expected);
    };
    const dead = new RecordingProvider(false);
    dead.failures = [new Error("connection reset mid-DATA")];
    return new Dispatcher({ messages, customers: w.customers, accounts: w.accounts, providers: { SMS: w.sms, EMAIL: dead }, clock: w.clock, settings: w.settings, newToken: () => "dead" });
  }

  it("an email whose send was lost is looked up by Message-ID: the provider has it → DELIVERED with its events, not re-sent", async () => {
    const lookups = withEventLog();
    await w.notify.handle(overdue(3, 3)); // email
    await crashingAfterSend().tick();
    const id = messageId("od-3", "EMAIL");
    w.clock.advance(w.settings.claimMs);
    expect(await w.dispatcher.tick()).toMatchObject({ due: 1, sent: 1, reconcile: 0 });
    expect(lookups).toEqual([id]);
    expect(w.email.sent).toHaveLength(1);
    const m = w.messages.rows.get(id)!;
    expect(m).toMatchObject({ status: "DELIVERED", attempts: 1, providerMessageId: `<${id}@x>` });
    expect(m.statusReason).toContain("reconciled: the email provider has it");
    expect(m.claimToken).toBeUndefined();
    expect(w.messages.events.filter((e) => e.messageId === id).map((e) => e.event.type)).toEqual(["SENT", "DELIVERED"]);
  });

  it("an email the provider never got (killed before DATA) is sent once after the lookup says so", async () => {
    const lookups = withEventLog();
    await w.notify.handle(overdue(3, 3));
    await crashingBeforeSend().tick();
    const id = messageId("od-3", "EMAIL");
    expect(w.email.sent).toHaveLength(0);
    expect(w.messages.rows.get(id)).toMatchObject({ status: "SENDING", claimToken: "dead" });
    w.clock.advance(w.settings.claimMs);
    expect(await w.dispatcher.tick()).toMatchObject({ due: 1, sent: 1 });
    expect(lookups).toEqual([id]);
    expect(w.email.sent.map((m) => m.messageId)).toEqual([id]);
    expect(w.messages.rows.get(id)).toMatchObject({ status: "DELIVERED" });
    expect(w.messages.rows.get(id)!.statusReason).toBeUndefined();
  });

  it("a 'no record' from a lagging event log is trusted only once it has settled: RECONCILE, asked again, then sent", async () => {
    const settle = 10 * 60_000;
    const lookups = withEventLog(settle);
    await w.notify.handle(overdue(3, 3));
    const lostAt = w.clock.now().getTime();
    await crashingBeforeSend().tick();
    const id = messageId("od-3", "EMAIL");
    w.clock.advance(w.settings.claimMs);
    expect(await w.dispatcher.tick()).toMatchObject({ due: 1, reconcile: 1 });
    const waiting = w.messages.rows.get(id)!;
    expect(waiting.status).toBe("RECONCILE");
    expect(waiting.reconcileAt?.getTime()).toBe(lostAt + w.settings.claimMs + settle);
    expect(waiting.statusReason).toContain("may lag");
    expect((await w.dispatcher.tick()).due).toBe(0); // not before its next look
    w.clock.advance(settle);
    expect(await w.dispatcher.tick()).toMatchObject({ due: 1, sent: 1 });
    expect(lookups).toEqual([id, id]);
    expect(w.email.sent.map((m) => m.messageId)).toEqual([id]);
    const done = w.messages.rows.get(id)!;
    expect(done).toMatchObject({ status: "DELIVERED" });
    expect(done.reconcileAt ?? done.inDoubtSince ?? done.reconcileLooks).toBeUndefined();
  });

  it("a lookup that fails is tried again with backoff, and after maxLooks the email waits for an operator", async () => {
    let calls = 0;
    w.email.lookup = async () => {
      calls++;
      throw new ProviderError("email events lookup HTTP 503", false);
    };
    await w.notify.handle(overdue(3, 3));
    await crashingAfterSend().tick();
    const id = messageId("od-3", "EMAIL");
    w.clock.advance(w.settings.claimMs);
    const { maxLooks, maxDelayMs } = w.settings.reconcile;
    for (let look = 1; look <= maxLooks; look++) {
      expect(await w.dispatcher.tick()).toMatchObject({ due: 1, reconcile: 1 });
      const m = w.messages.rows.get(id)!;
      expect(m).toMatchObject({ status: "RECONCILE", reconcileLooks: look });
      if (look < maxLooks) expect(m.reconcileAt!.getTime()).toBeGreaterThan(w.clock.now().getTime());
      else expect(m.reconcileAt).toBeUndefined();
      w.clock.advance(maxDelayMs);
    }
    expect(calls).toBe(maxLooks);
    expect((await w.dispatcher.tick()).due).toBe(0);
    expect(w.messages.rows.get(id)!.statusReason).toContain("an operator resolves it");
    expect(w.email.sent).toHaveLength(1);
  });

  it("an operator resolves what no lookup can: listed, DELIVERED with its events, or RESEND once; other states refused", async () => {
    await w.notify.handle(overdue(3, 3)); // email
    await w.notify.handle({ ...overdue(4, 3), accountId: "a4" }); // email
    await crashingAfterSend().tick();
    w.clock.advance(w.settings.claimMs);
    expect(await w.dispatcher.tick()).toMatchObject({ reconcile: 2 }); // plain SMTP: no lookup
    const d = { messages: w.messages, customers: w.customers, clock: w.clock, settings: w.settings };
    const listed = await listReconciliations(w.messages, { operatorOnly: true, pageSize: 0, pageToken: "" });
    expect(listed.items.map((m) => m.id).sort()).toEqual([messageId("od-3", "EMAIL"), messageId("od-4", "EMAIL")].sort());
    await expect(resolveReconciliation(d, { notificationId: messageId("od-3", "EMAIL"), resolution: "DELIVERED", note: "", actor: "ops" })).rejects.toThrow(/note/);

    const delivered = await resolveReconciliation(d, { notificationId: messageId("od-3", "EMAIL"), resolution: "DELIVERED", note: "relay log: 250 queued", actor: "console:alice" });
    expect(delivered).toMatchObject({ status: "DELIVERED", statusReason: "reconciled by console:alice: the provider has it (relay log: 250 queued)" });
    expect(w.messages.events.filter((e) => e.messageId === delivered.id).map((e) => e.event.type)).toEqual(["SENT", "DELIVERED"]);

    const resent = await resolveReconciliation(d, { notificationId: messageId("od-4", "EMAIL"), resolution: "RESEND", note: "not in relay log", actor: "ops" });
    expect(resent.status).toBe("SCHEDULED");
    expect(await w.dispatcher.tick()).toMatchObject({ due: 1, sent: 1 });
    // the resend goes out once more, with the same Message-ID (the fake counts the lost call's copy too)
    expect(w.email.sent.at(-1)!.messageId).toBe(messageId("od-4", "EMAIL"));
    expect(w.email.sent).toHaveLength(3);
    expect(w.messages.rows.get(messageId("od-4", "EMAIL"))!.status).toBe("DELIVERED");

    await expect(resolveReconciliation(d, { notificationId: delivered.id, resolution: "RESEND", note: "x", actor: "ops" })).rejects.toThrow(/not RECONCILE/);
    await expect(resolveReconciliation(d, { notificationId: "nope", resolution: "LOOKUP", note: "", actor: "ops" })).rejects.toThrow(/not found/i);
    expect((await listReconciliations(w.messages, { operatorOnly: false, pageSize: 0, pageToken: "" })).items).toEqual([]);
  });

  it("LOOKUP hands a message back to the dispatcher's lookup with a fresh budget", async () => {
    await w.notify.handle(overdue(3, 3));
    await crashingAfterSend().tick();
    w.clock.advance(w.settings.claimMs);
    await w.dispatcher.tick(); // no lookup configured: RECONCILE for an operator
    const lookups = withEventLog(); // the provider's event log is configured now
    const d = { messages: w.messages, customers: w.customers, clock: w.clock, settings: w.settings };
    const r = await resolveReconciliation(d, { notificationId: messageId("od-3", "EMAIL"), resolution: "LOOKUP", note: "", actor: "ops" });
    expect(r).toMatchObject({ status: "RECONCILE", reconcileLooks: 0 });
    expect(r.statusReason).toContain("lookup requested by ops");
    expect(await w.dispatcher.tick()).toMatchObject({ due: 1, sent: 1 });
    expect(lookups).toHaveLength(1);
    expect(w.email.sent).toHaveLength(1);
  });

  it("a record after the provider call that meets a database outage is retried, not marked failed", async () => {
    await w.notify.handle({ ...overdue(7, 7) });
    let outages = 2;
    const real = w.messages.transition.bind(w.messages);
    w.messages.transition = async (next, events, expected) => {
      if (expected.status === "SENDING" && outages-- > 0)
        throw Object.assign(new Error("connection reset"), { name: "MongoNetworkError" });
      return real(next, events, expected);
    };
    expect(await w.dispatcher.tick()).toMatchObject({ sent: 1, failed: 0, retried: 0 });
    expect(w.sms.sent).toHaveLength(1);
    expect(w.messages.rows.get(messageId("od-7", "SMS"))).toMatchObject({ status: "DELIVERED", attempts: 1 });
  });

  it("a dispatcher whose claim was taken over records nothing over the new holder's outcome", async () => {
    await w.notify.handle({ ...overdue(7, 7) });
    const slow = Object.create(w.messages) as FakeMessages;
    const errors: unknown[] = [];
    let stolen = false;
    const sms = new RecordingProvider();
    sms.send = async (m) => {
      if (!stolen) {
        stolen = true;
        // meanwhile the claim expired and another dispatcher recovered and delivered it
        w.clock.advance(w.settings.claimMs);
        await w.dispatcher.tick();
      }
      return { providerMessageId: `late-${m.messageId}`, delivered: true };
    };
    const d = new Dispatcher({ messages: slow, customers: w.customers, accounts: w.accounts, providers: { SMS: sms }, clock: w.clock, settings: w.settings, onError: (e) => errors.push(e) });
    await d.tick();
    expect(errors.map((e) => (e as Error).name)).toEqual(["ClaimLostError"]);
    const m = w.messages.rows.get(messageId("od-7", "SMS"))!;
    expect(m).toMatchObject({ status: "DELIVERED", providerMessageId: "p-1" }); // the new holder's record stands
  });
});

describe("contact points, preferences, lists, inbox, engagement", () => {
  it("rejects bad contact points naming each field, without echoing personal data", async () => {
    const w = world();
    const err = await upsertContactPoints(w.customers, w.clock, {
      customerId: "c 1",
      phone: "1389999",
      email: "x@",
      pushToken: "",
      timeZone: "Mars/Base",
      locale: "fr",
      displayName: "",
    }).catch((e) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).violations.map((v) => v.field)).toEqual([
      "customer_id",
      "phone",
      "email",
      "time_zone",
      "locale",
    ]);
    expect(JSON.stringify((err as DomainError).violations)).not.toContain("1389999");
    expect(w.customers.rows.size).toBe(0);
  });
  it("empty fields leave contact points unchanged", async () => {
    const w = world();
    await contacts(w);
    await upsertContactPoints(w.customers, w.clock, {
      customerId: "c1",
      phone: "",
      email: "new@example.com",
      pushToken: "",
      timeZone: "",
      locale: "en",
      displayName: "",
    });
    expect(await w.customers.get("c1")).toMatchObject({
      phone: "+8613800138000",
      email: "new@example.com",
      locale: "en",
      timeZone: "Asia/Shanghai",
    });
  });
  it("rejects unknown categories, channels and duplicates", async () => {
    const w = world();
    const err = await setPreferences(w.customers, w.clock, {
      customerId: "c1",
      preferences: [
        { category: "NOPE", channels: [] },
        { category: "REMINDER", channels: ["FAX"] },
        { category: "REMINDER", channels: [] },
      ],
      quietHoursConsent: false,
    }).catch((e: unknown) => e);
    if (!(err instanceof DomainError)) throw new Error("expected a DomainError");
    expect(err.violations.map((v) => v.field)).toEqual([
      "preferences[0].category",
      "preferences[1].channels[0]",
      "preferences[2].category",
    ]);
  });
  it("the inbox shows unread overdue/legal notices first; marking read is idempotent", async () => {
    const w = world();
    await contacts(w);
    await w.notify.handle(overdue(1)); // COLLECTION in-app (prominent)
    w.clock.advance(60_000);
    await w.notify.handle({ ...dueSoon("ds-2") }); // REMINDER in-app, newer
    w.clock.advance(60_000);
    await w.dispatcher.tick();
    const inbox = await listInbox(w.messages, {
      customerId: "c1",
      unreadOnly: false,
      pageSize: 0,
      pageToken: "",
    });
    expect(inbox.unreadCount).toBe(2);
    expect(inbox.items.map((m) => m.category)).toEqual(["COLLECTION", "REMINDER"]);
    const first = inbox.items[0]!.id;
    expect(await markInboxRead(w.messages, w.clock, { customerId: "c1", messageIds: [first] })).toEqual({
      marked: 1,
      unreadCount: 1,
    });
    expect(await markInboxRead(w.messages, w.clock, { customerId: "c1", messageIds: [first] })).toEqual({
      marked: 0,
      unreadCount: 1,
    });
    const after = await listInbox(w.messages, {
      customerId: "c1",
      unreadOnly: false,
      pageSize: 0,
      pageToken: "",
    });
    expect(after.items.map((m) => m.category)).toEqual(["REMINDER", "COLLECTION"]);
    expect(
      (await listInbox(w.messages, { customerId: "c1", unreadOnly: true, pageSize: 0, pageToken: "" })).items,
    ).toHaveLength(1);
  });
  it("lists notifications newest first with page tokens", async () => {
    const w = world();
    await w.notify.handle(overdue(1));
    w.clock.advance(1000);
    await w.notify.handle(dueSoon());
    const p1 = await listNotifications(w.messages, {
      customerId: "c1",
      accountId: "",
      pageSize: 3,
      pageToken: "",
    });
    expect(p1.items.map((m) => m.factEventId)).toEqual(["ds-1", "ds-1", "ds-1"]);
    const p2 = await listNotifications(w.messages, {
      customerId: "c1",
      accountId: "",
      pageSize: 3,
      pageToken: p1.nextPageToken,
    });
    expect(p2.items.map((m) => m.factEventId)).toEqual(["od-1", "od-1"]);
    expect(p2.nextPageToken).toBe("");
    await expect(
      listNotifications(w.messages, { customerId: "c1", accountId: "", pageSize: 500, pageToken: "zzz" }),
    ).rejects.toMatchObject({
      violations: [{ field: "page_size" }, { field: "page_token" }],
    });
  });
  it("RecordEngagement is idempotent and engagement at 19:00 moves the next send to 19:00", async () => {
    const w = world("2026-12-01T09:00");
    await contacts(w);
    for (const n of [1, 2, 3]) {
      w.clock.set(at(`2026-12-0${n}T09:00`));
      await w.notify.handle({ ...overdue(n, 7), occurredAt: w.clock.now() });
      await w.dispatcher.tick();
      const id = messageId(`od-${n}`, "SMS");
      w.clock.set(at(`2026-12-0${n}T19:10`));
      const r = await recordEngagement(
        { ...w, settings: w.settings },
        { notificationId: id, kind: "OPENED", occurredAt: at(`2026-12-0${n}T19:05`) },
      );
      expect(r.recorded).toBe(true);
      const again = await recordEngagement(
        { ...w, settings: w.settings },
        { notificationId: id, kind: "OPENED", occurredAt: at(`2026-12-0${n}T19:05`) },
      );
      expect(again.recorded).toBe(false);
    }
    expect(w.messages.events.filter((e) => e.event.type === "ENGAGED")).toHaveLength(3);
    w.clock.set(at("2026-12-04T09:00"));
    await w.notify.handle({ ...dueSoon("ds-9"), occurredAt: w.clock.now() });
    const sms = w.messages.rows.get(messageId("ds-9", "SMS"))!;
    expect(sms.scheduledAt.toISOString()).toBe(at("2026-12-04T19:00").toISOString());
    expect(sms.scheduleReason).toBe("best hour 19:00 from 3 engagements in last 30 days");
  });
  it("RecordEngagement on an unknown message is NOT_FOUND; bad kind is INVALID_ARGUMENT", async () => {
    const w = world();
    await expect(
      recordEngagement({ ...w }, { notificationId: "nope", kind: "OPENED" }),
    ).rejects.toMatchObject({ kind: "not_found" });
    await expect(recordEngagement({ ...w }, { notificationId: "nope", kind: "LIKED" })).rejects.toMatchObject(
      { kind: "invalid_argument" },
    );
  });
});
