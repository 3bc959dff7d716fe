/**
 * Attack suite, Kafka (issue 14 items 4 and 8): the five services run as processes, each as its own SASL/SCRAM
 * principal, on a broker with the ACL authorizer and `allow.everyone.if.no.acl.found=false`. Each door is tried
 * with the wrong key and must be shut with the broker's own error code; beside each refusal, the same move with
 * the right principal succeeds, so a broker that refused everything would fail the suite too.
 */
import { encodeEvent } from "@whiteslip/bus";
import { partnerPrincipal, servicePrincipal, Topics } from "@whiteslip/contracts";
import { deterministicId } from "@whiteslip/core";
import { kafkaClientConfig, testInfra, uniqueName } from "@whiteslip/testkit/vitest";
import { type Admin, type Consumer, Kafka, type KafkaConfig, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { syntheticNationalId } from "../src/demo";
import { eventually, openAccount, startTestPlatform, type TestPlatform } from "../src/harness";

const START = "2027-03-01";

/** The Kafka protocol error name behind a kafkajs error (it wraps them in retriable / non-retriable errors). */
function kafkaErrorType(e: unknown): string {
  const seen = new Set<unknown>();
  const walk = (x: unknown): string | undefined => {
    if (!x || typeof x !== "object" || seen.has(x)) return undefined;
    seen.add(x);
    const o = x as { type?: unknown; name?: unknown; cause?: unknown; originalError?: unknown; errors?: unknown[] };
    if (typeof o.type === "string" && o.type) return o.type;
    for (const inner of [o.cause, o.originalError, ...(Array.isArray(o.errors) ? o.errors : [])]) {
      const t = walk(inner);
      if (t) return t;
    }
    return undefined;
  };
  return walk(e) ?? `${(e as Error)?.name}: ${(e as Error)?.message}`;
}

describe("Kafka principals and ACLs on the local platform", () => {
  const infra = testInfra();
  let p: TestPlatform;
  let admin: Admin;
  const clients: { disconnect(): Promise<void> }[] = [];
  const topic = (name: keyof typeof Topics) => p.topicPrefix + Topics[name].topic;
  const kafkaAs = (principal: string | null, extra: Partial<KafkaConfig> = {}) =>
    new Kafka({
      ...(principal === null ? { brokers: infra.kafkaBrokers } : kafkaClientConfig(infra, principal)),
      clientId: `attack-${principal ?? "anonymous"}`,
      logLevel: logLevel.NOTHING,
      connectionTimeout: 3_000,
      retry: { retries: 0 },
      ...extra,
    });
  const producerAs = async (principal: string | null) => {
    const producer = kafkaAs(principal).producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
    clients.push(producer);
    await producer.connect();
    return producer;
  };
  /** High watermark per partition of a topic, as the admin sees it. */
  const ends = async (t: string) =>
    Object.fromEntries((await admin.fetchTopicOffsets(t)).map((o) => [o.partition, o.high]));

  /**
   * Joins `groupId` as `principal` and reads `t` from the beginning: resolves with the first record's id, or
   * rejects with the Kafka error code that stopped it (no retries, no restart). kafkajs reports a refused
   * FindCoordinator only as "group coordinator not found", so the broker's own code is taken from what the
   * client logged of the broker's answer.
   */
  const readAs = async (principal: string, groupId: string, t: string): Promise<string> => {
    const answered: string[] = [];
    const consumer: Consumer = kafkaAs(principal, {
      logLevel: logLevel.DEBUG,
      logCreator: () => (entry) => {
        const err = (entry.log as { error?: unknown }).error;
        const type = kafkaErrorType(err);
        if (err && /^[A-Z_]+$/.test(type)) answered.push(type);
      },
    }).consumer({
      groupId,
      maxWaitTimeInMs: 250,
      retry: { retries: 0, restartOnFailure: async () => false },
    });
    clients.push(consumer);
    return new Promise<string>((resolve, reject) => {
      const fail = (e: unknown) => {
        const type = kafkaErrorType(e);
        reject(/^[A-Z_]+$/.test(type) ? type : (answered[0] ?? type));
      };
      consumer.on(consumer.events.CRASH, (ev) => fail(ev.payload.error));
      (async () => {
        await consumer.connect();
        await consumer.subscribe({ topics: [t], fromBeginning: true });
        await consumer.run({
          eachMessage: async ({ message }) => resolve(message.headers?.ce_id?.toString() ?? "(no id)"),
        });
      })().catch(fail);
    }).finally(() => consumer.disconnect());
  };

  beforeAll(async () => {
    expect(infra.kafkaCredentials, "the broker must require SASL (no credentials came with it)").toBeDefined();
    for (const s of ["credit", "billing", "notification", "collections", "credit-reporting"] as const) {
      expect(infra.kafkaCredentials?.passwords[servicePrincipal(s)], `a principal of its own for ${s}`).toBeDefined();
    }
    // five services starting at once on a shared 2-core machine can take minutes
    p = await startTestPlatform(infra, { start: START, tag: "kafka-attack", readyTimeoutMs: 240_000 });
    admin = new Kafka({ ...kafkaClientConfig(infra), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
  }, 300_000);

  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.disconnect()));
    await admin?.disconnect();
    await p?.stop();
  });

  it("lets each service, as its own principal, carry a fact end to end (the ACLs shut the wrong doors only)", { timeout: 300_000 }, async () => {
    // credit's outbox writes CreditLineOpened (idempotent producer, credit's principal); billing reads it with its own
    // group and opens the account; billing's AccountOpened reaches credit-reporting's group.
    await openAccount(p, {
      name: "Attack Control",
      nationalId: syntheticNationalId(77, "19870303"),
      phone: "+8613900139077",
      email: "attack-control@example.com",
      key: uniqueName("attack"),
    });
    const opened = topic("AccountOpened");
    await eventually(
      "credit-reporting to consume AccountOpened",
      async () => {
        const ends = await admin.fetchTopicOffsets(opened);
        const [committed] = await admin.fetchOffsets({ groupId: p.groups["credit-reporting"], topics: [opened] });
        const total = ends.reduce((n, e) => n + Number(e.high), 0);
        // (a partition nothing was written to has no committed offset: -1)
        const caughtUp = ends.every(
          (e) => Number(e.high) === 0 || Number(committed?.partitions.find((c) => c.partition === e.partition)?.offset ?? -1) >= Number(e.high),
        );
        return total > 0 && caughtUp ? true : undefined;
      },
      120_000,
    );
    // every service's group has a member: each joined with its own principal
    const { groups } = await admin.describeGroups(Object.values(p.groups));
    expect(groups.map((g) => `${g.groupId}:${g.members.length > 0}`).sort()).toEqual(Object.values(p.groups).map((g) => `${g}:true`).sort());
  });

  it("refuses a PaymentReceived forged with credit's principal (TOPIC_AUTHORIZATION_FAILED); nothing reaches the topic", async () => {
    const paymentTopic = topic("PaymentReceived");
    const before = await ends(paymentTopic);
    const accountId = uniqueName("acc-forged");
    const forged = encodeEvent(Topics.PaymentReceived, {
      id: deterministicId("forged-payment", accountId),
      key: accountId,
      time: new Date(),
      data: { accountId, amountFen: 999_999n },
    });
    const message = { key: forged.key, value: Buffer.from(forged.value), headers: forged.headers };
    for (const forger of [servicePrincipal("credit"), servicePrincipal("collections"), partnerPrincipal("PaymentReceived")]) {
      const producer = await producerAs(forger);
      const refused = await producer.send({ topic: paymentTopic, acks: -1, messages: [message] }).then(
        () => "ACCEPTED",
        (e: unknown) => kafkaErrorType(e),
      );
      expect(refused, `${forger} writing ${paymentTopic}`).toBe("TOPIC_AUTHORIZATION_FAILED");
    }
    // No record was appended, so no consumer of any service can have seen (and reacted to) it.
    expect(await ends(paymentTopic)).toEqual(before);

    // Control: credit writes its own domain's topics (one nobody consumes, so no service acts on this record).
    const own = await producerAs(servicePrincipal("credit"));
    const ownTopic = topic("RestrictionChanged");
    const ownBefore = await ends(ownTopic);
    const [ack] = await own.send({ topic: ownTopic, acks: -1, messages: [{ key: accountId, value: Buffer.from("x"), headers: { ce_id: "control" } }] });
    expect(ack?.errorCode).toBe(0);
    expect(await ends(ownTopic)).not.toEqual(ownBefore);
  });

  it("refuses a client that does not authenticate, and one with a wrong password", async () => {
    const anonymous = kafkaAs(null).admin();
    clients.push(anonymous);
    // The listener speaks SASL only: a client that skips the handshake is disconnected before any request.
    const anon = await anonymous.connect().then(
      () => anonymous.listTopics().then(() => "ACCEPTED"),
      (e: unknown) => (e as Error).name,
    ).catch((e: unknown) => (e as Error).name);
    expect(anon).not.toBe("ACCEPTED");
    expect(anon).toMatch(/KafkaJSConnectionClosedError|KafkaJSConnectionError|KafkaJSNumberOfRetriesExceeded|KafkaJSNonRetriableError/);

    const wrong = new Kafka({
      brokers: infra.kafkaBrokers,
      sasl: { mechanism: "scram-sha-512", username: servicePrincipal("billing"), password: "not-the-password" },
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    }).producer();
    clients.push(wrong);
    await expect(wrong.connect()).rejects.toMatchObject({ name: "KafkaJSSASLAuthenticationError" });
  });

  it("lets a partner read its topic only, write nothing, and join no service's group", async () => {
    const partner = partnerPrincipal("RestrictionChanged");
    const ownTopic = topic("RestrictionChanged");
    // Its topic, with a group of its own (`<partner>.…`): it reads the record credit wrote above.
    const credit = await producerAs(servicePrincipal("credit"));
    await credit.send({ topic: ownTopic, acks: -1, messages: [{ key: "k", value: Buffer.from("x"), headers: { ce_id: "for-the-partner" } }] });
    expect(await readAs(partner, `${partner}.${uniqueName("reader")}`, ownTopic)).toMatch(/control|for-the-partner/);

    // Not writable, not even its own topic.
    const producer = await producerAs(partner);
    const write = await producer.send({ topic: ownTopic, messages: [{ value: Buffer.from("x") }] }).then(
      () => "ACCEPTED",
      (e: unknown) => kafkaErrorType(e),
    );
    expect(write).toBe("TOPIC_AUTHORIZATION_FAILED");

    // A service's consumer group: refused before any record is read (the group's offsets stay the service's).
    await expect(readAs(partner, p.groups.collections, ownTopic)).rejects.toBe("GROUP_AUTHORIZATION_FAILED");
    // Another topic, even with its own group.
    await expect(
      readAs(partner, `${partner}.${uniqueName("other")}`, topic("PaymentReceived")),
    ).rejects.toBe("TOPIC_AUTHORIZATION_FAILED");
  });

  it("does not let a service read with another service's consumer group", async () => {
    // credit may read Overdue, but only as its own group: billing's and notification's are refused.
    for (const victim of ["billing", "notification"] as const) {
      await expect(
        readAs(servicePrincipal("credit"), p.groups[victim], topic("Overdue")),
      ).rejects.toBe("GROUP_AUTHORIZATION_FAILED");
    }
    // A made-up group is refused too: a service's groups are exactly the ones provisioned for it.
    await expect(
      readAs(servicePrincipal("credit"), uniqueName("credit-extra"), topic("Overdue")),
    ).rejects.toBe("GROUP_AUTHORIZATION_FAILED");
  });
});
