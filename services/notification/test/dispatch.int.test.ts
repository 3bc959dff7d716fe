/**
 * Side effects on the real broker, database and the platform's provider sandboxes (a real SMTP server and the HTTP
 * SMS/push/voice API that honours idempotency keys): a dispatcher killed between the provider call and its record,
 * two dispatchers racing one due wave, messages that expire or are superseded before they are sent. Facts go in
 * over Kafka to the service (own TOPIC_PREFIX and database); the crash and race scenarios drive extra Dispatcher
 * instances on the same database, each with its own connection, as separate replicas would.
 */
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { EventBus, encodeEvent } from "@whiteslip/bus";
import { billing, notification as pb, Topics } from "@whiteslip/contracts";
import { dateInZone, ManualClock } from "@whiteslip/core";
import { createClient } from "@whiteslip/grpc";
import { generateKeyring, PiiCipher } from "@whiteslip/pii";
import { eventually, type ProviderSandbox, startProviderSandbox } from "@whiteslip/platform";
import { freshDatabaseName, kafkaEnv, kafkaSasl, testInfra, uniqueName } from "@whiteslip/testkit/vitest";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HttpChannelProvider } from "../src/adapters/http-channel-provider";
import {
  MongoAccountFactsRepository,
  MongoCustomerRepository,
  MongoMessageRepository,
} from "../src/adapters/mongo-repositories";
import { SmtpEmailProvider } from "../src/adapters/smtp-email-provider";
import { Dispatcher } from "../src/app/dispatch-due-messages";
import type { ChannelProvider, MessageRepository } from "../src/app/ports";
import { DEFAULT_SETTINGS } from "../src/app/settings";
import { startNotification } from "../src/main";

const at = (local: string) => new Date(`${local}+08:00`);
const run = uniqueName("nd");
const infra = testInfra();
const dbName = freshDatabaseName("notification_dispatch");
const topicPrefix = `${run}.`;
const clock = new ManualClock(at("2027-01-04T10:00"));
const CLAIM_MS = 60_000;
/** The service's keyring, shared with the replicas (they decrypt the contact points it stored). */
const KEYRING = generateKeyring();

let sandbox: ProviderSandbox;
let service: Awaited<ReturnType<typeof startNotification>>;
let bus: EventBus;
let client: ReturnType<typeof createClient<typeof pb.NotificationService>>;
const mongos: MongoClient[] = [];

/** A dispatcher replica: its own connection, real SMTP and HTTP providers, the same clock and settings as the service. */
async function replica(
  wrap: (m: MongoMessageRepository) => MessageRepository = (m) => m,
  onError?: (err: unknown) => void,
  email: { eventLog?: boolean; port?: number } = {},
): Promise<Dispatcher> {
  const mongo = await MongoClient.connect(infra.mongoUri);
  mongos.push(mongo);
  const db = mongo.db(dbName);
  const env = sandbox.env();
  const http = (channel: "SMS" | "PUSH" | "VOICE", url: string) =>
    new HttpChannelProvider({ channel, baseUrl: url, apiKey: "sandbox", timeoutMs: 5_000 });
  const providers: Partial<Record<"SMS" | "EMAIL" | "PUSH" | "VOICE", ChannelProvider>> = {
    EMAIL: new SmtpEmailProvider({
      host: "127.0.0.1",
      port: email.port ?? sandbox.smtpPort,
      secure: false,
      ignoreTls: true,
      from: "Whiteslip <no-reply@whiteslip.example>",
      timeoutMs: 5_000,
      // the sandbox's event log (what its SMTP server accepted, by Message-ID), as the service is configured
      ...(email.eventLog === false ? {} : { events: { url: env.EMAIL_EVENTS_URL!, apiKey: "sandbox", timeoutMs: 5_000, settleMs: 0 } }),
    }),
    SMS: http("SMS", env.SMS_PROVIDER_URL!),
  };
  return new Dispatcher({
    messages: wrap(new MongoMessageRepository(db)),
    customers: new MongoCustomerRepository(db, new PiiCipher(KEYRING), { timeZone: "Asia/Shanghai", locale: "zh-CN" }),
    accounts: new MongoAccountFactsRepository(db),
    providers,
    clock,
    settings: { ...DEFAULT_SETTINGS, claimMs: CLAIM_MS },
    ...(onError ? { onError } : {}),
  });
}

