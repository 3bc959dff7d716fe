import { create, toBinary } from "@bufbuild/protobuf";
import { billing, Topics } from "@whiteslip/contracts";
import { deterministicId } from "@whiteslip/core";
import { testInfra, uniqueName } from "@whiteslip/testkit/vitest";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deadLetterTopic, encodeEvent, EventBus, type EventEnvelope, subscribe } from "../src/index";

const silent = { info() {}, warn() {}, error() {}, debug() {} };

async function waitFor<T>(fn: () => T | undefined, ms = 30_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("EventBus on the real broker", () => {
  const { kafkaBrokers } = testInfra();
  let bus: EventBus;
  beforeAll(async () => {
    bus = await EventBus.connect({ brokers: kafkaBrokers, clientId: "bus-test", logger: silent });
    await bus.ensureTopics([Topics.Overdue.topic]);
  });
  afterAll(async () => bus.close());

  it("publishes CloudEvents binary-mode headers and a protobuf payload keyed by account", async () => {
    const accountId = uniqueName("acc");
    const groupId = uniqueName("g");
    const seen: EventEnvelope<typeof billing.OverdueSchema>[] = [];
    const consumer = bus.consumer({
      groupId,
      subscriptions: [
        subscribe(Topics.Overdue, async (e) => {
          if (e.key === accountId) seen.push(e);
        }),
      ],
    });
    await consumer.start();
    const id = deterministicId("overdue", accountId, "2026-03-02");
    await bus.publish([
      encodeEvent(Topics.Overdue, {
        id,
        key: accountId,
        time: new Date("2026-03-02T00:05:00Z"),
        data: { accountId, daysPastDue: 1, bucket: billing.DelinquencyBucket.M1, overdueFen: 12_345n },
      }),
    ]);
    const e = await waitFor(() => seen[0]);
    await consumer.stop();
    expect(e.id).toBe(id);
    expect(e.type).toBe("whiteslip.billing.v1.Overdue");
    expect(e.source).toBe("//whiteslip/billing");
    expect(e.headers["content-type"]).toBe("application/protobuf");
    expect(e.headers.ce_specversion).toBe("1.0");
    expect(e.headers.ce_dataschema).toBe("urn:proto:whiteslip.billing.v1.Overdue");
    expect(e.data.overdueFen).toBe(12_345n);
    expect(e.data.bucket).toBe(billing.DelinquencyBucket.M1);
  });

  it("dead-letters an undecodable message and keeps the partition moving", async () => {
    const accountId = uniqueName("acc");
    const groupId = uniqueName("g");
    const handled: string[] = [];
    const consumer = bus.consumer({
      groupId,
      subscriptions: [subscribe(Topics.Overdue, async (e) => void (e.key === accountId && handled.push(e.id)))],
    });
    await consumer.start();
    const raw = new Kafka({ brokers: kafkaBrokers, logLevel: logLevel.NOTHING }).producer();
    await raw.connect();
    // Same key → same partition: the garbage comes first, the good event after it.
    await raw.send({
      topic: Topics.Overdue.topic,
      messages: [
        { key: accountId, value: Buffer.from([0xff, 0xff, 0xff]), headers: { ce_id: "bad-1", ce_type: "whiteslip.billing.v1.Overdue", ce_source: "x", ce_specversion: "1.0" } },
        { key: accountId, value: Buffer.from("no headers at all") },
      ],
    });
    await raw.disconnect();
    const good = deterministicId("good", accountId);
    await bus.publish([
      encodeEvent(Topics.Overdue, {
        id: good,
        key: accountId,
        time: new Date(),
        data: create(billing.OverdueSchema, { accountId, daysPastDue: 2 }),
      }),
    ]);
    await waitFor(() => (handled.includes(good) ? true : undefined));
    await consumer.stop();
    expect(handled).toEqual([good]);

    const dlq = deadLetterTopic(Topics.Overdue.topic, groupId);
    const reader = new Kafka({ brokers: kafkaBrokers, logLevel: logLevel.NOTHING }).consumer({ groupId: uniqueName("dlq") });
    const dead: Record<string, string>[] = [];
    await reader.connect();
    await reader.subscribe({ topic: dlq, fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }) => {
        // The topic is shared with other test files (which dead-letter their own garbage): keep ours.
        if (message.key?.toString() !== accountId) return;
        dead.push(Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])));
      },
    });
    await waitFor(() => (dead.length >= 2 ? true : undefined));
    await reader.disconnect();
    expect(dead.map((h) => h.dlq_error_kind)).toEqual(["UndecodableEventError", "UndecodableEventError"]);
    expect(dead[0]!.dlq_error).toMatch(/payload is not a whiteslip.billing.v1.Overdue/);
    expect(dead[1]!.dlq_error).toMatch(/missing header ce_id/);
    expect(dead[0]!.dlq_original_topic).toBe(Topics.Overdue.topic);
    // A valid payload is never sent to the DLQ by decoding.
    expect(toBinary(billing.OverdueSchema, create(billing.OverdueSchema, {})).length).toBe(0);
  });

  it("retries a failing handler with backoff, then dead-letters it", async () => {
    const accountId = uniqueName("acc");
    const groupId = uniqueName("g");
    let calls = 0;
    const consumer = bus.consumer({
      groupId,
      maxAttempts: 3,
      backoffMs: 10,
      subscriptions: [
        subscribe(Topics.Overdue, async (e) => {
          if (e.key !== accountId) return;
          calls++;
          throw new Error("database is down");
        }),
      ],
    });
    await consumer.start();
    await bus.publish([
      encodeEvent(Topics.Overdue, { id: uniqueName("ev"), key: accountId, time: new Date(), data: { accountId } }),
    ]);
    await waitFor(() => (calls >= 3 ? true : undefined));
    await new Promise((r) => setTimeout(r, 300));
    await consumer.stop();
    expect(calls).toBe(3);
  });

  it("a topic prefix keeps two platforms on one cluster apart, dead-letter topics included", async () => {
    const [pa, pb] = [`${uniqueName("pa")}.`, `${uniqueName("pb")}.`];
    const a = await EventBus.connect({ brokers: kafkaBrokers, clientId: "bus-test-a", logger: silent, topicPrefix: pa });
    const b = await EventBus.connect({ brokers: kafkaBrokers, clientId: "bus-test-b", logger: silent, topicPrefix: pb });
    const seenByA: string[] = [];
    const groupId = uniqueName("g");
    const consumer = a.consumer({ groupId, subscriptions: [subscribe(Topics.Overdue, async (e) => void seenByA.push(e.id))] });
    try {
      await consumer.start();
      await b.ensureTopics([Topics.Overdue.topic]);
      const ev = (who: string) =>
        encodeEvent(Topics.Overdue, { id: `${who}-1`, key: who, time: new Date(), data: { accountId: who, daysPastDue: 1 } });
      await b.publish([ev("from-b")]);
      await a.publish([ev("from-a")]);
      await waitFor(() => (seenByA.includes("from-a-1") ? true : undefined));
      await new Promise((r) => setTimeout(r, 500));
      expect(seenByA).toEqual(["from-a-1"]);
      const admin = a.kafka.admin();
      await admin.connect();
      const topics = await admin.listTopics();
      await admin.disconnect();
      expect(topics).toEqual(expect.arrayContaining([`${pa}${Topics.Overdue.topic}`, `${pb}${Topics.Overdue.topic}`, `${pa}${deadLetterTopic(Topics.Overdue.topic, groupId)}`]));
      expect(topics).not.toContain(`${pa}${pa}${Topics.Overdue.topic}`);
    } finally {
      await consumer.stop();
      await Promise.all([a.close(), b.close()]);
    }
  });
});
