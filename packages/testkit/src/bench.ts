import { Kafka, logLevel } from "kafkajs";
import { MongoClient } from "mongodb";
import { uniqueName } from "./names";
import { type KafkaEndpoints, kafkaClientConfig } from "./kafka-credentials";

/**
 * What a benchmark writes stays its own: a topic prefix of its own (its services run with it as TOPIC_PREFIX,
 * its raw-ceiling topics carry it too), and everything under it is removed afterwards. A benchmark that wrote to
 * the platform's topics would hand thousands of foreign messages to every consumer group on a shared cluster.
 */
export interface BenchScope {
  /** `bench.<name>-<unique>.`: put before every topic the benchmark creates or its services use. */
  readonly topicPrefix: string;
  /** A topic name of this benchmark (with the prefix). */
  topic(name: string): string;
  /** Deletes every topic under the prefix and drops the given databases. */
  cleanUp(databases: string[]): Promise<void>;
}

/** A benchmark's own topics and clean-up on the given infrastructure. */
export function benchScope(name: string, infra: KafkaEndpoints & { mongoUri: string }): BenchScope {
  const topicPrefix = `bench.${uniqueName(name)}.`;
  return {
    topicPrefix,
    topic: (n) => `${topicPrefix}${n}`,
    async cleanUp(databases) {
      const admin = new Kafka({ ...kafkaClientConfig(infra), clientId: "bench-cleanup", logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      try {
        const mine = (await admin.listTopics()).filter((t) => t.startsWith(topicPrefix));
        if (mine.length > 0) await admin.deleteTopics({ topics: mine, timeout: 30_000 });
      } finally {
        await admin.disconnect();
      }
      const mongo = new MongoClient(infra.mongoUri);
      await mongo.connect();
      try {
        for (const db of databases) await mongo.db(db).dropDatabase();
      } finally {
        await mongo.close();
      }
    },
  };
}