async function listAll(customerId: string) {
  return (await client.listNotifications({ customerId, pageSize: 200 })).notifications;
}

/** Waits until the customer has `n` messages (the fact was planned) and returns them. */
async function messagesOf(customerId: string, n: number) {
  return eventually(`${n} messages for ${customerId}`, async () => {
    const ms = await listAll(customerId);
    return ms.length >= n ? ms : undefined;
  }, 90_000);
}

async function contacts(customerId: string) {
  await client.upsertContactPoints({
    customerId,
    phone: `+86139${String(Math.floor(Math.random() * 1e8)).padStart(8, "0")}`,
    email: `${customerId}@example.com`,
    timeZone: "Asia/Shanghai",
    locale: "en",
    displayName: "Test Customer",
  });
}

function dueSoon(id: string, customerId: string, accountId: string, dueDate: string) {
  return encodeEvent(Topics.DueSoon, {
    id,
    key: accountId,
    time: clock.now(),
    data: {
      accountId,
      customerId,
      statementId: `st-${id}`,
      dueDate,
      daysUntilDue: 5,
      amountDueFen: 50_000n,
      minimumPaymentFen: 5_000n,
      businessDate: dateInZone(clock.now()),
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
      businessDate: dateInZone(clock.now()),
      daysPastDue: dpd,
      bucket: billing.DelinquencyBucket.M1,
      overdueFen: 30_000n,
      totalBalanceFen: 90_000n,
    },
  });
}

/** What reached the sinks for a message id: deliveries (HTTP and SMTP) and HTTP requests (replays included). */
function atSinks(id: string) {
  return {
    delivered: sandbox.messages.filter((m) => m.messageId === id).length,
    requests: sandbox.requests.filter((r) => r.idempotencyKey === id).length,
  };
}

