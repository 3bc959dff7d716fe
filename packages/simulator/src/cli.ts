/**
 * `pnpm simulate --accounts N --days D [--strategies FILE] [--seed S] [--out FILE.html]`: plays a synthetic book
 * through the real domain rules and prints a table, one RESULT line per strategy, and where the chart went.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { chartHtml, resultLine, table } from "./report";
import { simulate } from "./simulate";
import { DEFAULT_STRATEGIES, defaultCosts, parseStrategies } from "./strategies";

const { values } = parseArgs({
  options: {
    accounts: { type: "string", default: "2000" },
    days: { type: "string", default: "120" },
    seed: { type: "string", default: "1" },
    strategies: { type: "string" },
    out: { type: "string" },
  },
});
const positive = (name: string, s: string | undefined): number => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`--${name} must be a positive integer, got ${s}\n`);
    process.exit(2);
  }
  return n;
};
const accounts = positive("accounts", values.accounts);
const days = positive("days", values.days);
const seed = Number(values.seed);
if (!Number.isInteger(seed)) {
  process.stderr.write(`--seed must be an integer, got ${values.seed}\n`);
  process.exit(2);
}
// pnpm runs the script from the repository root; INIT_CWD is where the user typed it.
const cwd = process.env.INIT_CWD ?? process.cwd();
const file = values.strategies ? parseStrategies(readFileSync(resolve(cwd, values.strategies), "utf8")) : undefined;
const strategies = file?.strategies ?? DEFAULT_STRATEGIES;
const costs = file?.costs ?? defaultCosts();
const t0 = performance.now();
const results = simulate({ accounts, days, seed, strategies, costs });
const ms = performance.now() - t0;
process.stdout.write(`simulated ${accounts} accounts × ${days} days (seed ${seed}) in ${(ms / 1000).toFixed(2)} s\n\n${table(results)}\n\n`);
for (const r of results) process.stdout.write(`${resultLine(r)}\n`);
const out = resolve(cwd, values.out ?? `test-artifacts/simulate-seed${seed}-${accounts}x${days}.html`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, chartHtml(results, `Whiteslip portfolio simulation: ${accounts} accounts, ${days} days, seed ${seed}`));
process.stdout.write(`chart: ${out}\n`);
