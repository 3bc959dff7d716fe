import { inject } from "vitest";
import type {} from "./global-setup";
import { infraFromEnv } from "./infra";

export { freshDatabaseName, uniqueName } from "./names";

export interface TestInfra {
  kafkaBrokers: string[];
  mongoUri: string;
}

/** Tries vitest's provided context (set by the testkit globalSetup), then the environment. */
export function maybeTestInfra(): TestInfra | null {
  const kafkaBrokers = inject("kafkaBrokers");
  const mongoUri = inject("mongoUri");
  if (Array.isArray(kafkaBrokers) && kafkaBrokers.length > 0 && typeof mongoUri === "string" && mongoUri) {
    return { kafkaBrokers, mongoUri };
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
