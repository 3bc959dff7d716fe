import { existsSync } from "node:fs";
import { connect } from "node:net";
import { Kafka, logLevel } from "kafkajs";
import { describe, expect, it } from "vitest";
import { kafkaClientConfig, maybeTestInfra } from "../src/fixtures";
import { startInfra } from "../src/index";

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

// A second local-process infrastructure next to the one from the global setup: must not collide,
// and stop() must leave nothing behind.
describe.skipIf(process.env.WHITESLIP_SKIP_LOCAL_PROCESS_TEST === "1")("local-process infrastructure", () => {
  // a broker, a database and a broker restart on a loaded machine: minutes, not the int tier's 90 s
  it("starts beside another run on different ports, requires SASL before and after a broker restart, and stops cleanly", { timeout: 300_000 }, async () => {
    const infra = await startInfra({ mode: "local" });
    const mongoHostPort = new URL(infra.mongoUri).host;
    try {
      expect(infra.kind).toBe("local-process");
      expect(infra.describe).toMatch(
        /^Kafka 3\.9\.1 \(local process, 127\.0\.0\.1:\d+, SASL\/SCRAM-SHA-512 \+ ACLs\) \+ FerretDB v1\.24\.2\/SQLite \(local process, 127\.0\.0\.1:\d+\)$/,
      );
      const other = maybeTestInfra();
      if (other) {
        expect(other.kafkaBrokers).not.toEqual(infra.kafkaBrokers);
        expect(other.mongoUri).not.toEqual(infra.mongoUri);
      }
      expect(await portOpen(infra.kafkaBrokers[0] as string)).toBe(true);
      expect(await portOpen(mongoHostPort)).toBe(true);
      expect(infra.tmpDir && existsSync(infra.tmpDir)).toBe(true);

      // SASL before and after a restart (the fault suite's stop/start: same server.properties, same data dir)
      const listAs = async (config: { brokers: string[]; sasl?: unknown }) => {
        const admin = new Kafka({ ...(config as { brokers: string[] }), logLevel: logLevel.NOTHING, connectionTimeout: 3_000, retry: { retries: 0 } }).admin();
        try {
          await admin.connect();
          await admin.listTopics();
          return "ACCEPTED";
        } catch (e) {
          return (e as Error).name;
        } finally {
          await admin.disconnect().catch(() => {});
        }
      };
      // (kafkajs keeps its authenticator on the sasl object it was given: a fresh object for each other password)
      const asAdmin = kafkaClientConfig(infra);
      expect(asAdmin.sasl).toBeDefined();
      expect(await listAs(asAdmin)).toBe("ACCEPTED");
      expect(await listAs({ brokers: infra.kafkaBrokers })).not.toBe("ACCEPTED");
      await infra.local!.kafka.stop();
      await infra.local!.kafka.start();
      expect(await listAs(asAdmin)).toBe("ACCEPTED");
      expect(await listAs({ brokers: infra.kafkaBrokers })).not.toBe("ACCEPTED");
      expect(await listAs({ brokers: infra.kafkaBrokers, sasl: { mechanism: "scram-sha-512", username: "admin", password: "wrong" } })).toBe("KafkaJSSASLAuthenticationError");
    } finally {
      await infra.stop();
    }
    expect(await portOpen(infra.kafkaBrokers[0] as string)).toBe(false);
    expect(await portOpen(mongoHostPort)).toBe(false);
    expect(existsSync(infra.tmpDir as string)).toBe(false);
    await infra.stop(); // idempotent
  });
});
