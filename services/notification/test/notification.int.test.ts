/**
 * The notification service on the real broker, database, SMTP server and a local
 * HTTP provider, with a ManualClock: facts go in over Kafka, messages come out
 * over SMTP and HTTP, the API is called over gRPC.
 */
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type ConsumerHandle, EventBus, encodeEvent, subscribe } from "@whiteslip/bus";
import { billing, notification as pb, Topics } from "@whiteslip/contracts";
import { addDays, dateInZone, ManualClock } from "@whiteslip/core";
import { createClient } from "@whiteslip/grpc";
import { freshDatabaseName, kafkaEnv, kafkaSasl, testInfra, uniqueName } from "@whiteslip/testkit/vitest";
import { MongoClient } from "mongodb";
import { MongoPolicyRepository } from "../src/adapters/mongo-repositories";
import { DEFAULT_CADENCE_POLICY } from "../src/domain/cadence-policy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNotification } from "../src/main";
import { startHttpProvider, startSmtpSink } from "./local-servers";

const at = (local: string) => new Date(`${local}+08:00`);
const run = uniqueName("n");
const topicPrefix = `${run}.`;
const infra = testInfra();
const dbName = freshDatabaseName("notification");
const clock = new ManualClock(at("2026-12-01T10:00"));

let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
let provider: Awaited<ReturnType<typeof startHttpProvider>>;
let service: Awaited<ReturnType<typeof startNotification>>;
let bus: EventBus;
let client: ReturnType<typeof createClient<typeof pb.NotificationService>>;
let watcher: ConsumerHandle;
const published = { failed: new Set<string>(), delivered: new Set<string>(), engaged: [] as { id: string; kind: pb.EngagementKind; at: Date }[] };

async function tick() {
  await service.tick!();
}

async function waitFor<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function listAll(customerId: string) {
  return (await client.listNotifications({ customerId, pageSize: 200 })).notifications;
}

async function messagesOf(customerId: string, n: number) {
  return waitFor(`${n} messages for ${customerId}`, async () => {
    const ms = await listAll(customerId);
    return ms.length >= n ? ms : undefined;
  });
}

async function contacts(customerId: string, locale: "zh-CN" | "en", name = "李雷") {
  return client.upsertContactPoints({
    customerId,
    phone: `+86138${String(Math.floor(Math.random() * 1e8)).padStart(8, "0")}`,
    email: `${customerId}@example.com`,
    timeZone: "Asia/Shanghai",
    locale,
    displayName: name,
  });
}

function dueSoon(id: string, customerId: string, accountId: string) {
  return encodeEvent(Topics.DueSoon, {
    id,
    key: accountId,
    time: clock.now(),
    data: {
      accountId,
      customerId,
      statementId: `st-${id}`,
      // a few days ahead of the clock (2026-12-05 for the first test): a reminder after its due date expires
      dueDate: addDays(dateInZone(clock.now()), 4),
      daysUntilDue: 5,
      amountDueFen: 123456n,
      minimumPaymentFen: 12346n,
      businessDate: "2026-11-30",
    },
  });
}

function overdue(id: string, customerId: string, accountId: string, dpd: number) {
  return encodeEvent(Topics.Overdue, {
    id,
    key: accountId,
    time: clock.now(),
    data: {
      accountId,
      customerId,
      // end-of-day of the clock's day: the notice is valid that day and the next
      businessDate: dateInZone(clock.now()),
      daysPastDue: dpd,
      bucket: billing.DelinquencyBucket.M1,
      overdueFen: 50000n,
      totalBalanceFen: 80000n,
    },
  });
}

