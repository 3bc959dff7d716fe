import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, z } from "../src/index";

const good = { SERVICE_NAME: "billing", KAFKA_BROKERS: "a:9092, b:9092", MONGODB_URI: "mongodb://x:1" };

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
});
