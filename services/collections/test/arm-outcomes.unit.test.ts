import { describe, expect, it } from "vitest";
import { handleAccountCured } from "../src/app/handle-account-cured";
import { handleOverdue } from "../src/app/handle-overdue";
import { DEFAULT_STRATEGIES } from "../src/domain/strategy";
import { computeStats } from "../src/domain/stats";
import { fakeDeps, overdue, testPolicy } from "./fakes";

describe("outcomes per arm with their uncertainty", () => {
  it("cure rate with its Wilson interval, the z-test p-value against the champion, roll rate out of M1 and cost per case", async () => {
    const f = fakeDeps();
    f.deps.policy = { ...testPolicy, strategies: { ...DEFAULT_STRATEGIES, challengerPercent: 50 } };
    for (let i = 0; i < 40; i++) await handleOverdue(f.deps, overdue(`acct-${i}`, "2026-03-02", 1));
    const all = [...f.cases.docs.values()];
    // every challenger case cures, a quarter of the champion's; two champion cases roll to M2
    const champ = all.filter((c) => c.strategyId === "champion");
    const chal = all.filter((c) => c.strategyId !== "champion");
    for (const c of chal) await handleAccountCured(f.deps, c.accountId, `cure-${c.accountId}`, "2026-03-05");
    for (const c of champ.slice(0, Math.floor(champ.length / 4))) await handleAccountCured(f.deps, c.accountId, `cure-${c.accountId}`, "2026-03-05");
    for (const c of champ.slice(-2)) await handleOverdue(f.deps, overdue(c.accountId, "2026-04-01", 31));
    const s = computeStats([...f.cases.docs.values()], testPolicy.contactCostFen, "champion");
    const ch = s.strategies.find((x) => x.strategyId === "champion")!;
    const cc = s.strategies.find((x) => x.strategyId !== "champion")!;
    expect(ch.cureRateLow).toBeLessThan(ch.cureRate);
    expect(ch.cureRateHigh).toBeGreaterThan(ch.cureRate);
    expect(cc.cureRate).toBe(1);
    expect(cc.cureRatePValue).toBeLessThan(0.001);
    expect(ch.cureRatePValue).toBe(1);
    expect(ch.rollRateM1).toBeCloseTo(2 / ch.cases, 10);
    expect(ch.costPerCaseFen).toBe(ch.costFen / BigInt(ch.cases));
    // roll-forward by bucket per arm: M1 → M2 as above, and the M2 cases have not rolled on
    expect(ch.buckets.map((b) => [b.bucket, b.cases])).toEqual([
      ["M1", ch.cases],
      ["M2", 2],
    ]);
    expect(ch.buckets[0]!.rollRate).toBe(ch.rollRateM1);
    expect(ch.buckets[1]!.rollRate).toBe(0);
    expect(cc.buckets.map((b) => [b.bucket, b.cureRate])).toEqual([["M1", 1]]);
    expect([ch.champion, cc.champion]).toEqual([true, false]);
  });
});