beforeAll(async () => {
  sandbox = await startProviderSandbox();
  service = await startNotification({
    clock,
    env: {
      ...kafkaEnv(infra),
      MONGODB_URI: infra.mongoUri,
      MONGODB_DB: dbName,
      TOPIC_PREFIX: topicPrefix,
      CONSUMER_GROUP: `${run}-notification`,
      KAFKA_CLIENT_ID: run,
      GRPC_HOST: "127.0.0.1",
      GRPC_PORT: "0",
      // in-process, plaintext: the explicit development flag (mutual TLS is proven by the attack suite)
      GRPC_PLAINTEXT_DEV: "1",
      LOG_LEVEL: "silent",
      DISPATCH_INTERVAL_MS: "0",
      DISPATCH_CLAIM_MS: String(CLAIM_MS),
      PII_KEYRING: JSON.stringify(KEYRING),
      SMTP_TIMEOUT_MS: "5000",
      ...sandbox.env(),
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
}, 120_000);

afterAll(async () => {
  await bus?.close();
  await service?.stop();
  await Promise.all(mongos.map((m) => m.close()));
  await sandbox?.stop();
});

describe("the HTTP provider sandbox honours idempotency keys", () => {
  it("a second POST with the same key answers the same and delivers nothing; the key can be looked up", async () => {
    const sms = new HttpChannelProvider({ channel: "SMS", baseUrl: sandbox.env().SMS_PROVIDER_URL!, apiKey: "k", timeoutMs: 5_000 });
    const id = `${run}-key-1`;
    expect(await sms.lookup(id)).toBeNull();
    const msg = { messageId: id, channel: "SMS" as const, to: "+8613900000000", subject: "", body: "hello", locale: "en" as const, category: "REMINDER" as const };
    const first = await sms.send(msg);
    const second = await sms.send(msg);
    expect(second).toEqual(first);
    expect(await sms.lookup(id)).toEqual(first);
    expect(sandbox.hasKey("SMS", id)).toBe(true);
    expect(atSinks(id)).toEqual({ delivered: 1, requests: 2 });
  });
});

describe("a dispatcher killed between the provider call and its record", () => {
  /** A replica that dies right after each provider call: the record never happens. */
  const dying = (email: { port?: number } = {}) =>
    replica(
      (repo) => {
        const wrapped = Object.create(repo) as MongoMessageRepository;
        wrapped.transition = async (next, events, expected) => {
          if (expected.status === "SENDING" && next.status !== "SENDING") throw new Error("process killed");
          return repo.transition(next, events, expected);
        };
        return wrapped;
      },
      undefined,
      email,
    );
  const emailLookups = (id: string) => sandbox.lookups.filter((l) => l.channel === "EMAIL" && l.key === `${id}@notification.whiteslip`);

  async function crash(name: string, email: { port?: number } = {}) {
    const c = `${run}-${name}`;
    await contacts(c);
    clock.set(at("2027-01-04T10:00"));
    await bus.publish([dueSoon(`${run}-ds-${name}`, c, `${run}-acc-${name}`, "2027-01-09")]);
    const planned = await messagesOf(c, 3);
    await (await dying(email)).tick();
    return {
      c,
      sms: planned.find((m) => m.channel === pb.Channel.SMS)!,
      email: planned.find((m) => m.channel === pb.Channel.EMAIL)!,
    };
  }

  it("after the claim expires the SMS is retried with the same key and the email is found in the provider's event log: each delivered once", async () => {
    const { c, sms, email } = await crash("crash");
    expect(atSinks(sms.notificationId)).toEqual({ delivered: 1, requests: 1 });
    expect(atSinks(email.notificationId)).toEqual({ delivered: 1, requests: 0 });
    const mid = await listAll(c);
    // SENDING reads as scheduled to a caller; IN_APP needs no provider and was recorded
    expect(mid.find((m) => m.notificationId === sms.notificationId)!.status).toBe(pb.DeliveryStatus.SCHEDULED);

    const healthy = await replica();
    expect((await healthy.tick()).due).toBe(0); // the claims still hold
    clock.advance(CLAIM_MS);
    expect(await healthy.tick()).toMatchObject({ due: 2, sent: 2, reconcile: 0 });

    // SMS: a second request with the same key, answered from the provider's record: exactly one delivery
    expect(atSinks(sms.notificationId)).toEqual({ delivered: 1, requests: 2 });
    // email: asked, found, never re-sent
    expect(emailLookups(email.notificationId)).toEqual([{ channel: "EMAIL", key: `${email.notificationId}@notification.whiteslip`, found: true }]);
    expect(atSinks(email.notificationId)).toEqual({ delivered: 1, requests: 0 });
    const after = await listAll(c);
    expect(after.find((m) => m.notificationId === sms.notificationId)).toMatchObject({ status: pb.DeliveryStatus.DELIVERED, attempts: 1 });
    const rec = after.find((m) => m.notificationId === email.notificationId)!;
    expect(rec.status).toBe(pb.DeliveryStatus.DELIVERED);
    expect(rec.statusReason).toContain("reconciled: the email provider has it");
    // its events are the ones the lost record would have published
    await service.tick!();
    clock.advance(CLAIM_MS * 10);
    expect((await healthy.tick()).due).toBe(0);
    expect(atSinks(email.notificationId).delivered).toBe(1);
  });

  it("an email whose SMTP call never reached the relay is not in its event log, and is sent once", async () => {
    // the dying replica's SMTP server is a closed port: the call fails, and its record dies with the process
    const closed = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, "127.0.0.1", () => {
        const port = (srv.address() as AddressInfo).port;
        srv.close(() => resolve(port));
      });
    });
    const { c, email } = await crash("never", { port: closed });
    expect(atSinks(email.notificationId).delivered).toBe(0);
    const healthy = await replica();
    clock.advance(CLAIM_MS);
    expect(await healthy.tick()).toMatchObject({ due: 2, sent: 2, reconcile: 0 }); // the SMS replayed by key, the email sent
    expect(emailLookups(email.notificationId).map((l) => l.found)).toEqual([false]);
    expect(atSinks(email.notificationId).delivered).toBe(1);
    expect((await listAll(c)).find((m) => m.notificationId === email.notificationId)!.status).toBe(pb.DeliveryStatus.DELIVERED);
  });

  it("without an event log the email is RECONCILE; the operator lists it and resolves it with the relay's evidence", async () => {
    const { email } = await crash("operator");
    const plain = await replica(undefined, undefined, { eventLog: false });
    clock.advance(CLAIM_MS);
    expect(await plain.tick()).toMatchObject({ due: 2, sent: 1, reconcile: 1 });
    const listed = await client.listReconciliations({ operatorOnly: true });
    const rec = listed.notifications.find((m) => m.notificationId === email.notificationId)!;
    expect(rec.status).toBe(pb.DeliveryStatus.RECONCILE);
    expect(rec.statusReason).toContain("cannot deduplicate");
    expect(rec.nextLookupAt).toBeUndefined();
    const stats = await client.getNotificationStats({ fromDate: "", toDate: "" });
    expect(stats.counts.find((x) => x.channel === pb.Channel.EMAIL && x.status === pb.DeliveryStatus.RECONCILE)?.count).toBeGreaterThanOrEqual(1);
    clock.advance(CLAIM_MS * 10);
    expect((await plain.tick()).due).toBe(0); // nothing happens to it on its own

    // the SMTP sink has it (the relay's log): the operator records it delivered
    expect(atSinks(email.notificationId).delivered).toBe(1);
    const r = await client.resolveReconciliation({ notificationId: email.notificationId, resolution: pb.Resolution.DELIVERED, note: "relay log: 250 accepted", actor: "ops-test" });
    expect(r.notification).toMatchObject({ status: pb.DeliveryStatus.DELIVERED, statusReason: "reconciled by ops-test: the provider has it (relay log: 250 accepted)" });
    await expect(client.resolveReconciliation({ notificationId: email.notificationId, resolution: pb.Resolution.RESEND, note: "x", actor: "ops-test" })).rejects.toMatchObject({ reason: "NOT_IN_RECONCILE" });
    expect((await client.listReconciliations({})).notifications.find((m) => m.notificationId === email.notificationId)).toBeUndefined();
    expect(atSinks(email.notificationId).delivered).toBe(1);
  });
});

