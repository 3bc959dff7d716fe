/**
 * Start-up bench: each service started as its own process the way `npm start` and the fault suite start it, once
 * from TypeScript through tsx and once from its compiled bundle (packages/platform/src/build.ts), one process at a
 * time on the same broker and database. Prints, per service and runtime, the time from spawn to gRPC health
 * SERVING and the resident set size after it has idled, and the time a cold build of every bundle takes.
 *
 *   npm run bench:startup                 # 2 rounds, 10 s idle before the RSS sample
 *   ROUNDS=3 IDLE_MS=20000 npm run bench:startup
 *
 * Figures are the median over the rounds; tsx's transform cache is warm after the first round (a process started
 * from a fresh cache is slower still). Memory is VmRSS of the node process from /proc.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { saslFor } from "@whiteslip/config";
import { ensureLocalPki } from "@whiteslip/identity";
import { provisionKafka } from "@whiteslip/ops";
import { startInfra } from "@whiteslip/testkit";
import { BUILD_ENTRIES, buildEntry, ensureBuilt } from "../src/build";
import { kafkaPrincipalEnv, SERVICES, type ServiceName, startServiceProcess } from "../src/processes";
import { startProviderSandbox } from "../src/sinks";

const ROUNDS = Number(process.env.ROUNDS ?? 2);
const IDLE_MS = Number(process.env.IDLE_MS ?? 10_000);
const RUNTIMES = ["tsx", "dist"] as const;
type Runtime = (typeof RUNTIMES)[number];

const say = (s: string) => process.stdout.write(`${s}\n`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const rssMiB = (pid: number): number => {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return Number(kb) / 1024;
};

async function main(): Promise<void> {
  say(`startup bench: ${ROUNDS} rounds, RSS after ${IDLE_MS} ms idle, load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}`);
  // a cold build of every bundle (what a fresh clone's first `npm start` pays once)
  const t0 = Date.now();
  await Promise.all(BUILD_ENTRIES.map(buildEntry));
  const coldBuildMs = Date.now() - t0;
  const t1 = Date.now();
  await ensureBuilt();
  const freshCheckMs = Date.now() - t1;
  say(`build: every bundle from scratch ${coldBuildMs} ms; the up-to-date check ${freshCheckMs} ms`);

  const infra = await startInfra({ log: () => {} });
  const sandbox = await startProviderSandbox();
  try {
    const pki = await ensureLocalPki({ dir: mkdtempSync(join(tmpdir(), "startup-bench-pki-")) });
    const creds = infra.kafkaCredentials;
    const admin = creds ? saslFor(creds, creds.admin) : undefined;
    await provisionKafka({ brokers: infra.kafkaBrokers, topicPrefix: "", ...(admin ? { sasl: admin } : {}) });
    const principals = kafkaPrincipalEnv(creds);
    const env = { KAFKA_BROKERS: infra.kafkaBrokers.join(","), MONGODB_URI: infra.mongoUri, LOG_LEVEL: "warn" };
    const figures = new Map<string, { startMs: number[]; rss: number[] }>();
    for (let round = 1; round <= ROUNDS; round++) {
      for (const s of SERVICES) {
        for (const runtime of RUNTIMES) {
          const name: ServiceName = s.name;
          const started = Date.now();
          const p = await startServiceProcess(name, {
            env,
            pki,
            runtime,
            serviceEnv: { ...principals, notification: { ...principals.notification, ...sandbox.env() } },
          });
          const startMs = Date.now() - started;
          await sleep(IDLE_MS);
          const rss = rssMiB(p.child.pid!);
          await p.stop();
          const key = `${name}\t${runtime}`;
          const f = figures.get(key) ?? { startMs: [], rss: [] };
          f.startMs.push(startMs);
          f.rss.push(rss);
          figures.set(key, f);
          say(`  round ${round} ${name.padEnd(16)} ${runtime.padEnd(4)} SERVING after ${startMs} ms, RSS ${rss.toFixed(0)} MiB`);
        }
      }
    }
    say("");
    say("| service | tsx: start → SERVING | tsx: RSS idle | compiled: start → SERVING | compiled: RSS idle |");
    say("|---|---:|---:|---:|---:|");
    for (const s of SERVICES) {
      const cell = (r: Runtime) => {
        const f = figures.get(`${s.name}\t${r}`)!;
        return `${(median(f.startMs) / 1000).toFixed(1)} s | ${median(f.rss).toFixed(0)} MiB`;
      };
      say(`| ${s.name} | ${cell("tsx")} | ${cell("dist")} |`);
    }
    const sum = (r: Runtime, k: "startMs" | "rss") => SERVICES.reduce((a, s) => a + median(figures.get(`${s.name}\t${r}`)![k]), 0);
    say(
      `RESULT startup: tsx ${(sum("tsx", "startMs") / 5000).toFixed(1)} s / ${(sum("tsx", "rss") / 5).toFixed(0)} MiB, compiled ${(sum("dist", "startMs") / 5000).toFixed(1)} s / ${(sum("dist", "rss") / 5).toFixed(0)} MiB (mean per service of the medians)`,
    );
  } finally {
    await sandbox.stop();
    await infra.stop();
  }
}

await main();
