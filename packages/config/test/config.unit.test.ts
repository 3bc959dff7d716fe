import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, z } from "../src/index";

const good = {
  SERVICE_NAME: "billing",
  KAFKA_BROKERS: "a:9092, b:9092",
  MONGODB_URI: "mongodb://x:1",
  TLS_CA_FILE: "/pki/ca.pem",
  TLS_CERT_FILE: "/pki/billing.pem",
  TLS_KEY_FILE: "/pki/billing.key",
};

describe("loadConfig", () => {
  it("parses base and service variables with defaults", () => {
    const c = loadConfig({ GRACE_DAYS: z.coerce.number().int().default(29) }, { ...good, GRPC_PORT: "50051" });
    expect(c.KAFKA_BROKERS).toEqual(["a:9092", "b:9092"]);
    expect(c.GRPC_PORT).toBe(50051);
    expect(c.GRACE_DAYS).toBe(29);
    expect(c.LOG_LEVEL).toBe("info");
  });

  it("names every bad variable and hides secrets", () => {
    try {
      loadConfig({}, { ...good, GRPC_PORT: "99999", MONGODB_URI: "postgres://x", KAFKA_BROKERS: "", PII_KEY: "" });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const m = (e as Error).message;
      expect(m).toContain("GRPC_PORT");
      expect(m).toContain('"99999"');
      expect(m).toContain("MONGODB_URI");
      expect(m).toContain("KAFKA_BROKERS: ");
    }
  });

  it("refuses the old single PII_KEY, naming its new home and hiding its value", () => {
    expect(() => loadConfig({}, { ...good, PII_KEY: "c2VjcmV0LWtleS1ub3QtdG8tYmUtc2hvd24=" })).toThrow(
      /PII_KEY: no longer read: put this key in PII_KEYRING as legacyV1 \(see packages\/pii\/README.md\) \(got \(value hidden\)\)/,
    );
    expect(loadConfig({}, good).PII_REENCRYPT).toBe("sweep");
  });

  it("asks for the three TLS files unless the development plaintext flag is set", () => {
    const { TLS_CA_FILE: _, TLS_KEY_FILE: __, ...noTls } = good;
    expect(() => loadConfig({}, noTls)).toThrow(/TLS_CA_FILE: required[\s\S]*TLS_KEY_FILE: required/);
    const dev = loadConfig({}, { ...noTls, GRPC_PLAINTEXT_DEV: "1" });
    expect(dev.GRPC_PLAINTEXT_DEV).toBe(true);
    expect(loadConfig({}, good).GRPC_PLAINTEXT_DEV).toBe(false);
  });

  it("refuses plaintext gRPC in production", () => {
    const sasl = { KAFKA_SASL_MECHANISM: "scram-sha-512", KAFKA_SASL_USERNAME: "billing", KAFKA_SASL_PASSWORD: "pw" };
    expect(() => loadConfig({}, { ...good, ...sasl, NODE_ENV: "production", GRPC_PLAINTEXT_DEV: "1" })).toThrow(
      /GRPC_PLAINTEXT_DEV: plaintext gRPC is refused when NODE_ENV=production/,
    );
  });
});
