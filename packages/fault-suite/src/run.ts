/**
 * What every scripted run shares: a platform on the fault suite's own broker and database, the
 * hooks a scenario puts its fault in, a client that retries like a real one, and a Job that
 * retries end-of-day like the CronJob's.
 */
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { allTopics } from "@whiteslip/contracts";
import { isInfrastructureError, type LocalDate } from "@whiteslip/core";
import { runEndOfDay } from "@whiteslip/ops";
import { type ServiceName, startTestPlatform, type TestPlatform } from "@whiteslip/platform";
import { type Infra, type KafkaEndpoints, uniqueName } from "@whiteslip/testkit";
import { faultKafka } from "./kafka";
import { type Observation, observe, settle } from "./observe";
import { RESULTS_DIR } from "./results";

/** The broker and database of the fault suite, which scenarios may stop and start. */
export interface FaultInfra extends KafkaEndpoints {
  mongoUri: string;
  local: NonNullable<Infra["local"]>;
}

/** What a phase hook gets. */
export interface RunContext {
  p: TestPlatform;
  infra: FaultInfra;
  /** Adds a line to the scenario's story (printed with its table). */
  note(line: string): void;
  /** Labels of ids the run drew at random (id → label), so that its effects compare with another run's. */
  labels: Map<string, string>;
  /** ce_ids of messages the fault itself put on a topic (poison): not effects of the platform. */
  injected: Set<string>;
  /** Figures of the fault-free run (e.g. how many messages its wave sent), to pick the moment of a fault. */
  baseline?: Record<string, number>;
}

/** A fault: async work that runs beside one phase of the script (kill, stop, restart…) and ends before the phase is settled. */
export type Hook = (ctx: RunContext) => Promise<void>;

/** Result of one run of a script. */
export interface ScriptRun {
  observation: Observation;
  /** Figures the script measured on the way (for the next runs' hooks). */
  figures: Record<string, number>;
  story: string[];
}

/** Starts a platform for one run, runs `body`, settles, observes and stops it. */
export async function withPlatform(
  infra: FaultInfra,
  opts: { tag: string; start: LocalDate; env?: Record<string, string>; baseline?: Record<string, number> },
  body: (ctx: RunContext, figures: Record<string, number>) => Promise<void>,
): Promise<ScriptRun> {
  const story: string[] = [];
  const started = Date.now();
  mkdirSync(RESULTS_DIR, { recursive: true });
  const storyFile = join(RESULTS_DIR, `${opts.tag}.log`);
  writeFileSync(storyFile, "");
  const note = (line: string) => {
    const l = `${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s  ${line}`;
    story.push(l);
    try {
      appendFileSync(storyFile, `${l}\n`);
    } catch {
      /* the timeline file is a convenience; the story is still returned */
    }
  };
  note("starting the platform");
  // five services starting at once on two cores (and restarted ones later) may take minutes on a busy machine
  // On a fresh broker of a busy machine, giving ~30 new topics a leader can take longer than a service's
  // start-up waits (it then exits: "This server does not host this topic-partition"): the topics of the
  // platform are created first, with a generous wait, so the services find them led.
  // A service whose start-up fails (at a load average of 100 the bus's own topic creation at start-up timed out:
  // "start-up failed: Topic creation errors") exits, and the kubelet would start it again: here the platform is
  // started again, on fresh topics, up to three times. Only the start is retried; the scenario's fault comes later.
  let p: TestPlatform | undefined;
  for (let attempt = 1; !p; attempt++) {
    const topicPrefix = `${uniqueName(opts.tag)}.`;
    await createTopics(infra, allTopics.map((t) => `${topicPrefix}${t.topic}`));
    note("topics created and led");
    try {
      p = await startTestPlatform(infra, { start: opts.start, tag: opts.tag, topicPrefix, env: opts.env ?? {}, readyTimeoutMs: 300_000 });
    } catch (e) {
      if (attempt >= 3) throw e;
      note(`platform start ${attempt} failed, starting it again: ${(e as Error).message.split("\n")[0]!.slice(0, 200)}`);
    }
  }
  note(`platform up (${p.topicPrefix})`);
  const figures: Record<string, number> = {};
  try {
    const ctx: RunContext = { p, infra, note, labels: new Map(), injected: new Set(), ...(opts.baseline ? { baseline: opts.baseline } : {}) };
    await body(ctx, figures);
    await settled(ctx);
    const observation = await observe(p, infra, ctx.labels, ctx.injected);
    note(`observed (${observation.republished} republished copies, ${observation.deadLetters.length} dead letters)`);
    return { observation, figures, story };
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${story.join("\n")}\n${await logTails(p)}`, { cause: e });
  } finally {
    await p.stop();
  }
}

async function createTopics(infra: KafkaEndpoints, topics: string[], timeoutMs = 240_000): Promise<void> {
  const admin = faultKafka(infra, "fault-suite-topics").admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: 3 })), waitForLeaders: false });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const led = await admin
        .fetchTopicMetadata({ topics })
        .then((md) => md.topics.every((t) => t.partitions.length > 0 && t.partitions.every((x) => x.leader >= 0)))
        .catch(() => false);
      if (led) return;
      if (Date.now() > deadline) throw new Error(`the platform's topics have no leader after ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await admin.disconnect();
  }
}

