/**
 * The local platform: `npm start` (scripts/start.sh) runs this.
 *
 *   real Kafka + MongoDB-wire database (as the tests get them) → provider sandboxes (SMTP, SMS/push/voice HTTP)
 *   → the five services as processes → the operations console (if built) → the demo journey (default)
 *
 * Options: --no-demo (just run the platform), --days N (business days the demo plays, default 100),
 * --start YYYY-MM-DD (the demo's first business date, default 2026-12-01). Ctrl-C stops everything.
 */
import { existsSync, mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { zonedInstant } from "@whiteslip/core";
import { saslFor } from "@whiteslip/config";
import { ensureLocalPki, localPkiDir } from "@whiteslip/identity";
import { addressesFromEnv, closeClients, LOCAL_PORTS, provisionKafka } from "@whiteslip/ops";
import { setFileClock } from "@whiteslip/runtime";
import { startInfra } from "@whiteslip/testkit";
import { playDemo } from "./demo";
import { startNarrator } from "./narrator";
import { driverClients } from "./driver";
import { addressEnv, grpcurlFlags, kafkaPrincipalEnv, ROOT, type ServiceProcess, startAllServices, tlsEnv } from "./processes";
import { startProviderSandbox } from "./sinks";

const { values } = parseArgs({
  options: {
    demo: { type: "boolean", default: true },
    "no-demo": { type: "boolean", default: false },
    days: { type: "string", default: "100" },
    start: { type: "string", default: "2026-12-01" },
  },
});
const withDemo = values.demo && !values["no-demo"];
const say = (line: string) => process.stdout.write(`${line}\n`);
const dim = (s: string) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);