describe("two dispatchers racing one due wave", () => {
  it("send each message once (counted at the sinks)", async () => {
    const customers = Array.from({ length: 12 }, (_, i) => `${run}-race-${i}`);
    for (const c of customers) await contacts(c);
    clock.set(at("2027-01-05T07:00")); // quiet hours: the wave is due at 08:00
    await bus.publish(customers.map((c, i) => dueSoon(`${run}-ds-race-${i}`, c, `${run}-acc-race-${i}`, "2027-01-10")));
    const wave: pb.Notification[] = [];
    for (const c of customers) wave.push(...(await messagesOf(c, 3)));
    expect(wave).toHaveLength(36);

    const errors: unknown[] = [];
    const [a, b] = await Promise.all([replica(undefined, (e) => errors.push(e)), replica(undefined, (e) => errors.push(e))]);
    expect((await client.getNotificationStats({})).dueNow).toBe(0n); // not due before 08:00
    clock.set(at("2027-01-05T08:00"));
    expect((await client.getNotificationStats({})).dueNow).toBe(36n); // the backlog
    const [ra, rb] = await Promise.all([a.tick(), b.tick()]);
    expect(errors).toEqual([]);
    expect(ra.sent + rb.sent).toBe(36);
    // both saw the wave; each message was won by one of them
    expect(ra.due + rb.due).toBe(72);

    for (const m of wave) {
      if (m.channel === pb.Channel.IN_APP) continue;
      expect(atSinks(m.notificationId).delivered, `${pb.Channel[m.channel]} ${m.notificationId}`).toBe(1);
      // the loser of a claim never called the provider: no replay was even needed
      if (m.channel === pb.Channel.SMS) expect(atSinks(m.notificationId).requests).toBe(1);
    }
    const after = (await Promise.all(customers.map((c) => listAll(c)))).flat();
    expect(after.every((m) => m.status === pb.DeliveryStatus.DELIVERED)).toBe(true);
    expect((await a.tick()).due).toBe(0);
    expect((await client.getNotificationStats({})).dueNow).toBe(0n);
  });
});