/** Waits for the platform to finish reacting; first checks that no service died on its own. */
export async function settled(ctx: RunContext, timeoutMs = 300_000): Promise<void> {
  for (const s of Object.values(ctx.p.processes))
    if (s.child.exitCode !== null || s.child.signalCode !== null) throw new Error(`${s.name} exited on its own (${s.child.exitCode ?? s.child.signalCode}) during the scenario`);
  await settle(ctx.p, ctx.infra, timeoutMs, (why) => ctx.note(`settling: ${why}`));
}

async function logTails(p: TestPlatform): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  const out: string[] = [];
  for (const name of Object.keys(p.processes)) {
    const text = await readFile(`${p.logDir}/${name}.log`, "utf8").catch(() => "");
    const lines = text.trim().split("\n").filter(Boolean).slice(-6);
    if (lines.length) out.push(`--- ${name} (last lines of ${p.logDir}/${name}.log)\n${lines.map((l) => l.slice(0, 400)).join("\n")}`);
  }
  return out.join("\n");
}

/** Calls `fn` until it answers, retrying infrastructure errors (UNAVAILABLE, DEADLINE_EXCEEDED, …) as a real client does. */
export async function retrying<T>(what: string, fn: () => Promise<T>, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let pause = 100;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (!isInfrastructureError(e)) throw new Error(`${what}: ${(e as Error).message}`, { cause: e });
      if (Date.now() > deadline) throw new Error(`${what}: still failing after ${timeoutMs / 1000} s: ${(e as Error).message}`, { cause: e });
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(2_000, pause * 2);
    }
  }
}

/**
 * Closes `date` as the end-of-day Job does (RunEndOfDay, then GetEndOfDayRun until COMPLETED). When an
 * attempt fails (billing killed or unavailable), the Job is retried with a growing pause, as Kubernetes
 * retries a failed Job's pod, until `giveUpMs` has passed.
 */
export async function endOfDayJob(ctx: RunContext, date: LocalDate, giveUpMs = 300_000): Promise<void> {
  const deadline = Date.now() + giveUpMs;
  let pause = 1_000;
  for (let attempt = 1; ; attempt++) {
    try {
      await runEndOfDay(ctx.p.clients, { date, pollMs: 50 });
      ctx.note(`end-of-day ${date} COMPLETED (Job attempt ${attempt})`);
      return;
    } catch (e) {
      ctx.note(`end-of-day Job attempt ${attempt} failed: ${(e as Error).message.slice(0, 160)}`);
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(10_000, pause * 2);
    }
  }
}

/** Polls `probe` until it is at least `threshold`; returns the value seen (the moment of the fault is chosen by observation). */
export async function whenReached(what: string, probe: () => Promise<number>, threshold: number, timeoutMs = 120_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => -1);
    if (v >= threshold) return v;
    if (Date.now() > deadline) throw new Error(`${what} never reached ${threshold} (last ${v})`);
    await new Promise((r) => setTimeout(r, 100)); // a look every 100 ms: fine enough to land mid-phase, light on the 2 cores
  }
}

/** kill -9 of `service` once `probe` reaches `threshold` of `total`, then a restart (as the kubelet restarts a pod). */
export async function killWhen(ctx: RunContext, service: ServiceName, what: string, probe: () => Promise<number>, threshold: number, total: number): Promise<{ at: number; total: number }> {
  const at = await whenReached(what, probe, threshold);
  await ctx.p.kill(service);
  ctx.note(`kill -9 ${service} at ${at} of ${total} ${what}`);
  await ctx.p.restart(service);
  ctx.note(`${service} restarted and SERVING`);
  return { at, total };
}