beforeAll(async () => {
  [smtp, provider] = await Promise.all([startSmtpSink(), startHttpProvider()]);
  service = await startNotification({
    clock,
    env: {
      ...kafkaEnv(infra),
      MONGODB_URI: infra.mongoUri,
      MONGODB_DB: dbName,
      TOPIC_PREFIX: topicPrefix,
      // in-process, plaintext: the explicit development flag (mutual TLS is proven by the attack suite)
      GRPC_PLAINTEXT_DEV: "1",
      CONSUMER_GROUP: `${run}-notification`,
      KAFKA_CLIENT_ID: run,
      GRPC_HOST: "127.0.0.1",
      GRPC_PORT: "0",
      LOG_LEVEL: "silent",
      DISPATCH_INTERVAL_MS: "0",
      SMTP_HOST: "127.0.0.1",
      SMTP_PORT: String(smtp.port),
      SMTP_IGNORE_TLS: "true",
      SMTP_TIMEOUT_MS: "3000",
      SMS_PROVIDER_URL: provider.url,
      SMS_PROVIDER_API_KEY: "test-key",
    },
  });
  client = createClient(pb.NotificationService, `127.0.0.1:${service.grpcPort}`, { deadlineMs: 10_000 });
  const sasl = kafkaSasl(infra);
  bus = await EventBus.connect({
    brokers: infra.kafkaBrokers,
    ...(sasl ? { sasl } : {}),
    clientId: `${run}-test`,
    topicPrefix,
    logger: { info() {}, warn() {}, error() {}, debug() {} } as never,
  });
  watcher = bus.consumer({
    groupId: `${run}-watcher`,
    subscriptions: [
      subscribe(
        Topics.NotificationFailed,
        async (e) => void published.failed.add(e.data.ref?.notificationId ?? ""),
      ),
      subscribe(
        Topics.NotificationDelivered,
        async (e) => void published.delivered.add(e.data.ref?.notificationId ?? ""),
      ),
      subscribe(
        Topics.NotificationEngaged,
        async (e) =>
          void published.engaged.push({
            id: e.data.ref?.notificationId ?? "",
            kind: e.data.kind,
            at: e.data.occurredAt ? timestampDate(e.data.occurredAt) : e.time,
          }),
      ),
    ],
  });
  await watcher.start();
}, 120_000);

afterAll(async () => {
  await watcher?.stop();
  await bus?.close();
  await service?.stop();
  await Promise.all([smtp?.stop(), provider?.stop()]);
});

