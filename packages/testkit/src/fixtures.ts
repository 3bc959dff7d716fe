import type { KafkaCredentials, KafkaSasl } from "@whiteslip/config";
import type { SASLOptions } from "kafkajs";
import { inject } from "vitest";
import type {} from "./global-setup";
import { infraFromEnv } from "./infra";
import { kafkaClientConfig, kafkaEnv, kafkaSasl } from "./kafka-credentials";
import { freshDatabaseName, uniqueName } from "./names";

export { freshDatabaseName, kafkaClientConfig, kafkaEnv, kafkaSasl, uniqueName };
export { eventually } from "./eventually";

export interface TestInfra {
  kafkaBrokers: string[];
  mongoUri: string;
  /** SASL principals of the broker (absent: it takes unauthenticated clients). */
  kafkaCredentials?: KafkaCredentials;
}

/** Tries vitest's provided context (set by the testkit globalSetup), then the environment. */
export function maybeTestInfra(): TestInfra | null {
  const kafkaBrokers = inject("kafkaBrokers");
  const mongoUri = inject("mongoUri");
  if (Array.isArray(kafkaBrokers) && kafkaBrokers.length > 0 && typeof mongoUri === "string" && mongoUri) {
    const kafkaCredentials = inject("kafkaCredentials");
    return { kafkaBrokers, mongoUri, ...(kafkaCredentials ? { kafkaCredentials } : {}) };
  }
  return infraFromEnv();
}

/**
 * Endpoints of the real Kafka + MongoDB-wire database for this test run.
 * Requires `@whiteslip/testkit/global-setup` in the vitest config (or KAFKA_BROKERS + MONGODB_URI).
 */
export function testInfra(): TestInfra {
  const infra = maybeTestInfra();
  if (!infra) {
    throw new Error(
      "no test infrastructure: add `globalSetup: ['@whiteslip/testkit/global-setup']` to the vitest config, or set KAFKA_BROKERS and MONGODB_URI",
    );
  }
  return infra;
}

/** Human description of the infrastructure (from the global setup), if any. */
export function infraDescribe(): string | undefined {
  return inject("infraDescribe");
}

/**
 * What one integration test file keeps to itself on the shared broker and database: its own topic prefix
 * (TOPIC_PREFIX — services and buses of this file see only this file's facts), its own databases and consumer
 * groups. Services react to every fact on their topics, so filtering by key is not isolation: with shared topic
 * names one file's services handled another file's events. Call once per file, at module level or in beforeAll.
 */
export interface TestScope extends TestInfra {
  /** Put before every topic name of this file. */
  readonly topicPrefix: string;
  /** A fresh database name for `service` in this file. */
  database(service: string): string;
  /** A consumer group of this file. */
  group(name: string): string;
  /** Environment of a service started in-process by this file (broker, database, prefix, group, port 0, plaintext dev gRPC). */
  serviceEnv(service: string, extra?: Record<string, string>): Record<string, string>;
  /** Options for `EventBus.connect` of a test-side producer/consumer of this file (as the admin on a SASL broker). */
  busOptions(clientId: string): {
    brokers: string[];
    clientId: string;
    topicPrefix: string;
    logger: { info(): void; warn(): void; error(): void; debug(): void };
    sasl?: KafkaSasl;
  };
  /**
   * `brokers` (+ `sasl`) for a raw kafkajs client of this file, `new Kafka({ ...scope.kafkaConfig(), … })`: as the
   * admin (a super user) unless `principal` names another (the broker refuses a client without credentials).
   */
  kafkaConfig(principal?: string): { brokers: string[]; sasl?: SASLOptions };
}

const silent = { info() {}, warn() {}, error() {}, debug() {} };

/** The scope of one integration test file (see `TestScope`). */
export function testScope(fileTag: string): TestScope {
  const infra = testInfra();
  const topicPrefix = `${uniqueName(fileTag)}.`;
  return {
    ...infra,
    topicPrefix,
    database: (service) => freshDatabaseName(`${fileTag}_${service}`),
    group: (name) => uniqueName(`${fileTag}-${name}`),
    serviceEnv(service, extra = {}) {
      return {
        // as the admin: an in-process service of an int test has no ACLs provisioned for its groups
        ...kafkaEnv(infra),
        MONGODB_URI: infra.mongoUri,
        MONGODB_DB: freshDatabaseName(`${fileTag}_${service}`),
        CONSUMER_GROUP: uniqueName(`${fileTag}-${service}`),
        TOPIC_PREFIX: topicPrefix,
        GRPC_PORT: "0",
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
        // In-process services speak plaintext through the explicit development flag; every process-based test
        // (the harness, the attack suite) runs mutual TLS with its own CA.
        GRPC_PLAINTEXT_DEV: "1",
        ...extra,
      };
    },
    busOptions: (clientId) => {
      const sasl = kafkaSasl(infra);
      return { brokers: infra.kafkaBrokers, clientId: uniqueName(clientId), topicPrefix, logger: silent, ...(sasl ? { sasl } : {}) };
    },
    kafkaConfig: (principal) => kafkaClientConfig(infra, principal),
  };
}
