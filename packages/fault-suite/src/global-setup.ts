/**
 * Global setup of the vitest project `fault`: clears the previous results; the teardown prints one
 * line per scenario and, last, the suite's summary line.
 */
import { clearResults, readResults, summaryLine } from "./results";

export default function setup(): () => void {
  clearResults();
  return () => {
    const results = readResults();
    if (results.length === 0) return;
    const lines = results.map((r) => `  ${r.failures.length === 0 ? "✓" : "✗"} ${r.scenario}: ${r.lost} lost, ${r.duplicated} duplicated`);
    process.stdout.write(`\n${lines.join("\n")}\n${summaryLine(results)}\n`);
  };
}
