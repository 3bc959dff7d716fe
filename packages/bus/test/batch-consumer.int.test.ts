/**
 * The batch consumer on the real broker: events arrive in batches (fewer handler calls than events), a batch with a
 * poison event and a handler bug is taken apart so that only those are dead-lettered and the rest applied, and an
 * infrastructure failure holds the partition (unhealthy) until the batch goes through, nothing dead-lettered.
 */
import { Topics } from "@whiteslip/contracts";
import { deterministicId, invalidArgument } from "@whiteslip/core";
import { testScope, uniqueName } from "@whiteslip/testkit/vitest";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BatchGroupConsumer, DlqHeaders, deadLetterTopic, encodeEvent, EventBus, type EventEnvelope, subscribeBatch } from "../src/index";

async function waitFor<T>(fn: () => T | undefined | Promise<T | undefined>, what: string, ms = 60_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("BatchGroupConsumer on the real broker", () => {
  const scope = testScope("bus-batch");
  const kafka = new Kafka({ ...scope.kafkaConfig(), logLevel: logLevel.NOTHING });
  const quiet = { info() {}, warn() {}, error() {}, debug() {} };
  let bus: EventBus;
  const started: BatchGroupConsumer[] = [];

  beforeAll(async () => {
    bus = await EventBus.connect(scope.busOptions("bus-batch-test"));
    await bus.ensureTopics([Topics.Overdue.topic]);
  });
  afterAll(async () => {
    await Promise.all(started.map((c) => c.stop()));
    await bus.close();
  });

  const overdue = (id: string, accountId: string, daysPastDue = 1) =>
    encodeEvent(Topics.Overdue, { id, key: accountId, time: new Date(), data: { accountId, customerId: `cus-${accountId}`, businessDate: "2026-03-02", daysPastDue } });

  it("hands events over in batches, takes a failing batch apart: the poison and the bug dead-lettered, the rest applied once each", async () => {
    const accountId = uniqueName("acc");
    const groupId = scope.group("batch");
    const ids = Array.from({ length: 50 }, (_, i) => deterministicId("ev", accountId, String(i)));
    const rejected = ids[20]!;
    const buggy = ids[30]!;
    const applied: string[] = [];
    let batchCalls = 0;
    let buggyCalls = 0;
    const apply = (e: EventEnvelope) => {
      if (e.key !== accountId) return;
      if (e.id === rejected) throw invalidArgument([{ field: "days_past_due", description: "must be positive" }]);
      if (e.id === buggy) {
        buggyCalls++;
        throw new TypeError("a bug");
      }
      applied.push(e.id);
    };
    const c = new BatchGroupConsumer(
      bus,
      {
        groupId,
        maxAttempts: 3,
        backoffMs: 10,
        maxBackoffMs: 50,
        subscriptions: [
          subscribeBatch(
            Topics.Overdue,
            async (es) => {
              batchCalls++;
              // a batch is one unit: it applies all or, failing, nothing
              const mine = es.filter((e) => e.key === accountId);
              if (mine.some((e) => e.id === rejected || e.id === buggy)) throw new Error("batch contains a bad event");
              for (const e of mine) apply(e);
            },
            async (e) => apply(e),
          ),
        ],
      },
      quiet,
    );
    started.push(c);
    // published before the consumer joins: one fetch holds them all
    await bus.publish(ids.map((id) => overdue(id, accountId)));
    await c.start();
    await waitFor(() => (applied.length >= 48 ? true : undefined), "48 events applied");
    expect([...applied].sort()).toEqual(ids.filter((id) => id !== rejected && id !== buggy).sort());
    expect(new Set(applied).size).toBe(applied.length);
    expect(batchCalls).toBeLessThan(10); // batches, not one call per event
    expect(buggyCalls).toBe(3); // maxAttempts, then dead-lettered

    const dlq = scope.topicPrefix + deadLetterTopic(Topics.Overdue.topic, groupId);
    const dead: Record<string, string>[] = [];
    const r = kafka.consumer({ groupId: uniqueName("reader"), maxWaitTimeInMs: 100 });
    await r.connect();
    await r.subscribe({ topic: dlq, fromBeginning: true });
    await r.run({ eachMessage: async ({ message }) => void dead.push(Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]))) });
    await waitFor(() => (dead.length >= 2 ? true : undefined), "two dead letters");
    await r.disconnect();
    expect(dead.map((h) => [h.ce_id, h[DlqHeaders.errorClass]])).toEqual([
      [rejected, "permanent"],
      [buggy, "unexpected"],
    ]);
  });

  it("holds the partition on an infrastructure failure (unhealthy meanwhile) and applies the batch once it goes through", async () => {
    const accountId = uniqueName("acc");
    let outage = 3;
    const applied: string[] = [];
    /** `healthy` as each retry of the held batch finds it. */
    const healthOnRetry: boolean[] = [];
    const c = new BatchGroupConsumer(
      bus,
      {
        groupId: scope.group("infra"),
        backoffMs: 20,
        maxBackoffMs: 100,
        subscriptions: [
          subscribeBatch(
            Topics.Overdue,
            async (es) => {
              const mine = es.filter((e) => e.key === accountId);
              if (mine.length > 0 && outage < 3) healthOnRetry.push(c.healthy);
              if (mine.length > 0 && outage-- > 0) throw Object.assign(new Error("connection refused"), { name: "MongoNetworkError" });
              for (const e of mine) applied.push(e.id);
            },
            async () => {
              throw new Error("never called: an infrastructure failure is retried as a batch");
            },
          ),
        ],
      },
      quiet,
    );
    started.push(c);
    await c.start();
    const ids = Array.from({ length: 5 }, (_, i) => deterministicId("infra", accountId, String(i)));
    await bus.publish(ids.map((id) => overdue(id, accountId)));
    await waitFor(() => (applied.length >= 5 ? true : undefined), "the batch applied after the outage");
    expect(healthOnRetry).toEqual([false, false, false]); // held (readiness NOT_SERVING) until it went through
    expect(applied).toEqual(ids);
    expect(c.healthy).toBe(true);
  });
});
