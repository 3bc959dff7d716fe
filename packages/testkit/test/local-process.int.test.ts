import { existsSync } from "node:fs";
import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { maybeTestInfra } from "../src/fixtures";
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
  it("starts beside another run on different ports and stops cleanly", async () => {
    const infra = await startInfra({ mode: "local" });
    const mongoHostPort = new URL(infra.mongoUri).host;
    try {
      expect(infra.kind).toBe("local-process");
      expect(infra.describe).toMatch(
        /^Kafka 3\.9\.1 \(local process, 127\.0\.0\.1:\d+\) \+ FerretDB v1\.24\.2\/SQLite \(local process, 127\.0\.0\.1:\d+\)$/,
      );
      const other = maybeTestInfra();
      if (other) {
        expect(other.kafkaBrokers).not.toEqual(infra.kafkaBrokers);
        expect(other.mongoUri).not.toEqual(infra.mongoUri);
      }
      expect(await portOpen(infra.kafkaBrokers[0] as string)).toBe(true);
      expect(await portOpen(mongoHostPort)).toBe(true);
      expect(infra.tmpDir && existsSync(infra.tmpDir)).toBe(true);
    } finally {
      await infra.stop();
    }
    expect(await portOpen(infra.kafkaBrokers[0] as string)).toBe(false);
    expect(await portOpen(mongoHostPort)).toBe(false);
    expect(existsSync(infra.tmpDir as string)).toBe(false);
    await infra.stop(); // idempotent
  });
});
