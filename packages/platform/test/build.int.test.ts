/**
 * The production build as the local run and the image use it: a service started from its bundle still gets
 * OpenTelemetry's MongoDB instrumentation (the driver stays in node_modules, patched as it loads by the bundled
 * telemetry preload), and a bundle older than one of its sources is never run as it is — the next start rebuilds it.
 */
import { mkdtempSync, readFileSync, statSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureLocalPki } from "@whiteslip/identity";
import { addressesFromEnv, closeClients } from "@whiteslip/ops";
import { eventually, testScope } from "@whiteslip/testkit/vitest";
import { freePort } from "@whiteslip/testkit";
import { expect, it } from "vitest";
import { BUILD_ENTRIES, builtFile, ensureBuilt, staleReason } from "../src/build";
import { driverClients } from "../src/driver";
import { addressEnv, serviceCommand, startServiceProcess } from "../src/processes";

it("a service started from its bundle records MongoDB spans from OpenTelemetry's instrumentation", { timeout: 240_000 }, async () => {
  const scope = testScope("build");
  const pki = await ensureLocalPki({ dir: mkdtempSync(join(tmpdir(), "build-pki-")), names: ["billing", "ops", "console", "checkout"] });
  const ports = { billing: await freePort() };
  const lines: string[] = [];
  const command = await serviceCommand("billing", "dist");
  expect(command).toEqual(["--import", builtFile("telemetry-register"), builtFile("billing")]);
  const billing = await startServiceProcess("billing", {
    pki,
    ports,
    runtime: "dist",
    // the SDK's console exporter prints each ended span on stdout
    env: { ...scope.serviceEnv("billing"), OTEL_TRACES_EXPORTER: "console", LOG_LEVEL: "warn" },
    onLine: (_, line) => lines.push(line),
  });
  const clients = driverClients(addressesFromEnv(addressEnv({ ports })), pki);
  try {
    // a call makes the server span the driver's spans hang under (the instrumentation requires a parent)
    await clients.billing.getAccountSummary({ accountId: "no-such-account" }).catch(() => undefined);
    await eventually("a MongoDB span printed by the bundled billing", async () => {
      const text = lines.join("\n");
      return text.includes("db.system") && /mongodb/.test(text) ? text : undefined;
    });
  } finally {
    closeClients(clients);
    await billing.stop();
  }
});

it("a bundle older than one of its sources is rebuilt before it runs", { timeout: 120_000 }, async () => {
  await ensureBuilt();
  for (const e of BUILD_ENTRIES) expect(staleReason(e), e.name).toBeUndefined();
  const bundle = builtFile("credit-reporting");
  const before = readFileSync(bundle, "utf8");
  // as if main.ts had been edited after the last build: the bundle dated an hour back
  const past = new Date(Date.now() - 3_600_000);
  utimesSync(bundle, past, past);
  const entry = BUILD_ENTRIES.find((e) => e.name === "credit-reporting")!;
  expect(staleReason(entry)).toMatch(/changed$/);
  await serviceCommand("credit-reporting", "dist");
  expect(staleReason(entry)).toBeUndefined();
  expect(statSync(bundle).mtimeMs).toBeGreaterThan(past.getTime());
  expect(readFileSync(bundle, "utf8")).toBe(before);
});
