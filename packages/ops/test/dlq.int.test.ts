import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { type ConsumerHandle, encodeEvent, EventBus, type EventEnvelope, PermanentEventError, replayTopic, subscribe } from "@whiteslip/bus";
import { Topics } from "@whiteslip/contracts";
import { deterministicId } from "@whiteslip/core";
import { kafkaEnv, kafkaSasl, testScope, uniqueName } from "@whiteslip/testkit/vitest";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listDeadLetterTopics, readDeadLetters, readReplayAudit, replayDeadLetters, resolveDeadLetterTopic } from "../src/index";

const repoRoot = join(import.meta.dirname, "../../..");

async function waitFor<T>(fn: () => T | undefined | Promise<T | undefined>, what: string, ms = 30_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("whiteslip-ops dlq against the real broker", () => {
  // This file's own platform on the shared cluster.
  const scope = testScope("ops-dlq");
  const { kafkaBrokers, topicPrefix: PREFIX } = scope;
  const sasl = kafkaSasl(scope);
  const target = { brokers: kafkaBrokers, topicPrefix: PREFIX, ...(sasl ? { sasl } : {}) };
  let bus: EventBus;
  const consumers: ConsumerHandle[] = [];
  beforeAll(async () => {
    bus = await EventBus.connect(scope.busOptions("ops-dlq-test"));
  });
  afterAll(async () => {
    await Promise.all(consumers.map((c) => c.stop()));
    await bus.close();
  });

  it("lists, shows and replays dead letters to the one group that gave up on them, with the original ce_id, and records the replay", async () => {
    const accountId = uniqueName("acc");
    const [g1, g2] = [scope.group("collections"), scope.group("notification")];
    const x = deterministicId("overdue", accountId, "x");
    const y = deterministicId("overdue", accountId, "y");
    // each group refuses one event until its "fix" is deployed
    const accepts = { [g1]: false, [g2]: false } as Record<string, boolean>;
    const refuses = { [g1]: x, [g2]: y } as Record<string, string>;
    const seen = { [g1]: [] as EventEnvelope[], [g2]: [] as EventEnvelope[] };
    for (const g of [g1, g2]) {
      const c = bus.consumer({
        groupId: g,
        subscriptions: [
          subscribe(Topics.Overdue, async (e) => {
            if (e.key !== accountId) return;
            if (e.id === refuses[g] && !accepts[g]) throw new PermanentEventError(`${g} cannot apply ${e.id} yet`);
            seen[g]!.push(e);
          }),
        ],
      });
      consumers.push(c);
      await c.start();
    }
    const ev = (id: string, dpd: number) =>
      encodeEvent(Topics.Overdue, { id, key: accountId, time: new Date("2026-03-02T00:05:00Z"), data: { accountId, customerId: `cus-${accountId}`, businessDate: "2026-03-02", daysPastDue: dpd, overdueFen: 5_000n } });
    await bus.publish([ev(x, 1), ev(y, 2)]);
    const raw = new Kafka({ ...scope.kafkaConfig(), logLevel: logLevel.NOTHING }).producer();
    await raw.connect();
    await raw.send({ topic: PREFIX + Topics.Overdue.topic, messages: [{ key: accountId, value: Buffer.from("garbage") }] });
    await raw.disconnect();

    // list: both groups' dead-letter topics, with counts, and nothing of other platforms
    const listed = await waitFor(async () => {
      const l = await listDeadLetterTopics(target);
      return l.filter((t) => t.messages >= 2).length >= 2 ? l : undefined;
    }, "two dead letters in each group's DLQ");
    expect(listed.every((t) => t.topic.startsWith(PREFIX))).toBe(true);
    expect(listed.map(({ sourceTopic, group, messages }) => ({ sourceTopic, group, messages })).sort((a, b) => a.group.localeCompare(b.group))).toEqual(
      [
        { sourceTopic: Topics.Overdue.topic, group: g1, messages: 2 },
        { sourceTopic: Topics.Overdue.topic, group: g2, messages: 2 },
      ].sort((a, b) => a.group.localeCompare(b.group)),
    );

    // show: attributes, dlq headers and the payload decoded; the garbage with why it could not be
    const g1Dlq = resolveDeadLetterTopic("overdue", g1, PREFIX);
    expect(g1Dlq.topic).toBe(`${PREFIX}${Topics.Overdue.topic}.${g1}.dlq`);
    const shown = await readDeadLetters({ ...target, topic: g1Dlq.topic });
    expect(shown).toHaveLength(2);
    const dx = shown.find((r) => r.id === x)!;
    expect(dx).toMatchObject({
      key: accountId,
      type: "whiteslip.billing.v1.Overdue",
      source: "//whiteslip/billing",
      time: "2026-03-02T00:05:00.000Z",
      data: { accountId, daysPastDue: 1, overdueFen: "5000" },
      dlq: {
        error_class: "permanent",
        error_kind: "PermanentEventError",
        error: `${g1} cannot apply ${x} yet`,
        attempts: "1",
        consumer_group: g1,
        original_topic: PREFIX + Topics.Overdue.topic,
      },
    });
    const garbage = shown.find((r) => r.id === undefined)!;
    expect(garbage.decodeError).toBe("missing header ce_id");
    expect(garbage.dlq.error_kind).toBe("UndecodableEventError");

    // replay X to g1 after its fix; an id that is not there replays nothing
    accepts[g1] = true;
    await expect(replayDeadLetters({ ...target, topic: "overdue", group: g1, ids: [x, "no-such-id"], by: "ops-test" })).rejects.toThrow(
      /not in .*: no-such-id \(nothing replayed\)/,
    );
    const audit = await replayDeadLetters({ ...target, topic: g1Dlq.topic, group: g1, ids: [x], by: "ops-test" });
    expect(audit).toMatchObject({ group: g1, ids: [x], by: "ops-test", deadLetterTopic: g1Dlq.topic, replayTopic: PREFIX + replayTopic(Topics.Overdue.topic, g1) });
    const replayed = await waitFor(() => seen[g1]!.find((e) => e.id === x), "g1 to get X again");
    expect(replayed.topic).toBe(PREFIX + replayTopic(Topics.Overdue.topic, g1));
    expect(replayed.headers).toMatchObject({ ce_id: x, ce_type: "whiteslip.billing.v1.Overdue", replay_id: audit.replayId, replay_by: "ops-test" });
    expect(Object.keys(replayed.headers).filter((k) => k.startsWith("dlq_"))).toEqual([]);
    expect((replayed.data as unknown as { daysPastDue: number }).daysPastDue).toBe(1);

    // Barrier for "the other group saw nothing": replay g2's own dead letter Y (same key, so the same partition of
    // g2's replay topic — X would be ahead of it there). When g2 has Y, it has all it will ever get before it.
    accepts[g2] = true;
    await replayDeadLetters({ ...target, topic: "overdue", group: g2, by: "ops-test" }); // all with a ce_id: Y only
    await waitFor(() => seen[g2]!.find((e) => e.id === y), "g2 to get Y");
    expect(seen[g2]!.filter((e) => e.topic.endsWith(".replay")).map((e) => e.id)).toEqual([y]);
    expect(seen[g2]!.filter((e) => e.id === x)).toHaveLength(1); // its own first delivery, never the replay
    expect(seen[g1]!.filter((e) => e.topic.endsWith(".replay")).map((e) => e.id)).toEqual([x]);

    // the audit trail: who replayed what, when, from where
    const trail = await readReplayAudit(target);
    expect(trail.map((a) => [a.group, a.ids, a.by])).toEqual([
      [g1, [x], "ops-test"],
      [g2, [y], "ops-test"],
    ]);
    expect(trail[0]!.replayId).toBe(audit.replayId);
    expect(trail[0]!.from).toEqual([`${dx.partition}:${dx.offset}`]);

    // the command line reaches the same platform
    const { stdout } = await promisify(execFile)("node", ["packages/ops/bin/whiteslip-ops.mjs", "dlq", "list"], {
      cwd: repoRoot,
      env: { ...process.env, ...kafkaEnv(scope), TOPIC_PREFIX: PREFIX },
    });
    const cli = JSON.parse(stdout) as { topic: string; messages: number }[];
    expect(cli.find((t) => t.topic === g1Dlq.topic)?.messages).toBe(2);
  });
});