describe("messages expire", () => {
  it("a reminder still queued after its due date is EXPIRED and nothing reaches the sinks", async () => {
    const c = `${run}-expired`;
    await contacts(c);
    clock.set(at("2027-01-06T22:00")); // due today; quiet hours move it to 08:00 tomorrow
    await bus.publish([dueSoon(`${run}-ds-expired`, c, `${run}-acc-expired`, "2027-01-06")]);
    const ms = await messagesOf(c, 3);
    expect(ms.every((m) => m.status === pb.DeliveryStatus.SCHEDULED)).toBe(true);
    clock.set(at("2027-01-07T08:00"));
    await service.tick!();
    const after = await listAll(c);
    expect(after.map((m) => m.status)).toEqual([pb.DeliveryStatus.EXPIRED, pb.DeliveryStatus.EXPIRED, pb.DeliveryStatus.EXPIRED]);
    expect(after[0]!.statusReason).toBe(`validity window ended ${at("2027-01-07T00:00").toISOString()}`);
    for (const m of after) expect(atSinks(m.notificationId)).toEqual({ delivered: 0, requests: 0 });
    expect((await client.listInbox({ customerId: c })).messages).toHaveLength(0);
  });

  it("a payment supersedes a queued overdue notice; so does a cure", async () => {
    const paid = `${run}-superseded`;
    const cured = `${run}-cured`;
    await contacts(paid);
    await contacts(cured);
    clock.set(at("2027-01-08T22:00"));
    await bus.publish([
      overdue(`${run}-od-paid`, paid, `${run}-acc-paid`, 1),
      overdue(`${run}-od-cured`, cured, `${run}-acc-cured`, 1),
    ]);
    const queued = [...(await messagesOf(paid, 2)), ...(await messagesOf(cured, 2))];
    expect(queued.every((m) => m.status === pb.DeliveryStatus.SCHEDULED)).toBe(true);

    clock.set(at("2027-01-08T23:00"));
    await bus.publish([
      encodeEvent(Topics.PaymentReceived, {
        id: `${run}-pay`,
        key: `${run}-acc-paid`,
        time: clock.now(),
        data: {
          accountId: `${run}-acc-paid`,
          customerId: paid,
          paymentId: "p-1",
          amountFen: 30_000n,
          receivedAt: timestampFromDate(clock.now()),
          businessDate: "2027-01-08",
        },
      }),
      encodeEvent(Topics.AccountCured, {
        id: `${run}-cure`,
        key: `${run}-acc-cured`,
        time: clock.now(),
        data: { accountId: `${run}-acc-cured`, customerId: cured, businessDate: "2027-01-08", paymentId: "p-2", previousDaysPastDue: 1 },
      }),
    ]);
    const isSuperseded = async (c: string, template: string) => {
      const ms = (await listAll(c)).filter((m) => m.template === template);
      return ms.length === 2 && ms.every((m) => m.status === pb.DeliveryStatus.SUPERSEDED) ? ms : undefined;
    };
    const byPayment = await eventually("the payment to supersede the notices", () => isSuperseded(paid, "overdue-notice@1"), 60_000);
    const byCure = await eventually("the cure to supersede the notices", () => isSuperseded(cured, "overdue-notice@1"), 60_000);
    expect(byPayment[0]!.statusReason).toBe(`superseded by a payment received ${at("2027-01-08T23:00").toISOString()}`);
    expect(byCure[0]!.statusReason).toBe(`superseded: account cured ${at("2027-01-08T23:00").toISOString()}`);

    clock.set(at("2027-01-09T08:00"));
    await service.tick!();
    for (const m of [...byPayment, ...byCure]) expect(atSinks(m.notificationId)).toEqual({ delivered: 0, requests: 0 });
    // the payment's own receipt is sent
    const receipt = (await listAll(paid)).find((m) => m.template === "payment-received@1" && m.channel === pb.Channel.SMS)!;
    expect(receipt.status).toBe(pb.DeliveryStatus.DELIVERED);
    expect(atSinks(receipt.notificationId).delivered).toBe(1);
    const stats = await client.getNotificationStats({ fromDate: "2027-01-08", toDate: "2027-01-08" });
    expect(
      stats.counts.filter((x) => x.status === pb.DeliveryStatus.SUPERSEDED).reduce((s, x) => s + Number(x.count), 0),
    ).toBe(4);
  });
});
