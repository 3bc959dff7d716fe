import { Kafka, logLevel } from "kafkajs";
import { MongoClient, MongoServerError } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabaseName, kafkaClientConfig, maybeTestInfra, type TestInfra, uniqueName } from "../src/fixtures";
import { type Infra, startInfra } from "../src/index";

// Uses the infrastructure provided by the testkit globalSetup when present (inject), else starts
// its own via startInfra() (e.g. when run under a config without the global setup).
let endpoints: TestInfra;
let own: Infra | undefined;

beforeAll(async () => {
  const provided = maybeTestInfra();
  if (provided) {
    endpoints = provided;
  } else {
    own = await startInfra();
    endpoints = own;
  }
});

afterAll(async () => {
  await own?.stop();
});

describe("kafka", () => {
  it("produces and consumes one message on a fresh topic", async () => {
    const kafka = new Kafka({
      clientId: uniqueName("testkit"),
      ...kafkaClientConfig(endpoints),
      logLevel: logLevel.ERROR,
    });
    const topic = uniqueName("testkit.roundtrip");
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
        waitForLeaders: true,
      });
    } finally {
      await admin.disconnect();
    }

    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const value = `hello-${uniqueName("v")}`;
    await producer.send({ topic, messages: [{ key: "k1", value }] });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: uniqueName("testkit-group") });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      const received = await new Promise<{ key: string; value: string }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no message within 30 s")), 30_000);
        void consumer.run({
          eachMessage: async ({ message }) => {
            clearTimeout(timer);
            resolve({ key: message.key?.toString() ?? "", value: message.value?.toString() ?? "" });
          },
        });
      });
      expect(received).toEqual({ key: "k1", value });
    } finally {
      await consumer.disconnect();
    }
  });
});

describe("mongodb-wire database", () => {
  it("inserts, finds, and rejects a duplicate on a unique index with code 11000", async () => {
    const client = new MongoClient(endpoints.mongoUri);
    await client.connect();
    const db = client.db(freshDatabaseName("infra-int"));
    try {
      const accounts = db.collection<{ _id?: unknown; email: string; limit: number }>("accounts");
      await accounts.createIndex({ email: 1 }, { unique: true, name: "email_unique" });
      await accounts.insertOne({ email: "a@example.test", limit: 500 });
      const found = await accounts.findOne({ email: "a@example.test" }, { projection: { _id: 0 } });
      expect(found).toEqual({ email: "a@example.test", limit: 500 });

      const dup = await accounts.insertOne({ email: "a@example.test", limit: 1 }).then(
        () => null,
        (err: unknown) => err,
      );
      expect(dup).toBeInstanceOf(MongoServerError);
      expect((dup as MongoServerError).code).toBe(11000);
      expect(await accounts.countDocuments({})).toBe(1);
    } finally {
      await db.dropDatabase().catch(() => {});
      await client.close();
    }
  });
});
