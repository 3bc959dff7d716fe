import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { cureRate, DEFAULT_STRATEGIES, parseStrategies, resultLine, simulate, defaultCosts, chartHtml, WHAT_IF_LIMITS, whatIf, wilson } from "../src/index";

const example = parseStrategies(readFileSync(new URL("../examples/early-calls.json", import.meta.url), "utf8"));
const costs = defaultCosts();
// Under load a small book still takes seconds of CPU: a generous limit, never an assertion on time.
const LIMIT = 180_000;

describe("portfolio simulator", () => {
  it(
    "gives the same RESULT lines for the same seed and different ones for another seed",
    () => {
      const run = (seed: number) => simulate({ accounts: 120, days: 70, seed, strategies: example.strategies, costs }).map(resultLine);
      const a = run(7);
      expect(a).toHaveLength(2);
      for (const l of a) expect(l).toMatch(/^RESULT simulate strategy=\S+ accounts=\d+ cure_rate=\d\.\d{4} roll_rate=\d\.\d{4} collected_fen=\d+ cost_fen=\d+$/);
      expect(run(7)).toEqual(a);
      expect(run(8)).not.toEqual(a);
    },
    LIMIT,
  );

  it(
    "under the documented model, a challenger that calls from DPD 1 cures more than a champion that calls from DPD 15",
    () => {
      const [champion, challenger] = simulate({ accounts: 600, days: 80, seed: 42, strategies: example.strategies, costs });
      expect(champion!.strategyId).toBe("digital-then-calls-dpd15");
      expect(challenger!.strategyId).toBe("calls-from-dpd1");
      expect(champion!.cases).toBeGreaterThan(30);
      expect(challenger!.cases).toBeGreaterThan(30);
      expect(cureRate(challenger!)).toBeGreaterThan(cureRate(champion!));
      // calls cost more than messages: the earlier caller spends more per case
      expect(Number(challenger!.costFen) / challenger!.cases).toBeGreaterThan(Number(champion!.costFen) / champion!.cases);
      // money stays bigint fen end to end
      expect(typeof challenger!.collectedFen).toBe("bigint");
      expect(typeof challenger!.costFen).toBe("bigint");
      expect(challenger!.collectedFen).toBeGreaterThan(0n);
      const html = chartHtml([champion!, challenger!], "t");
      expect(html).toContain("<svg");
      expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
    },
    LIMIT,
  );

  it("refuses a strategies file collections would refuse, naming the field", () => {
    const bad = JSON.stringify({ challengerPercent: 30, champion: { id: "c", rules: [] }, challengers: [] });
    expect(() => parseStrategies(bad)).toThrow(/challenger_percent/);
  });

  it("computes a Wilson interval that contains the observed rate", () => {
    // collections' Wilson interval (the one GetCollectionsStats reports), not a copy
    const { low, high } = wilson(30, 100);
    expect(low).toBeLessThan(0.3);
    expect(high).toBeGreaterThan(0.3);
    expect(wilson(0, 0)).toMatchObject({ low: 0, high: 1 });
  });
});

describe("what-if (the console's small run of an edited table)", () => {
  it("plays the edited and the current table on the same book: deterministic, bounded", () => {
    const early = parseStrategies(readFileSync(new URL("../examples/early-calls.json", import.meta.url), "utf8")).strategies;
    const a = whatIf({ edited: early, current: DEFAULT_STRATEGIES, accounts: 60, days: 40, seed: 7 });
    const b = whatIf({ edited: early, current: DEFAULT_STRATEGIES, accounts: 60, days: 40, seed: 7 });
    const strip = (w: typeof a) => ({ ...w, elapsedMs: 0 });
    expect(strip(a)).toEqual(strip(b));
    expect(a.edited.map((x) => x.strategyId)).toEqual([early.champion.id, ...early.challengers.map((c) => c.id)]);
    expect(a.current.map((x) => x.strategyId)).toEqual(["champion", "challenger-early-call"]);
    // same book: the accounts add up to the same total in both tables
    const total = (arms: typeof a.edited) => arms.reduce((n, x) => n + x.accounts, 0);
    expect(total(a.edited)).toBe(60);
    expect(total(a.current)).toBe(60);
    for (const x of a.edited) {
      expect(x.cureRateLow).toBeLessThanOrEqual(x.cureRate);
      expect(x.cureRateHigh).toBeGreaterThanOrEqual(x.cureRate);
    }
    expect(a.edited[0]!.pValue).toBe(1);
    expect(() => whatIf({ edited: early, current: DEFAULT_STRATEGIES, accounts: WHAT_IF_LIMITS.maxAccounts + 1, days: 10, seed: 1 })).toThrow(
      /accounts/,
    );
    expect(() => whatIf({ edited: early, current: DEFAULT_STRATEGIES, accounts: 10, days: 0, seed: 1 })).toThrow(/days/);
  });
});
