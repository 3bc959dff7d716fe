import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, kafkaCredentialsFromEnv, loadConfig, parseKafkaCredentials, saslEnv, saslFor } from "../src/index";

const good = { SERVICE_NAME: "billing", KAFKA_BROKERS: "a:9092", MONGODB_URI: "mongodb://x:1", GRPC_PLAINTEXT_DEV: "1" };
const sasl = { KAFKA_SASL_MECHANISM: "scram-sha-512", KAFKA_SASL_USERNAME: "billing", KAFKA_SASL_PASSWORD: "s3cret-pw" };

describe("Kafka SASL variables of a service", () => {
  it("takes mechanism, username and password together", () => {
    const c = loadConfig({}, { ...good, ...sasl });
    expect([c.KAFKA_SASL_MECHANISM, c.KAFKA_SASL_USERNAME, c.KAFKA_SASL_PASSWORD]).toEqual(["scram-sha-512", "billing", "s3cret-pw"]);
    expect(loadConfig({}, good).KAFKA_SASL_MECHANISM).toBeUndefined();
  });

  it("refuses a mechanism without credentials, credentials without a mechanism, and an unknown mechanism", () => {
    expect(() => loadConfig({}, { ...good, KAFKA_SASL_MECHANISM: "scram-sha-512" })).toThrow(/KAFKA_SASL_USERNAME: is required[\s\S]*KAFKA_SASL_PASSWORD: is required/);
    expect(() => loadConfig({}, { ...good, KAFKA_SASL_USERNAME: "billing", KAFKA_SASL_PASSWORD: "pw" })).toThrow(/KAFKA_SASL_MECHANISM: is required with/);
    expect(() => loadConfig({}, { ...sasl, ...good, KAFKA_SASL_MECHANISM: "gssapi" })).toThrow(ConfigError);
  });

  it("requires SASL in production, and never shows the password", () => {
    expect(() => loadConfig({}, { ...good, NODE_ENV: "production" })).toThrow(/KAFKA_SASL_MECHANISM: is required in production/);
    // with them, production has nothing to say about Kafka (it still wants TLS files: config.unit.test.ts)
    expect(() => loadConfig({}, { ...good, ...sasl, NODE_ENV: "production" })).not.toThrow(/KAFKA_SASL/);
    try {
      loadConfig({}, { ...good, ...sasl, KAFKA_SASL_MECHANISM: "nope" });
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).not.toContain("s3cret-pw");
    }
  });
});

describe("Kafka credentials outside a service", () => {
  const file = join(mkdtempSync(join(tmpdir(), "kafka-creds-")), "creds.json");
  writeFileSync(file, JSON.stringify({ mechanism: "scram-sha-512", admin: "admin", passwords: { admin: "a-pw", credit: "c-pw" } }));

  it("reads every principal from a credentials file, the acting one from KAFKA_SASL_USERNAME", () => {
    const creds = kafkaCredentialsFromEnv({ KAFKA_CREDENTIALS_FILE: file });
    expect(creds).toMatchObject({ mechanism: "scram-sha-512", admin: "admin", file });
    expect(saslFor(creds!, "credit")).toEqual({ mechanism: "scram-sha-512", username: "credit", password: "c-pw" });
    expect(() => saslFor(creds!, "billing")).toThrow(/no Kafka credentials for principal "billing" in .*creds\.json/);
    const asCredit = kafkaCredentialsFromEnv({ KAFKA_CREDENTIALS_FILE: file, KAFKA_SASL_USERNAME: "credit" });
    expect(asCredit?.admin).toBe("credit");
  });

  it("takes KAFKA_SASL_* alone, and refuses them incomplete", () => {
    expect(kafkaCredentialsFromEnv({ ...sasl })).toEqual({ mechanism: "scram-sha-512", admin: "billing", passwords: { billing: "s3cret-pw" } });
    expect(() => kafkaCredentialsFromEnv({ KAFKA_SASL_MECHANISM: "scram-sha-512", KAFKA_SASL_USERNAME: "x" })).toThrow(/KAFKA_SASL_PASSWORD/);
    expect(() => kafkaCredentialsFromEnv({ ...sasl, KAFKA_SASL_MECHANISM: "gssapi" })).toThrow(/mechanism must be one of/);
    expect(kafkaCredentialsFromEnv({})).toBeUndefined();
  });

  it("refuses a file without the admin's password, and round-trips the variables of a principal", () => {
    expect(() => parseKafkaCredentials(JSON.stringify({ mechanism: "plain", admin: "root", passwords: { x: "y" } }))).toThrow(/no password for the admin root/);
    const env = saslEnv(saslFor(parseKafkaCredentials(JSON.stringify({ mechanism: "plain", admin: "root", passwords: { root: "pw" } })), "root"));
    expect(kafkaCredentialsFromEnv(env)).toEqual({ mechanism: "plain", admin: "root", passwords: { root: "pw" } });
    expect(loadConfig({}, { ...good, ...env }).KAFKA_SASL_PASSWORD).toBe("pw");
  });
});
