/**
 * Global setup of the vitest project `fault`: clears the previous results; the teardown prints one
 * line per scenario, the scenarios still waiting for a fix (skipped unless FAULT_ALL=1) and, last, the
 * suite's summary line.
 */
import { WAITING } from "./pending";
import { clearResults, readResults, summaryLine } from "./results";

export default function setup(): () => void {
  clearResults();
  return () => {
    const results = readResults();
    const lines = results.map((r) => `  ${r.failures.length === 0 ? "✓" : "✗"} ${r.scenario}: ${r.lost} lost, ${r.duplicated} duplicated`);
    const ran = new Set(results.map((r) => r.scenario));
    const waiting = Object.entries(WAITING).filter(([s]) => !ran.has(s));
    if (waiting.length > 0) lines.push(`  waiting for a fix (skipped; FAULT_ALL=1 runs them):`, ...waiting.map(([s, fix]) => `    - ${s} — ${fix}`));
    process.stdout.write(`\n${lines.join("\n")}\n${summaryLine(results)}\n`);
  };
}