describe("notification service", () => {
  it("a DueSoon at 23:00 local is sent at 08:00; delivered twice it sends once; zh-CN template with ¥ amount and Chinese date", async () => {
    const c = `${run}-quiet`;
    const acc = `${run}-acc-quiet`;
    await contacts(c, "zh-CN");
    clock.set(at("2026-12-01T23:00"));
    const ev = dueSoon(`${run}-ds-1`, c, acc);
    // The same fact twice, then a sentinel on the same key (same partition, so processed after both).
    const sentinel = dueSoon(`${run}-ds-sentinel`, `${c}-sentinel`, acc);
    await bus.publish([ev]);
    await bus.publish([ev, sentinel]);
    await messagesOf(`${c}-sentinel`, 3);
    const ms = await messagesOf(c, 3);
    expect(ms).toHaveLength(3);
    for (const m of ms) {
      expect(m.status).toBe(pb.DeliveryStatus.SCHEDULED);
      expect(timestampDate(m.scheduledAt!).toISOString()).toBe(at("2026-12-02T08:00").toISOString());
      expect(m.scheduleReason).toContain("quiet hours 21:00–08:00 Asia/Shanghai");
    }
    await tick();
    clock.set(at("2026-12-02T07:59"));
    await tick();
    expect(smtp.mails.filter((m) => m.to.includes(`${c}@example.com`))).toHaveLength(0);

    clock.set(at("2026-12-02T08:00"));
    await tick();
    const mails = smtp.mails.filter((m) => m.to.includes(`${c}@example.com`));
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toBe("还款提醒：账单将于2026年12月5日到期");
    expect(mails[0]!.body).toContain(
      "尊敬的李雷：您的本期账单应还¥1,234.56，将于2026年12月5日到期（还有5天），最低还款额¥123.46。",
    );
    const sms = provider.requests.filter(
      (r) =>
        String(r.body.text).includes("¥1,234.56") &&
        r.idempotencyKey === ms.find((m) => m.channel === pb.Channel.SMS)!.notificationId,
    );
    expect(sms).toHaveLength(1);
    expect(sms[0]!.apiKey).toBe("test-key");
    expect(sms[0]!.path).toBe("/v1/messages");
    const after = await listAll(c);
    expect(after.map((m) => m.status).sort()).toEqual([
      pb.DeliveryStatus.DELIVERED,
      pb.DeliveryStatus.DELIVERED,
      pb.DeliveryStatus.DELIVERED,
    ]);
    expect(after.find((m) => m.channel === pb.Channel.EMAIL)!.template).toBe("due-soon@1");
    // Published through the outbox.
    await waitFor("NotificationDelivered events", async () =>
      after.every((m) => published.delivered.has(m.notificationId)) ? true : undefined,
    );
  });

  it("a fourth collection message on one day is held by the cap; the inbox shows unread overdue notices", async () => {
    const c = `${run}-cap`;
    await contacts(c, "en", "Ann Lee");
    clock.set(at("2026-12-03T10:00"));
    await bus.publish([1, 2, 3, 4].map((n) => overdue(`${run}-od-${n}`, c, `${run}-acc-cap-${n}`, 1)));
    await messagesOf(c, 8);
    const before = provider.requests.length;
    await tick();
    const ms = await listAll(c);
    const smsMs = ms.filter((m) => m.channel === pb.Channel.SMS);
    expect(smsMs.filter((m) => m.status === pb.DeliveryStatus.DELIVERED)).toHaveLength(3);
    const held = smsMs.filter((m) => m.status === pb.DeliveryStatus.HELD);
    expect(held).toHaveLength(1);
    expect(held[0]!.scheduleReason).toContain("frequency cap: 3 of 3 messages today");
    expect(timestampDate(held[0]!.scheduledAt!).toISOString()).toBe(at("2026-12-04T08:00").toISOString());
    expect(provider.requests.length - before).toBe(3);

    const inbox = await client.listInbox({ customerId: c });
    expect(inbox.unreadCount).toBe(4);
    expect(inbox.messages.every((m) => m.prominent && !m.read)).toBe(true);
    expect(inbox.messages[0]!.subject).toBe("Your payment is 1 days overdue");
    const marked = await client.markInboxRead({ customerId: c, messageIds: [inbox.messages[0]!.messageId] });
    expect(marked).toMatchObject({ marked: 1, unreadCount: 3 });
    const again = await client.listInbox({ customerId: c });
    expect(again.messages.at(-1)!.messageId).toBe(inbox.messages[0]!.messageId);
  });

  it("SMTP down → retries with backoff, then the SMS fallback; failure published", async () => {
    const c = `${run}-down`;
    await contacts(c, "en");
    clock.set(at("2026-12-04T10:00"));
    await bus.publish([overdue(`${run}-od-down`, c, `${run}-acc-down`, 3)]);
    const [email] = await messagesOf(c, 1);
    expect(email!.channel).toBe(pb.Channel.EMAIL);
    smtp.setDown(true);
    const connections = smtp.connections;
    await tick();
    let m = (await listAll(c))[0]!;
    expect(m).toMatchObject({ status: pb.DeliveryStatus.SCHEDULED, attempts: 1 });
    expect(m.lastError).toMatch(/^smtp: /);
    expect(timestampDate(m.scheduledAt!).toISOString()).toBe(at("2026-12-04T10:01").toISOString());
    clock.advance(60_000);
    await tick();
    m = (await listAll(c))[0]!;
    expect(m).toMatchObject({ status: pb.DeliveryStatus.SCHEDULED, attempts: 2 });
    expect(timestampDate(m.scheduledAt!).toISOString()).toBe(at("2026-12-04T10:03").toISOString());
    clock.advance(120_000);
    await tick();
    expect(smtp.connections - connections).toBe(3);
    const all = await listAll(c);
    const failed = all.find((x) => x.channel === pb.Channel.EMAIL)!;
    expect(failed).toMatchObject({ status: pb.DeliveryStatus.FAILED, attempts: 3 });
    const fb = all.find((x) => x.channel === pb.Channel.SMS)!;
    expect(fb.fallbackFrom).toBe(pb.Channel.EMAIL);
    await tick();
    const sent = provider.requests.filter((r) => r.idempotencyKey === fb.notificationId);
    expect(sent).toHaveLength(1);
    expect(String(sent[0]!.body.text)).toContain("Your account is 3 days past due. Overdue amount: ¥500.00");
    expect(smtp.mails.filter((x) => x.to.includes(`${c}@example.com`))).toHaveLength(0);
    smtp.setDown(false);
    await waitFor("NotificationFailed event", async () =>
      published.failed.has(failed.notificationId) ? true : undefined,
    );
  });

  it("engagement at 19:00 on past messages moves the send hour to 19:00 (idempotent RecordEngagement)", async () => {
    const c = `${run}-eng`;
    await contacts(c, "en");
    const sentIds: string[] = [];
    for (const day of ["2026-12-05", "2026-12-06"]) {
      clock.set(at(`${day}T10:00`));
      await bus.publish([
        encodeEvent(Topics.PaymentReceived, {
          id: `${run}-pay-${day}`,
          key: `${run}-acc-eng`,
          time: clock.now(),
          data: {
            accountId: `${run}-acc-eng`,
            customerId: c,
            paymentId: `p-${day}`,
            amountFen: 10000n,
            receivedAt: timestampFromDate(clock.now()),
            businessDate: day,
          },
        }),
      ]);
      const ms = await messagesOf(c, sentIds.length + 2);
      await tick();
      const sms = ms.find((m) => m.channel === pb.Channel.SMS && !sentIds.includes(m.notificationId))!;
      sentIds.push(sms.notificationId);
      clock.set(at(`${day}T19:20`));
      const r = await client.recordEngagement({
        notificationId: sms.notificationId,
        kind: pb.EngagementKind.OPENED,
        occurredAt: timestampFromDate(at(`${day}T19:05`)),
      });
      expect(r.recorded).toBe(true);
      const dup = await client.recordEngagement({
        notificationId: sms.notificationId,
        kind: pb.EngagementKind.OPENED,
        occurredAt: timestampFromDate(at(`${day}T19:05`)),
      });
      expect(dup.recorded).toBe(false);
    }
    const last = await client.recordEngagement({
      notificationId: sentIds[1]!,
      kind: pb.EngagementKind.OPENED,
    });
    expect(last).toMatchObject({
      bestHour: 19,
      hasBestHour: true,
      explanation: "best hour 19:00 from 2 engagements in last 30 days",
    });

    clock.set(at("2026-12-07T10:00"));
    await bus.publish([dueSoon(`${run}-ds-eng`, c, `${run}-acc-eng`)]);
    const ms = await messagesOf(c, 7);
    const reminder = ms.find((m) => m.channel === pb.Channel.SMS && m.template === "due-soon@1")!;
    expect(timestampDate(reminder.scheduledAt!).toISOString()).toBe(at("2026-12-07T19:00").toISOString());
    expect(reminder.scheduleReason).toBe("best hour 19:00 from 2 engagements in last 30 days");
    await tick();
    expect(provider.requests.filter((r) => r.idempotencyKey === reminder.notificationId)).toHaveLength(0);
    clock.set(at("2026-12-07T19:00"));
    await tick();
    expect(provider.requests.filter((r) => r.idempotencyKey === reminder.notificationId)).toHaveLength(1);
  });

  it("contact points are encrypted at rest and masked in responses; bad input changes nothing", async () => {
    const c = `${run}-pii`;
    const r = await client.upsertContactPoints({
      customerId: c,
      phone: "+8613800138000",
      email: "wang.fang@example.com",
      displayName: "王芳",
    });
    expect(r).toMatchObject({ phoneMasked: "+86138****8000", emailMasked: "w***@example.com" });
    const mongo = await MongoClient.connect(infra.mongoUri);
    try {
      const doc = await mongo
        .db(dbName)
        .collection("customers")
        .findOne({ _id: c as never });
      const text = JSON.stringify(doc);
      expect(text).not.toContain("13800138000");
      expect(text).not.toContain("wang.fang");
      expect(text).not.toContain("王芳");
      expect(String(doc!.phone)).toMatch(/^v2:[A-Za-z0-9_-]+:/); // sealed, naming its key
      await expect(
        client.upsertContactPoints({ customerId: c, phone: "12345", locale: "fr" }),
      ).rejects.toMatchObject({ violations: [{ field: "phone" }, { field: "locale" }] });
      expect(
        JSON.stringify(
          await mongo
            .db(dbName)
            .collection("customers")
            .findOne({ _id: c as never }),
        ),
      ).toBe(text);
    } finally {
      await mongo.close();
    }
  });
  it("a risk manager edits the cadence table: bad rows and stale versions change nothing; the next fact uses the new table", async () => {
    const got = (await client.getCadencePolicy({})).current!;
    expect(got.version).toBe(1);
    const dpd3 = got.rules.findIndex((r) => r.id === "overdue-dpd3");
    expect(got.rules[dpd3]).toMatchObject({ onDpd: [3], channels: [pb.Channel.EMAIL] });

    const bad = got.rules.map((r, i) => (i === dpd3 ? { ...r, everyNDays: 7, channels: [] } : r));
    await expect(
      client.updateCadencePolicy({ rules: bad, expectedVersion: 1, actor: "risk.rita" }),
    ).rejects.toMatchObject({
      violations: [{ field: `rules[${dpd3}].channels` }, { field: `rules[${dpd3}].onDpd` }],
    });
    expect((await client.getCadencePolicy({})).current!.version).toBe(1);

    const edited = got.rules.map((r, i) => (i === dpd3 ? { ...r, onDpd: [2] } : r));
    const saved = (
      await client.updateCadencePolicy({ rules: edited, expectedVersion: 1, actor: "risk.rita" })
    ).current!;
    expect(saved).toMatchObject({ version: 2, updatedBy: "risk.rita" });
    await expect(
      client.updateCadencePolicy({ rules: got.rules, expectedVersion: 1, actor: "risk.other" }),
    ).rejects.toMatchObject({ code: 10 });
    const reread = (await client.getCadencePolicy({})).current!;
    expect(reread.version).toBe(2);
    expect(reread.rules[dpd3]!.onDpd).toEqual([2]);

    const c = `${run}-cadence`;
    await contacts(c, "en", "Cy Dee");
    await bus.publish([overdue(`${run}-od-cadence`, c, `${run}-acc-cadence`, 2)]);
    const ms = await messagesOf(c, 1);
    expect(ms.map((m) => m.channel)).toEqual([pb.Channel.EMAIL]);
  });

  it("portfolio stats count every message by channel and status, by business date of creation", async () => {
    const c = `${run}-stats`;
    await contacts(c, "en", "Sam Stats");
    clock.set(at("2026-12-20T11:00"));
    await bus.publish([overdue(`${run}-st-1`, c, `${run}-acc-st`, 1)]);
    await messagesOf(c, 2);
    const day = await client.getNotificationStats({ fromDate: "2026-12-20", toDate: "2026-12-20" });
    // what the database holds for that Shanghai day, counted another way
    const mongo = await MongoClient.connect(infra.mongoUri);
    try {
      const msgs = mongo.db(dbName).collection("messages");
      const range = { createdAt: { $gte: at("2026-12-20T00:00"), $lt: at("2026-12-21T00:00") } };
      expect(Number(day.total)).toBe(await msgs.countDocuments(range));
      expect(Number(day.total)).toBeGreaterThanOrEqual(2);
      for (const cell of day.counts) {
        const channel = pb.Channel[cell.channel].toString();
        const status = pb.DeliveryStatus[cell.status].toString();
        expect(Number(cell.count), `${channel}/${status}`).toBe(await msgs.countDocuments({ ...range, channel, status }));
      }
      const next = await client.getNotificationStats({ fromDate: "2026-12-21", toDate: "2026-12-21" });
      expect(Number(next.total)).toBe(await msgs.countDocuments({ createdAt: { $gte: at("2026-12-21T00:00"), $lt: at("2026-12-22T00:00") } }));
      const all = await client.getNotificationStats({ fromDate: "", toDate: "" });
      expect(Number(all.total)).toBe(await msgs.countDocuments({}));
    } finally {
      await mongo.close();
    }
    await expect(client.getNotificationStats({ fromDate: "2026-12-21", toDate: "2026-12-20" })).rejects.toMatchObject({
      violations: [{ field: "to_date" }],
    });
    await expect(client.getNotificationStats({ fromDate: "20261220", toDate: "" })).rejects.toMatchObject({
      violations: [{ field: "from_date" }],
    });
  });

  it("a payment within 24 hours of an overdue notice is recorded as PAID on it, once, at the payment's time", async () => {
    const c = `${run}-paid`;
    const acc = `${run}-acc-paid`;
    /** A payment on the same key for another customer: once its receipt is planned, everything before it was handled. */
    const sentinelPayment = (n: string) =>
      encodeEvent(Topics.PaymentReceived, {
        id: `${run}-pay-sentinel-${n}`,
        key: acc,
        time: clock.now(),
        data: { accountId: acc, customerId: `${c}-sentinel-${n}`, paymentId: `p-s-${n}`, amountFen: 1n, receivedAt: timestampFromDate(clock.now()), businessDate: dateInZone(clock.now()) },
      });
    /** Records an engagement on the notice and waits until the watcher saw its event: the same key and partition as
     * every earlier engaged event of the account, so all of them were seen before it. */
    const engagedMarker = async (id: string, kind: pb.EngagementKind) => {
      expect((await client.recordEngagement({ notificationId: id, kind })).recorded).toBe(true);
      await tick(); // relay flush
      await waitFor("the marker engagement", async () => (published.engaged.some((x) => x.id === id && x.kind === kind) ? true : undefined));
    };
    await contacts(c, "en", "Pat Payer");
    clock.set(at("2026-12-22T10:00"));
    await bus.publish([overdue(`${run}-od-paid`, c, acc, 1)]);
    await messagesOf(c, 2);
    await tick();
    const sms = (await listAll(c)).find((m) => m.channel === pb.Channel.SMS && m.status === pb.DeliveryStatus.DELIVERED)!;
    expect(sms).toBeDefined();
    clock.set(at("2026-12-22T14:30"));
    const payment = encodeEvent(Topics.PaymentReceived, {
      id: `${run}-pay-paid`,
      key: acc,
      time: clock.now(),
      data: { accountId: acc, customerId: c, paymentId: "p-paid", amountFen: 50000n, receivedAt: timestampFromDate(at("2026-12-22T14:25")), businessDate: "2026-12-22" },
    });
    await bus.publish([payment, payment, sentinelPayment("1")]); // delivered twice, then a marker on the same key
    await messagesOf(`${c}-sentinel-1`, 2); // both copies handled (one partition, in order)
    await engagedMarker(sms.notificationId, pb.EngagementKind.CLICKED); // every engaged event before it was seen
    const engaged = published.engaged.filter((x) => x.id === sms.notificationId && x.kind === pb.EngagementKind.PAID);
    expect(engaged).toHaveLength(1);
    expect(engaged[0]).toMatchObject({ kind: pb.EngagementKind.PAID, at: at("2026-12-22T14:25") });
    // the receipt of the payment itself is not what was paid
    const receipt = (await listAll(c)).filter((m) => m.factType === Topics.PaymentReceived.schema.typeName);
    expect(receipt.length).toBeGreaterThan(0);
    expect(published.engaged.filter((x) => receipt.some((r) => r.notificationId === x.id))).toHaveLength(0);
    const paidBefore = published.engaged.filter((x) => x.kind === pb.EngagementKind.PAID).length;
    // a payment more than 24 hours after the notice is not attributed to it
    clock.set(at("2026-12-24T11:00"));
    await bus.publish([
      encodeEvent(Topics.PaymentReceived, {
        id: `${run}-pay-late`,
        key: acc,
        time: clock.now(),
        data: { accountId: acc, customerId: c, paymentId: "p-late", amountFen: 100n, receivedAt: timestampFromDate(clock.now()), businessDate: "2026-12-24" },
      }),
      sentinelPayment("2"),
    ]);
    await messagesOf(c, receipt.length + 4);
    await messagesOf(`${c}-sentinel-2`, 2); // the late payment was handled, attribution included
    await engagedMarker(sms.notificationId, pb.EngagementKind.OPENED);
    // no PAID anywhere since: not on the notice, not on anything else
    expect(published.engaged.filter((x) => x.kind === pb.EngagementKind.PAID)).toHaveLength(paidBefore);
  });

  it("a deferral is confirmed to the customer with the new due date (SMS + inbox), once", async () => {
    const c = `${run}-defer`;
    const acc = `${run}-acc-defer`;
    await contacts(c, "zh-CN", "韩梅梅");
    clock.set(at("2026-12-23T10:00"));
    const deferred = encodeEvent(Topics.PaymentDeferred, {
      id: `${run}-df-1`,
      key: acc,
      time: clock.now(),
      data: { accountId: acc, customerId: c, deferralId: "df-1", businessDate: "2026-12-23", dueDate: "2027-01-12", days: 20, deferredFen: 123_456n },
    });
    const marker = encodeEvent(Topics.PaymentDeferred, {
      id: `${run}-df-marker`,
      key: acc,
      time: clock.now(),
      data: { accountId: acc, customerId: `${c}-marker`, deferralId: "df-m", businessDate: "2026-12-23", dueDate: "2027-01-12", days: 20, deferredFen: 1n },
    });
    await bus.publish([deferred, deferred, marker]);
    await messagesOf(`${c}-marker`, 2); // both copies were handled before the marker (one partition, in order)
    const ms = await messagesOf(c, 2);
    await tick();
    expect(ms.map((m) => m.template)).toEqual(["payment-deferred@1", "payment-deferred@1"]);
    expect(ms.map((m) => m.channel).sort()).toEqual([pb.Channel.SMS, pb.Channel.IN_APP].sort());
    expect(ms[0]!.body).toContain("¥1,234.56");
    expect(ms[0]!.body).toContain("2027年1月12日");
    expect(await listAll(c)).toHaveLength(2); // delivered twice, planned once
  });

  it("a table stored before a default rule existed gets it once on start; one that saw it and deleted it does not", async () => {
    const mongo = await MongoClient.connect(infra.mongoUri);
    try {
      const db = mongo.db(`${dbName}_defaults`);
      const old = DEFAULT_CADENCE_POLICY.filter((r) => r.id !== "payment-deferred").map((r) => ({ ...r }));
      // stored by an earlier release: no revision recorded, edited once by a risk manager
      await db.collection("cadence_policy").insertOne({ _id: "current" as never, rules: old, version: 3, updatedAt: new Date(0), updatedBy: "risk-1" });
      const repo = new MongoPolicyRepository(db, 0);
      expect(await repo.seed(clock.now())).toEqual(["payment-deferred"]);
      const after = await repo.current();
      expect(after).toMatchObject({ version: 4, updatedBy: "system:defaults" });
      expect(after.rules.map((r) => r.id)).toEqual([...old.map((r) => r.id), "payment-deferred"]);
      expect(await repo.seed(clock.now())).toEqual([]); // once
      expect((await repo.current()).version).toBe(4);
      // a risk manager removes it again: it stays removed
      await repo.replaceIfVersion(old, 4, "risk-1", clock.now());
      expect(await repo.seed(clock.now())).toEqual([]);
      expect((await repo.current()).rules.some((r) => r.id === "payment-deferred")).toBe(false);
    } finally {
      await mongo.close();
    }
  });
});

