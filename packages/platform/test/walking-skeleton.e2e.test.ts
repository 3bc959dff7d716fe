/**
 * The walking skeleton (issue 2): the five services as separate processes on the real
 * broker and database. DueSoon/Overdue consumers each in their own group, exactly once
 * under redelivery, independent of each other, catching up after a stop; undecodable
 * messages dead-lettered without blocking the partition; bad gRPC input refused with
 * field details and no change; health and reflection on every server.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { encodeEvent, EventBus } from "@whiteslip/bus";
import { billing, credit, Topics } from "@whiteslip/contracts";
import { addDays, deterministicId, zonedInstant } from "@whiteslip/core";
import { checkHealth, isGrpcError, listServices } from "@whiteslip/grpc";
import { ensureGrpcurl } from "@whiteslip/testkit";
import { kafkaClientConfig, kafkaSasl, testInfra } from "@whiteslip/testkit/vitest";
import { type Admin, Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { syntheticNationalId } from "../src/demo";
import { credentialsOf } from "../src/driver";
import { eventually, openAccount, startTestPlatform, type TestPlatform } from "../src/harness";
import { grpcurlFlags as tryLineFlags, type ServiceName } from "../src/processes";

const START = "2027-02-01";
const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const CONSUMERS: ServiceName[] = ["credit", "notification", "collections", "credit-reporting"];

describe("walking skeleton: five services as processes on real Kafka and a MongoDB-wire database", () => {
  const infra = testInfra();
  let p: TestPlatform;
  let bus: EventBus;
  let admin: Admin;
  let accountId = "";
  let customerId = "";

  /** True once `group` has committed offsets up to the end of every partition of `topic`. */
  async function caughtUp(group: string, topic = p.topicPrefix + Topics.Overdue.topic): Promise<boolean> {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return ends.every((e) => {
      const c = committed?.partitions.find((x) => x.partition === e.partition);
      return Number(e.high) === 0 || Number(c?.offset ?? -1) >= Number(e.high);
    });
  }
  const allCaughtUp = (services: ServiceName[]) =>
    eventually(`${services.join(", ")} to consume everything`, async () => {
      for (const s of services) if (!(await caughtUp(p.groups[s]))) return undefined;
      return true;
    }, 30_000);

  const overdue = (dpd: number) =>
    encodeEvent(Topics.Overdue, {
      id: deterministicId("overdue", accountId, dpd),
      key: accountId,
      time: zonedInstant(START, 9, 0, "Asia/Shanghai"),
      data: {
        accountId,
        customerId,
        businessDate: addDays("2027-01-02", dpd),
        daysPastDue: dpd,
        bucket: dpd <= 30 ? billing.DelinquencyBucket.M1 : billing.DelinquencyBucket.M2,
        oldestDueDate: "2027-01-02",
        overdueFen: 120_000n,
        totalBalanceFen: 120_000n,
        delinquencyStartDate: "2027-01-03",
        productCode: "baitiao-standard",
      },
    });

  beforeAll(async () => {
    p = await startTestPlatform(infra, { start: START, tag: "skeleton" });
    const sasl = kafkaSasl(infra);
    bus = await EventBus.connect({ brokers: infra.kafkaBrokers, clientId: "skeleton-test", logger: quiet, topicPrefix: p.topicPrefix, ...(sasl ? { sasl } : {}) });
    admin = new Kafka({ ...kafkaClientConfig(infra), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    ({ customerId, accountId } = await openAccount(p, {
      name: "Skeleton Test",
      nationalId: syntheticNationalId(41, "19850101"),
      phone: "+8613900139000",
      email: "skeleton@example.com",
      key: "skeleton",
      beforeApply: (customerId) =>
        p.clients.notification
          .upsertContactPoints({ customerId, phone: "+8613900139000", email: "skeleton@example.com", timeZone: "Asia/Shanghai", locale: "en" })
          .then(() => undefined),
    }));
  }, 180_000);

  afterAll(async () => {
    await admin?.disconnect();
    await bus?.close();
    await p?.stop();
  });

  it("every server answers health and lists its service through reflection", async () => {
    const expected: Record<ServiceName, string> = {
      credit: "whiteslip.credit.v1.CreditService",
      billing: "whiteslip.billing.v1.BillingService",
      notification: "whiteslip.notification.v1.NotificationService",
      collections: "whiteslip.collections.v1.CollectionsService",
      "credit-reporting": "whiteslip.creditreporting.v1.CreditReportingService",
    };
    for (const [name, svc] of Object.entries(expected)) {
      const address = `127.0.0.1:${p.ports[name as ServiceName]}`;
      // mutual TLS: health and reflection answer any caller with a certificate of the platform's CA
      const ops = credentialsOf(p.pki, "ops");
      expect(await checkHealth(address, "", 5_000, ops)).toBe("SERVING");
      expect(await checkHealth(address, svc, 5_000, ops)).toBe("SERVING");
      expect(await listServices(address, 5_000, ops)).toEqual(expect.arrayContaining(["grpc.health.v1.Health", svc]));
    }
  });

  // grpcurl resolves every reflected descriptor with Go's protodesc, a strict implementation: a malformed one
  // (grpc-health-check's protobufjs descriptor named the map entry of HealthListResponse.statuses "Statuses")
  // fails here as it failed for a user: "incorrect implicit map entry name".
  it("grpcurl describes every reflected service and checks health through reflection on all five", async () => {
    const grpcurl = await ensureGrpcurl();
    const run = async (...args: string[]) =>
      (await promisify(execFile)(grpcurl, [...grpcurlFlags(p), ...args], { timeout: 20_000 })).stdout;
    for (const name of Object.keys(p.ports) as ServiceName[]) {
      const address = `127.0.0.1:${p.ports[name]}`;
      const listed = (await run(address, "list")).split("\n").filter(Boolean);
      expect(listed).toContain("grpc.health.v1.Health");
      for (const svc of listed) {
        expect(await run(address, "describe", svc)).toContain(`service ${svc.split(".").pop()}`);
      }
      const health = JSON.parse(await run("-d", "{}", address, "grpc.health.v1.Health/Check"));
      expect(health).toEqual({ status: "SERVING" });
    }
  }, 180_000);

  it("one Overdue, delivered twice, is recorded exactly once by each of the four consumers", async () => {
    const first = overdue(1);
    await bus.publish([first]);
    await bus.publish([first]);
    await allCaughtUp(CONSUMERS);
    const eventId = first.headers.ce_id!;

    const restrictions = await eventually("credit to restrict", async () => {
      const r = await p.clients.credit.getRestrictions({ accountId });
      return r.restrictedFeatures.length > 0 ? r : undefined;
    });
    expect(restrictions.restrictedFeatures).toContain(credit.Feature.NEW_PURCHASES);
    const cases = await p.clients.collections.listCases({ accountId });
    expect(cases.cases).toHaveLength(1);
    expect(cases.cases[0]!.daysPastDue).toBe(1);
    const history = await p.clients.creditReporting.listScoreHistory({ accountId });
    expect(history.changes).toHaveLength(1);
    expect(history.changes[0]!.causeEventId).toBe(eventId);
    const sent = (await p.clients.notification.listNotifications({ customerId })).notifications.filter((n) => n.factId === eventId);
    expect(sent.length).toBeGreaterThan(0);
    expect(new Set(sent.map((n) => n.channel)).size).toBe(sent.length); // one per (fact, channel)
  });

  it("with credit-reporting stopped the others go on; an undecodable message is dead-lettered; it catches up on restart", async () => {
    await p.processes["credit-reporting"].stop();
    const raw = new Kafka({ ...kafkaClientConfig(infra), logLevel: logLevel.NOTHING }).producer();
    await raw.connect();
    const [garbage] = await raw.send({ topic: p.topicPrefix + Topics.Overdue.topic, messages: [{ key: accountId, value: Buffer.from("not protobuf"), headers: { ce_id: "garbage-1" } }] });
    await raw.disconnect();
    await bus.publish([overdue(30)]); // same key → same partition, after the garbage

    await allCaughtUp(["credit", "notification", "collections"]);
    const c = await eventually("collections to follow DPD 30", async () => {
      const x = (await p.clients.collections.listCases({ accountId })).cases[0];
      return x?.daysPastDue === 30 ? x : undefined;
    });
    expect(c.bucket).toBe(billing.DelinquencyBucket.M1);
    expect(await caughtUp(p.groups["credit-reporting"])).toBe(false);

    p.processes["credit-reporting"] = await p.processes["credit-reporting"].restart();
    await allCaughtUp(["credit-reporting"]);
    const history = await eventually("credit-reporting to catch up", async () => {
      const h = await p.clients.creditReporting.listScoreHistory({ accountId });
      return h.changes.length === 2 ? h : undefined;
    });
    expect(history.changes[0]!.reasons.map((r) => r.code)).toContain("DPD_30_CROSSED");

    // every consumer group dead-lettered the garbage, with the error in headers
    for (const s of CONSUMERS) {
      const dlq = `${p.topicPrefix}${Topics.Overdue.topic}.${p.groups[s]}.dlq`;
      const consumer = new Kafka({ ...kafkaClientConfig(infra), logLevel: logLevel.NOTHING }).consumer({ groupId: `${p.groups[s]}-dlq-reader` });
      const seen: Record<string, string>[] = [];
      await consumer.connect();
      await consumer.subscribe({ topic: dlq, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          // the group also dead-letters other test files' bad events on the shared topic: keep this account's
          if (message.key?.toString() !== accountId) return;
          seen.push(Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])));
        },
      });
      await eventually(`${dlq} to hold the garbage`, async () => (seen.length > 0 ? true : undefined));
      await consumer.disconnect();
      expect(seen[0]).toMatchObject({ ce_id: "garbage-1", dlq_original_offset: garbage!.baseOffset, dlq_error_kind: "UndecodableEventError" });
    }
  });

  it("a malformed gRPC request gets INVALID_ARGUMENT with field details and changes nothing", async () => {
    const before = (await p.clients.billing.getAccountSummary({ accountId })).account!;
    const err = await p.clients.billing.postRepayment({ accountId, amountFen: -500n, idempotencyKey: "bad-1" }).catch((e) => e);
    expect(isGrpcError(err)).toBe(true);
    expect(err.codeName).toBe("INVALID_ARGUMENT");
    expect(err.violations.map((v: { field: string }) => v.field)).toContain("amount_fen");
    const after = (await p.clients.billing.getAccountSummary({ accountId })).account!;
    expect(after.totalBalanceFen).toBe(before.totalBalanceFen);
    expect(after.creditBalanceFen).toBe(before.creditBalanceFen);

    const bad = await p.clients.credit.registerCustomer({ name: "X", nationalId: "110101199003071234", phone: "123", email: "nope", idempotencyKey: "bad-2" }).catch((e) => e);
    expect(bad.codeName).toBe("INVALID_ARGUMENT");
    expect(bad.violations.map((v: { field: string }) => v.field)).toEqual(expect.arrayContaining(["national_id", "phone", "email"]));
  });
});

/** grpcurl's transport flags for the test platform's servers: those `npm start`'s `  Try:` line prints. */
function grpcurlFlags(p: TestPlatform): string[] {
  return tryLineFlags(p.pki);
}
