/**
 * Judging a scenario: its run's effects against the fault-free run of the same script, a table on
 * stdout, a result file for the suite's summary, and the failures (named effect and why).
 */
import { type KafkaEndpoints, startInfra } from "@whiteslip/testkit";
import { compare, failures, table } from "./effects";
import { type ScenarioResult, writeResult } from "./results";
import type { FaultInfra, ScriptRun } from "./run";

/** Starts the fault suite's own Kafka and database as local processes (it stops and restarts them). */
export async function startFaultInfra(): Promise<FaultInfra & { stop(): Promise<void> }> {
  const infra = await startInfra({ mode: "local" });
  if (!infra.local) {
    await infra.stop();
    throw new Error(`the fault suite needs a broker and a database it can stop (local processes), got ${infra.describe}`);
  }
  // the broker's credentials, when the testkit's broker needs them, ride along (every client: src/kafka.ts)
  const { kafkaCredentials } = infra as KafkaEndpoints;
  return { kafkaBrokers: infra.kafkaBrokers, ...(kafkaCredentials ? { kafkaCredentials } : {}), mongoUri: infra.mongoUri, local: infra.local, stop: () => infra.stop() };
}

/**
 * Compares `run` with `baseline`, prints the table and the run's story, records the result.
 * `conditions` are checks of the fault itself (e.g. "the kill landed mid-run"): a false one fails the scenario.
 */
export function judge(scenario: string, baseline: ScriptRun, run: ScriptRun, conditions: [boolean, string][] = []): ScenarioResult {
  const rows = compare(baseline.observation.effects, run.observation.effects);
  const why: string[] = [];
  if (run.observation.deadLetters.length > baseline.observation.deadLetters.length)
    why.push(`why: ${run.observation.deadLetters.length} messages dead-lettered (fault-free run: ${baseline.observation.deadLetters.length}), e.g. ${run.observation.deadLetters.slice(0, 4).join("; ")}`);
  const fails = failures(rows, why);
  for (const [ok, what] of conditions) if (!ok) fails.push(`the fault did not happen as the scenario says: ${what}`);
  const report = `${table(`fault scenario: ${scenario}`, rows)}\n${run.story.filter((l) => !l.includes("settling:")).map((l) => `    ${l}`).join("\n")}`;
  const result: ScenarioResult = {
    scenario,
    lost: rows.reduce((n, r) => n + r.lost, 0),
    duplicated: rows.reduce((n, r) => n + r.duplicated, 0),
    report,
    failures: fails,
  };
  writeResult(result);
  process.stdout.write(`\n${report}\n${fails.map((f) => `  ✗ ${f}`).join("\n")}\n`);
  return result;
}
