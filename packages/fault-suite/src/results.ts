/**
 * Per-scenario results, written as files by the test workers and summed by the fault project's
 * global teardown into the suite's last line: `fault suite: <scenarios> scenarios, <lost> lost, <duplicated> duplicated`.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

/** Where the results of this run go (cleared at the start of the fault project; FAULT_RESULTS_DIR moves it, e.g. for two runs at once). */
export const RESULTS_DIR = resolve(process.env.FAULT_RESULTS_DIR ?? resolve(import.meta.dirname, "../../../test-artifacts/fault"));

/** One scenario's outcome. */
export interface ScenarioResult {
  scenario: string;
  lost: number;
  duplicated: number;
  /** The comparison table and the story of the run. */
  report: string;
  /** Why it failed (empty when it passed). */
  failures: string[];
}

export function clearResults(): void {
  rmSync(RESULTS_DIR, { recursive: true, force: true });
  mkdirSync(RESULTS_DIR, { recursive: true });
}

export function writeResult(r: ScenarioResult): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = r.scenario.replace(/[^a-z0-9]+/gi, "-").toLowerCase();
  writeFileSync(join(RESULTS_DIR, `${file}.json`), `${JSON.stringify(r, null, 2)}\n`);
}

export function readResults(): ScenarioResult[] {
  let files: string[] = [];
  try {
    files = readdirSync(RESULTS_DIR).filter((f) => f.endsWith(".json"));
  } catch {
    return [];
  }
  return files.sort().map((f) => JSON.parse(readFileSync(join(RESULTS_DIR, f), "utf8")) as ScenarioResult);
}

/** The suite's summary line. */
export function summaryLine(results: ScenarioResult[]): string {
  const lost = results.reduce((n, r) => n + r.lost, 0);
  const duplicated = results.reduce((n, r) => n + r.duplicated, 0);
  return `fault suite: ${results.length} scenarios, ${lost} lost, ${duplicated} duplicated`;
}
