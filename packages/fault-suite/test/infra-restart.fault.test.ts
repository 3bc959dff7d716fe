/**
 * The fault suite's own tools, before any scenario relies on them: the local Kafka broker and the
 * local database stop for real (their ports refuse connections) and start again on the same port with
 * the same data (a topic and its messages, a document).
 */
import { connect } from "node:net";
import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { faultKafka } from "../src/kafka";
import type { FaultInfra } from "../src/run";
import { startFaultInfra } from "../src/scenario";

function portOpen(hostPort: string): Promise<boolean> {
  const [host, port] = hostPort.split(":") as [string, string];
  return new Promise((resolve) => {
    const s = connect({ host, port: Number(port) });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

describe("the fault suite's broker and database stop and start again", () => {
  let infra: FaultInfra & { stop(): Promise<void> };
  beforeAll(async () => {
    infra = await startFaultInfra();
  }, 300_000);
  afterAll(async () => infra?.stop());

  it("Kafka: stopped, the port refuses; started, the same topic and messages are there", async () => {
    const kafka = faultKafka(infra, "fault-restart-test");
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: "fault-restart-test", messages: [{ key: "k", value: "before the stop" }] });
    await producer.disconnect();
    const pid = infra.local.kafka.process.pid;
    await infra.local.kafka.stop();
    expect(await portOpen(infra.kafkaBrokers[0]!)).toBe(false);
    await infra.local.kafka.start();
    expect(infra.local.kafka.process.pid).not.toBe(pid);
    expect(await portOpen(infra.kafkaBrokers[0]!)).toBe(true);
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets("fault-restart-test");
    await admin.disconnect();
    expect(offsets.reduce((n, p) => n + Number(p.high), 0)).toBe(1);
  });

  it("database: stopped, the port refuses; started, the same document is there", async () => {
    const hostPort = new URL(infra.mongoUri).host;
    const write = new MongoClient(infra.mongoUri);
    await write.connect();
    await write.db("fault_restart_test").collection("docs").insertOne({ _id: "kept" as never, n: 1 });
    await write.close();
    await infra.local.database.stop();
    expect(await portOpen(hostPort)).toBe(false);
    await infra.local.database.start();
    expect(await portOpen(hostPort)).toBe(true);
    const read = new MongoClient(infra.mongoUri);
    await read.connect();
    expect(await read.db("fault_restart_test").collection("docs").findOne({ _id: "kept" as never })).toMatchObject({ n: 1 });
    await read.close();
  });
});
