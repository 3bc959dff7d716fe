import { metrics } from "@opentelemetry/api";
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { billing, Topics } from "@whiteslip/contracts";
import { deterministicId, invalidArgument } from "@whiteslip/core";
import { testScope, uniqueName } from "@whiteslip/testkit/vitest";
import { type Admin, Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ConsumerHandle,
  DlqHeaders,
  deadLetterTopic,
  encodeEvent,
  EventBus,
  type EventEnvelope,
  subscribe,
} from "../src/index";

/** Polls `fn` until it returns a value (not undefined); fails after `ms`. */
async function waitFor<T>(fn: () => T | undefined | Promise<T | undefined>, what: string, ms = 30_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}


interface Record_ {
  key: string;
  partition: number;
  offset: string;
  value: Buffer | null;
  headers: Record<string, string>;
}

describe("EventBus on the real broker: failure classes", () => {
  // This file's own platform on the shared cluster: every topic it touches carries this prefix.
  const scope = testScope("bus-int");
  const { topicPrefix: PREFIX } = scope;
  const OVERDUE = PREFIX + Topics.Overdue.topic;
  const kafka = new Kafka({ ...scope.kafkaConfig(), logLevel: logLevel.NOTHING });
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
  const provider = new MeterProvider({ readers: [reader] });
  let bus: EventBus;
  let admin: Admin;
  const started: ConsumerHandle[] = [];

  beforeAll(async () => {
    // before any consumer exists: the bus takes its meter when a consumer is made
    metrics.setGlobalMeterProvider(provider);
    bus = await EventBus.connect(scope.busOptions("bus-test"));
    await bus.ensureTopics([Topics.Overdue.topic]);
    admin = kafka.admin();
    await admin.connect();
  });
  afterAll(async () => {
    await Promise.all(started.map((c) => c.stop()));
    await admin.disconnect();
    await bus.close();
    metrics.disable();
    await provider.shutdown();
  });

  const consumer = (opts: Parameters<EventBus["consumer"]>[0]) => {
    const c = bus.consumer({ backoffMs: 20, maxBackoffMs: 200, ...opts });
    started.push(c);
    return c;
  };
  const overdue = (id: string, accountId: string, daysPastDue = 1) =>
    encodeEvent(Topics.Overdue, { id, key: accountId, time: new Date(), data: { accountId, customerId: `cus-${accountId}`, businessDate: "2026-03-02", daysPastDue } });

  /** Reads `topic` from the start until `done(records)` holds (a positive barrier), with a throwaway group. */
  async function readUntil(topic: string, done: (rs: Record_[]) => boolean, what: string): Promise<Record_[]> {
    const rs: Record_[] = [];
    const r = kafka.consumer({ groupId: uniqueName("reader"), maxWaitTimeInMs: 100 });
    await r.connect();
    await r.subscribe({ topic, fromBeginning: true });
    await r.run({
      eachMessage: async ({ partition, message }) => {
        rs.push({
          key: message.key?.toString() ?? "",
          partition,
          offset: message.offset,
          value: message.value,
          headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
        });
      },
    });
    try {
      await waitFor(() => (done(rs) ? true : undefined), what);
    } finally {
      await r.disconnect();
    }
    return rs;
  }

  /** The group's committed offset of `topic`/`partition` (-1 when none). */
  async function committed(groupId: string, topic: string, partition: number): Promise<bigint> {
    const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const p = t?.partitions.find((x) => x.partition === partition);
    return BigInt(p?.offset ?? "-1");
  }

  it("publishes CloudEvents binary-mode headers and a protobuf payload keyed by account", async () => {
    const accountId = uniqueName("acc");
    const seen: EventEnvelope<typeof billing.OverdueSchema>[] = [];
    const c = consumer({
      groupId: scope.group("g"),
      subscriptions: [subscribe(Topics.Overdue, async (e) => void (e.key === accountId && seen.push(e)))],
    });
    await c.start();
    const id = deterministicId("overdue", accountId, "2026-03-02");
    await bus.publish([
      encodeEvent(Topics.Overdue, {
        id,
        key: accountId,
        time: new Date("2026-03-02T00:05:00Z"),
        data: { accountId, customerId: `cus-${accountId}`, businessDate: "2026-03-02", daysPastDue: 1, bucket: billing.DelinquencyBucket.M1, overdueFen: 12_345n },
      }),
    ]);
    const e = await waitFor(() => seen[0], "the event");
    expect(e.id).toBe(id);
    expect(e.topic).toBe(OVERDUE);
    expect(e.type).toBe("whiteslip.billing.v1.Overdue");
    expect(e.source).toBe("//whiteslip/billing");
    expect(e.headers["content-type"]).toBe("application/protobuf");
    expect(e.headers.ce_specversion).toBe("1.0");
    expect(e.headers.ce_dataschema).toBe("urn:proto:whiteslip.billing.v1.Overdue");
    expect(e.data.overdueFen).toBe(12_345n);
    expect(e.data.bucket).toBe(billing.DelinquencyBucket.M1);
  });

  it("dead-letters poison messages and a permanent error at once, commits past them and counts them", async () => {
    const accountId = uniqueName("acc");
    const groupId = scope.group("g");
    const calls = new Map<string, number>();
    const handled: EventEnvelope[] = [];
    const rejected = deterministicId("rejected", accountId);
    const c = consumer({
      groupId,
      maxAttempts: 5,
      subscriptions: [
        subscribe(Topics.Overdue, async (e) => {
          if (e.key !== accountId) return;
          calls.set(e.id, (calls.get(e.id) ?? 0) + 1);
          if (e.id === rejected) throw invalidArgument([{ field: "days_past_due", description: "refused by this handler" }]);
          handled.push(e);
        }),
      ],
    });
    await c.start();
    const raw = kafka.producer();
    await raw.connect();
    // Same key → same partition: two poison messages and a rejected event first, the marker after them.
    await raw.send({
      topic: OVERDUE,
      messages: [
        { key: accountId, value: Buffer.from([0xff, 0xff, 0xff]), headers: { ce_id: "bad-1", ce_type: "whiteslip.billing.v1.Overdue", ce_source: "x", ce_specversion: "1.0" } },
        { key: accountId, value: Buffer.from("no headers at all") },
      ],
    });
    await raw.disconnect();
    const marker = deterministicId("marker", accountId);
    await bus.publish([overdue(rejected, accountId, 3), overdue(marker, accountId, 2)]);
    const m = await waitFor(() => handled.find((e) => e.id === marker), "the marker after the poison");
    expect(handled.map((e) => e.id)).toEqual([marker]);
    // permanent: the handler was called once, not retried
    expect(calls.get(rejected)).toBe(1);

    const dlq = PREFIX + deadLetterTopic(Topics.Overdue.topic, groupId);
    const dead = (await readUntil(dlq, (rs) => rs.filter((r) => r.key === accountId).length >= 3, "three dead letters")).filter(
      (r) => r.key === accountId,
    );
    expect(dead.map((r) => r.headers[DlqHeaders.errorKind])).toEqual(["UndecodableEventError", "UndecodableEventError", "DomainError"]);
    expect(dead.map((r) => r.headers[DlqHeaders.errorClass])).toEqual(["permanent", "permanent", "permanent"]);
    expect(dead.map((r) => r.headers[DlqHeaders.attempts])).toEqual(["0", "0", "1"]);
    expect(dead[0]!.headers[DlqHeaders.error]).toMatch(/payload is not a whiteslip.billing.v1.Overdue/);
    expect(dead[1]!.headers[DlqHeaders.error]).toMatch(/missing header ce_id/);
    expect(dead[2]!.headers[DlqHeaders.error]).toBe("days_past_due: refused by this handler");
    expect(dead[2]!.headers.ce_id).toBe(rejected);
    // the original message, byte for byte, with where it came from
    expect(dead[0]!.value).toEqual(Buffer.from([0xff, 0xff, 0xff]));
    for (const d of dead) {
      expect(d.headers[DlqHeaders.originalTopic]).toBe(OVERDUE);
      expect(d.headers[DlqHeaders.originalPartition]).toBe(String(m.partition));
      expect(d.headers[DlqHeaders.group]).toBe(groupId);
    }
    expect(dead.map((d) => BigInt(d.headers[DlqHeaders.originalOffset]!))).toEqual([
      BigInt(m.offset) - 3n,
      BigInt(m.offset) - 2n,
      BigInt(m.offset) - 1n,
    ]);
    // the group's committed offset moves past the dead letters and the marker
    await waitFor(async () => ((await committed(groupId, OVERDUE, m.partition)) >= BigInt(m.offset) + 1n ? true : undefined), "the commit past the marker");

    const { resourceMetrics } = await reader.collect();
    const points = resourceMetrics.scopeMetrics
      .flatMap((s) => s.metrics)
      .filter((x) => x.descriptor.name === "whiteslip.bus.dead_letters")
      .flatMap((x) => x.dataPoints as { attributes: Record<string, unknown>; value: unknown }[])
      .filter((p) => p.attributes.topic === dlq && p.attributes.group === groupId);
    expect(points.map((p) => [p.attributes.error_class, p.value])).toEqual([["permanent", 3]]);
  });

  it("holds a partition back through an infrastructure outage: retried, never dead-lettered, applied once; unhealthy meanwhile", async () => {
    const accountId = uniqueName("acc");
    const groupId = scope.group("g");
    let databaseUp = false;
    const calls = new Map<string, number>();
    const applied = new Map<string, EventEnvelope>();
    const c = consumer({
      groupId,
      maxAttempts: 2, // an infrastructure failure is not a bug: this bound must not apply
      subscriptions: [
        subscribe(Topics.Overdue, async (e) => {
          if (!e.key.startsWith(accountId)) return;
          calls.set(e.id, (calls.get(e.id) ?? 0) + 1);
          if (e.key === accountId && !databaseUp) {
            // the shape of the MongoDB driver's error while the database is down
            throw Object.assign(new Error("connection refused 127.0.0.1:27017"), { name: "MongoNetworkError" });
          }
          if (applied.has(e.id)) throw new Error(`applied twice: ${e.id}`);
          applied.set(e.id, e);
        }),
      ],
    });
    await c.start();
    expect(c.healthy).toBe(true);
    const stuck = deterministicId("stuck", accountId);
    const after = deterministicId("after", accountId);
    await bus.publish([overdue(stuck, accountId), overdue(after, accountId)]);
    const held = await waitFor(() => c.heldPartitions.find((h) => (h.attempts >= 4 ? h : undefined)), "four failed tries");
    expect(held).toMatchObject({ topic: OVERDUE, failureClass: "infrastructure" });
    expect(c.healthy).toBe(false);
    expect(bus.healthy).toBe(false);
    // nothing behind the held message is handled before it
    expect(applied.has(after)).toBe(false);

    // the other partitions keep moving meanwhile
    const others = Array.from({ length: 12 }, (_, i) => `${accountId}-${i}`);
    await bus.publish(others.map((k) => overdue(deterministicId("other", k), k)));
    await waitFor(() => [...applied.values()].find((e) => e.partition !== held.partition), "an event on another partition");
    expect(c.healthy).toBe(false);

    databaseUp = true;
    await waitFor(() => applied.get(after), "the event behind the held one");
    expect(applied.get(stuck)!.partition).toBe(held.partition);
    expect(calls.get(stuck)).toBeGreaterThanOrEqual(5);
    expect(calls.get(after)).toBe(1);
    await waitFor(() => (c.healthy ? true : undefined), "healthy again");
    expect(bus.healthy).toBe(true);
    expect(c.heldPartitions).toEqual([]);

    // Barrier for "never dead-lettered": a poison message on the same partition, after the outage, reaches the
    // DLQ; everything dead-lettered before it is in the DLQ by then.
    const raw = kafka.producer();
    await raw.connect();
    await raw.send({ topic: OVERDUE, messages: [{ key: accountId, value: Buffer.from("poison after the outage") }] });
    await raw.disconnect();
    const dlq = PREFIX + deadLetterTopic(Topics.Overdue.topic, groupId);
    const dead = await readUntil(dlq, (rs) => rs.some((r) => r.value?.toString() === "poison after the outage"), "the poison");
    // (a new group reads the file's topic from the start: other tests' poison is dead-lettered too; ours has our key)
    expect(dead.filter((r) => r.key === accountId).map((r) => r.value?.toString())).toEqual(["poison after the outage"]);
    expect(applied.get(stuck)).toBeDefined();
  });

  it("a held partition that moves to another member and comes back is consumed again once the outage ends", async () => {
    // The database-stop fault scenario: a handler blocked by the outage outlives its session, the group
    // rebalances, and a partition this member held back is assigned elsewhere and later back to it. Its pause
    // must not outlive the hold, or the partition is never fetched again.
    const accountId = uniqueName("acc");
    const groupId = scope.group("g");
    let databaseUp = false;
    const applied = new Set<string>();
    const handler = subscribe(Topics.Overdue, async (e) => {
      if (!e.key.startsWith(accountId)) return;
      if (!databaseUp) throw Object.assign(new Error("connection refused 127.0.0.1:27017"), { name: "MongoNetworkError" });
      applied.add(e.id);
    });
    const a = consumer({ groupId, subscriptions: [handler] });
    await a.start();
    const keys = Array.from({ length: 24 }, (_, i) => `${accountId}-${i}`);
    const ids = keys.map((k) => deterministicId("moved", k));
    await bus.publish(keys.map((k, i) => overdue(ids[i]!, k)));
    await waitFor(() => (new Set(a.heldPartitions.map((h) => h.partition)).size === 3 ? true : undefined), "all three partitions held");

    // a second member joins: some held partitions move to it (and are held there too)
    const b = bus.consumer({ groupId, backoffMs: 20, maxBackoffMs: 200, subscriptions: [handler] });
    await b.start();
    await waitFor(() => (b.heldPartitions.length > 0 && a.heldPartitions.length < 3 ? true : undefined), "a held partition moved");
    // … and leaves again: they come back to the first member
    await b.stop();
    await waitFor(() => (new Set(a.heldPartitions.map((h) => h.partition)).size === 3 ? true : undefined), "all three held by the first member again", 60_000);

    databaseUp = true;
    await waitFor(() => (ids.every((id) => applied.has(id)) ? true : undefined), "every event applied after the outage", 60_000);
    await waitFor(() => (a.healthy ? true : undefined), "healthy again");
  });

  it("retries a bug a bounded number of times, then dead-letters it with error, stack and attempts", async () => {
    const accountId = uniqueName("acc");
    const groupId = scope.group("g");
    let calls = 0;
    const firstCallAt: Date[] = [];
    const c = consumer({
      groupId,
      maxAttempts: 3,
      subscriptions: [
        subscribe(Topics.Overdue, async (e) => {
          if (e.key !== accountId) return;
          calls++;
          firstCallAt.push(new Date());
          // a bug: reading a field of something that is not there
          const rules = undefined as unknown as { cadence: string };
          void rules.cadence;
        }),
      ],
    });
    await c.start();
    const id = deterministicId("buggy", accountId);
    await bus.publish([overdue(id, accountId)]);
    const dlq = PREFIX + deadLetterTopic(Topics.Overdue.topic, groupId);
    const [dead] = (await readUntil(dlq, (rs) => rs.some((r) => r.key === accountId), "the dead letter")).filter((r) => r.key === accountId);
    expect(calls).toBe(3);
    const h = dead!.headers;
    expect(h.ce_id).toBe(id);
    expect(h[DlqHeaders.errorKind]).toBe("TypeError");
    expect(h[DlqHeaders.errorClass]).toBe("unexpected");
    expect(h[DlqHeaders.error]).toMatch(/cadence/);
    expect(h[DlqHeaders.stack]).toMatch(/TypeError: .*cadence[\s\S]*bus\.int\.test\.ts/);
    expect(h[DlqHeaders.attempts]).toBe("3");
    expect(h[DlqHeaders.group]).toBe(groupId);
    expect(h[DlqHeaders.originalTopic]).toBe(OVERDUE);
    const first = new Date(h[DlqHeaders.firstFailureAt]!);
    expect(Math.abs(first.getTime() - firstCallAt[0]!.getTime())).toBeLessThan(1_000);
    expect(new Date(h[DlqHeaders.deadLetteredAt]!).getTime()).toBeGreaterThanOrEqual(first.getTime());
    const partition = Number(h[DlqHeaders.originalPartition]);
    const offset = BigInt(h[DlqHeaders.originalOffset]!);
    await waitFor(async () => ((await committed(groupId, OVERDUE, partition)) >= offset + 1n ? true : undefined), "the commit past it");
  });

  it("stopping while retrying neither dead-letters nor commits: the next member gets the message again", async () => {
    const accountId = uniqueName("acc");
    const groupId = scope.group("g");
    let calls = 0;
    const first = bus.consumer({
      groupId,
      maxAttempts: 1_000,
      backoffMs: 20,
      maxBackoffMs: 50,
      subscriptions: [
        subscribe(Topics.Overdue, async (e) => {
          if (e.key !== accountId) return;
          calls++;
          throw new Error("not yet");
        }),
      ],
    });
    await first.start();
    const id = deterministicId("interrupted", accountId);
    await bus.publish([overdue(id, accountId)]);
    await waitFor(() => (calls >= 3 ? true : undefined), "three tries");
    await first.stop();
    const seen: EventEnvelope[] = [];
    const second = consumer({
      groupId,
      subscriptions: [subscribe(Topics.Overdue, async (e) => void (e.key === accountId && seen.push(e)))],
    });
    await second.start();
    const again = await waitFor(() => seen[0], "the redelivery");
    expect(again.id).toBe(id);
    // barrier: a poison message behind it reaches the DLQ; the interrupted event is not there
    const raw = kafka.producer();
    await raw.connect();
    await raw.send({ topic: OVERDUE, messages: [{ key: accountId, value: Buffer.from("barrier") }] });
    await raw.disconnect();
    const dlq = PREFIX + deadLetterTopic(Topics.Overdue.topic, groupId);
    const dead = await readUntil(dlq, (rs) => rs.some((r) => r.value?.toString() === "barrier"), "the barrier");
    expect(dead.filter((r) => r.key === accountId).map((r) => r.value?.toString())).toEqual(["barrier"]);
  });

  it("a topic prefix keeps two platforms on one cluster apart, dead-letter and replay topics included", async () => {
    const [pa, pb] = [`${uniqueName("pa")}.`, `${uniqueName("pb")}.`];
    const a = await EventBus.connect({ ...scope.busOptions("bus-test-a"), topicPrefix: pa });
    const b = await EventBus.connect({ ...scope.busOptions("bus-test-b"), topicPrefix: pb });
    const seenByA: EventEnvelope[] = [];
    const groupId = scope.group("g");
    const c = a.consumer({ groupId, subscriptions: [subscribe(Topics.Overdue, async (e) => void seenByA.push(e))] });
    try {
      await c.start();
      await b.ensureTopics([Topics.Overdue.topic]);
      await b.publish([overdue("from-b-1", "from-b")]);
      await a.publish([overdue("from-a-1", "from-a")]);
      await waitFor(() => seenByA.find((e) => e.id === "from-a-1"), "a's own event");
      expect(seenByA.map((e) => e.topic)).toEqual([`${pa}${Topics.Overdue.topic}`]);
      const topics = await admin.listTopics();
      expect(topics).toEqual(
        expect.arrayContaining([
          `${pa}${Topics.Overdue.topic}`,
          `${pb}${Topics.Overdue.topic}`,
          `${pa}${Topics.Overdue.topic}.${groupId}.dlq`,
          `${pa}${Topics.Overdue.topic}.${groupId}.replay`,
        ]),
      );
      expect(topics).not.toContain(`${pa}${pa}${Topics.Overdue.topic}`);
      // the DLQ keeps the source topic's partitions; a replay topic has one
      const md = await admin.fetchTopicMetadata({
        topics: [`${pa}${Topics.Overdue.topic}.${groupId}.dlq`, `${pa}${Topics.Overdue.topic}.${groupId}.replay`],
      });
      const partitions = Object.fromEntries(md.topics.map((t) => [t.name, t.partitions.length]));
      expect(partitions).toEqual({
        [`${pa}${Topics.Overdue.topic}.${groupId}.dlq`]: 3,
        [`${pa}${Topics.Overdue.topic}.${groupId}.replay`]: 1,
      });
    } finally {
      await c.stop();
      await Promise.all([a.close(), b.close()]);
    }
  });
});