const stops: (() => Promise<void>)[] = [];
let stopping = false;

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "whiteslip-run-"));
  const clockFile = join(work, "clock.json");
  const abort = new AbortController();
  process.on("SIGINT", () => {
    abort.abort();
    void shutdown(0);
  });
  process.on("SIGTERM", () => {
    abort.abort();
    void shutdown(0);
  });

  say("Whiteslip — local platform");
  const busy = await busyPorts([...Object.values(LOCAL_PORTS), Number(process.env.CONSOLE_PORT ?? 8080)]);
  if (busy.length > 0) {
    throw new Error(`port(s) ${busy.join(", ")} already in use on 127.0.0.1 — is another local run still up? Stop it first.`);
  }
  say("  starting Kafka and the MongoDB-wire database (first run builds/downloads them; later runs take seconds)…");
  const infra = await startInfra({ log: (l) => say(dim(`  [infra] ${l}`)) });
  stops.push(() => infra.stop());
  say(`  infrastructure: ${infra.describe}`);

  // one CA and a certificate per service and client in the cache, issued on the first run, re-issued near expiry
  const pki = await ensureLocalPki({ dir: localPkiDir() });
  say(`  identities: CA and certificates in ${pki.dir}${pki.issued.length > 0 ? ` (issued now: ${pki.issued.join(", ")})` : ""}`);

  const sandbox = await startProviderSandbox();
  stops.push(() => sandbox.stop());
  sandbox.onMessage = (m) => say(dim(`    ↳ ${m.channel.padEnd(5)} delivered${m.subject ? `: ${m.subject}` : `: ${m.text.slice(0, 60).replace(/\s+/g, " ")}`}`));

  // The demo moves one shared clock; without the demo the platform runs on the wall clock.
  if (withDemo) setFileClock(clockFile, zonedInstant(values.start, 10, 0, "Asia/Shanghai"));
  // The platform's topics and ACLs, made by the admin; each service then connects as its own principal.
  const creds = infra.kafkaCredentials;
  const admin = creds ? saslFor(creds, creds.admin) : undefined;
  await provisionKafka({ brokers: infra.kafkaBrokers, topicPrefix: "", ...(admin ? { sasl: admin } : {}) });
  const principals = kafkaPrincipalEnv(creds);
  const env: Record<string, string> = {
    KAFKA_BROKERS: infra.kafkaBrokers.join(","),
    MONGODB_URI: infra.mongoUri,
    LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
    ...(withDemo ? { CLOCK_FILE: clockFile } : {}),
  };
  say("  starting credit, billing, notification, collections, credit-reporting…");
  const services: Record<string, ServiceProcess> = await startAllServices({
    pki,
    env,
    serviceEnv: { ...principals, notification: { ...principals.notification, ...sandbox.env() } },
    logDir: join(work, "logs"),
  });
  stops.push(async () => {
    await Promise.all(Object.values(services).map((s) => s.stop()));
  });
  for (const s of Object.values(services)) say(`  ✓ ${s.name.padEnd(17)} grpc ${s.address} (mutual TLS; health SERVING, reflection on)`);
  say(dim(`  logs: ${join(work, "logs")}`));

  const consoleMain = join(ROOT, "services/console/src/main.ts");
  if (existsSync(consoleMain) && process.env.WHITESLIP_CONSOLE !== "0") {
    const { startConsole } = (await import(consoleMain)) as {
      startConsole(o: { env?: Record<string, string | undefined>; port?: number }): Promise<{ port: number; stop(): Promise<void> }>;
    };
    // plain http on 127.0.0.1: the local run is the explicit local-dev exception to Secure cookies
    const web = await startConsole({
      env: { CONSOLE_DEV_INSECURE_COOKIE: "true", ...process.env, ...addressEnv({}), ...tlsEnv(pki, "console") },
      port: Number(process.env.CONSOLE_PORT ?? 8080),
    });
    stops.push(() => web.stop());
    say(`  ✓ console            http://127.0.0.1:${web.port}  (see services/console/README.md for demo sign-ins)`);
  }

  // quoted for a shell when a path needs it (a cache folder with a space)
  const shellArg = (a: string) => (/^[\w./:@%+=-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  say(`\n  Try: grpcurl ${grpcurlFlags(pki).map(shellArg).join(" ")} 127.0.0.1:${LOCAL_PORTS.billing} list`);
  say("       npm run ops -- tail overdue due-soon");
  say(dim("       (the ops CLI speaks mutual TLS with the cache's ops certificate by itself)"));
  // the ops CLI acts as the Kafka admin; its password stays in the credentials file
  const opsKafka = creds
    ? ` KAFKA_SASL_MECHANISM=${creds.mechanism} KAFKA_SASL_USERNAME=${creds.admin}${creds.file ? ` KAFKA_CREDENTIALS_FILE=${creds.file}` : ""}`
    : "";
  say(dim(`  (ops CLI env: KAFKA_BROKERS=${env.KAFKA_BROKERS}${opsKafka}${withDemo ? ` CLOCK_FILE=${clockFile}` : ""}; ports ${Object.values(LOCAL_PORTS).join(", ")})`));

  if (withDemo) {
    const clients = driverClients(addressesFromEnv(addressEnv({})), pki);
    stops.push(async () => closeClients(clients));
    const labels = new Map<string, string>();
    const narrator = await startNarrator({ brokers: infra.kafkaBrokers, ...(admin ? { sasl: admin } : {}), label: (id) => labels.get(id), print: say });
    stops.push(() => narrator.stop());
    await playDemo({
      clients,
      clockFile,
      startDate: values.start,
      days: Number(values.days),
      print: say,
      register: (id, label) => labels.set(id, label),
      signal: abort.signal,
    });
    say("\nDemo finished. The platform keeps running — explore with the ops CLI or the console; Ctrl-C stops everything.");
  } else {
    say("\nPlatform running (no demo). Ctrl-C stops everything.");
  }
}

async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  say("\nstopping…");
  for (const stop of stops.reverse()) await stop().catch((e) => say(`  (while stopping: ${(e as Error).message})`));
  say("stopped.");
  process.exit(code);
}

/** Ports among `ports` that something already listens on. */
async function busyPorts(ports: number[]): Promise<number[]> {
  const busy: number[] = [];
  for (const port of ports) {
    const free = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once("error", () => resolve(false));
      srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
    });
    if (!free) busy.push(port);
  }
  return busy;
}

main().catch(async (e) => {
  process.stderr.write(`\nlocal run failed: ${(e as Error).stack ?? e}\n`);
  await shutdown(1);
});
