import { describe, expect, it } from "vitest";
import {
  type ApplicationInputs,
  DEFAULT_LINE_BOUNDS,
  binFor,
  characteristicValues,
  creditLineFor,
  decide,
  pdFromScore,
  scoreApplication,
  tierForScore,
} from "../src/domain/scorecard";
import { V1_TRAINING, trainScorecard } from "../src/domain/training";
import { goodInputs, weakInputs } from "./support/fixtures";
import { model } from "./support/memory";

const score = (x: ApplicationInputs) => scoreApplication(model, x).score;

describe("scorecard v1 artifact", () => {
  it("is what the seeded training script produces (deterministic training)", () => {
    const retrained = trainScorecard({ ...V1_TRAINING, trainedAt: model.trainedAt });
    expect(JSON.parse(JSON.stringify(retrained))).toEqual(model);
  });

  it("documents its version, scaling and holdout quality", () => {
    expect(model.version).toBe("scorecard-v1");
    expect(model.scaling).toMatchObject({ baseScore: 600, baseOdds: 50, pdo: 20 });
    expect(model.validation.auc).toBeGreaterThan(0.65);
    expect(model.validation.ks).toBeGreaterThan(0.25);
    for (const c of model.characteristics) expect(c.coefficient).toBeGreaterThanOrEqual(0);
  });
});

describe("monotonic effects", () => {
  const incomes = [0n, 50_000n, 150_000n, 250_000n, 399_900n, 400_000n, 700_000n, 1_200_000n, 3_000_000n, 10_000_000n];
  const counts = [0, 1, 2, 3, 4, 8, 10, 11, 20, 30, 31, 60, 200];

  it("more income never lowers the score", () => {
    for (const base of [goodInputs, weakInputs]) {
      const s = incomes.map((monthlyIncomeFen) => score({ ...base, monthlyIncomeFen }));
      for (let i = 1; i < s.length; i++) expect(s[i]).toBeGreaterThanOrEqual(s[i - 1]!);
      expect(s.at(-1)).toBeGreaterThan(s[0]!);
    }
  });

  it("more orders never lowers the score (returns held fixed)", () => {
    for (const base of [goodInputs, weakInputs]) {
      const s = counts.map((ordersLast12m) => score({ ...base, ordersLast12m, returnsLast12m: 0 }));
      for (let i = 1; i < s.length; i++) expect(s[i]).toBeGreaterThanOrEqual(s[i - 1]!);
      expect(s.at(-1)).toBeGreaterThan(s[0]!);
    }
  });

  it("more returns never raises the score", () => {
    const s = [0, 1, 2, 5, 8, 12, 20, 30, 40].map((returnsLast12m) => score({ ...goodInputs, ordersLast12m: 40, returnsLast12m }));
    for (let i = 1; i < s.length; i++) expect(s[i]).toBeLessThanOrEqual(s[i - 1]!);
    expect(s.at(-1)).toBeLessThan(s[0]!);
  });

  it("more spend and an older platform account never lower the score", () => {
    const spend = [0n, 40_000n, 100_000n, 500_000n, 1_000_000n, 5_000_000n].map((spendLast12mFen) => score({ ...weakInputs, spendLast12mFen }));
    const age = [0, 2, 3, 12, 40, 100].map((accountAgeMonths) => score({ ...weakInputs, accountAgeMonths }));
    for (const s of [spend, age]) for (let i = 1; i < s.length; i++) expect(s[i]).toBeGreaterThanOrEqual(s[i - 1]!);
  });

  it("higher score means lower PD", () => {
    expect(pdFromScore(model, 600)).toBeCloseTo(1 / 51, 3); // 50:1 at the base score
    expect(pdFromScore(model, 620)).toBeCloseTo(1 / 101, 3); // PDO 20 doubles the odds
    expect(pdFromScore(model, 540)).toBeGreaterThan(pdFromScore(model, 541));
  });
});

describe("reason codes", () => {
  it("are the largest negative contributions against each characteristic's best attribute, largest first", () => {
    const values = characteristicValues(weakInputs);
    const expected = model.characteristics
      .map((c) => ({ code: c.reasonCode, points: binFor(c, values[c.name]).points - Math.max(...c.bins.map((b) => b.points)) }))
      .filter((r) => r.points < 0)
      .sort((a, b) => a.points - b.points)
      .slice(0, 4);
    const r = scoreApplication(model, weakInputs);
    expect(r.reasons.map((x) => ({ code: x.code, points: x.points }))).toEqual(expected);
    expect(r.reasons[0]!.points).toBe(Math.min(...r.contributions.map((c) => c.shortfall)));
    expect(r.reasons.map((x) => x.code)).toContain("R01_LOW_INCOME");
  });

  it("are empty for an applicant at every best attribute", () => {
    const best: ApplicationInputs = { ...goodInputs, monthlyIncomeFen: 5_000_000n, spendLast12mFen: 10_000_000n, accountAgeMonths: 120, ageYears: 55, returnsLast12m: 0 };
    const r = scoreApplication(model, best);
    expect(r.reasons).toEqual([]);
    expect(r.score).toBe(model.characteristics.reduce((s, c) => s + Math.max(...c.bins.map((b) => b.points)), 0));
  });

  it("score is the sum of the attributes' points", () => {
    const r = scoreApplication(model, goodInputs);
    expect(r.score).toBe(r.contributions.reduce((s, c) => s + c.points, 0));
  });
});

describe("tiers, decision and line", () => {
  it("tier boundaries are inclusive lower bounds", () => {
    const t = model.tiers;
    expect([t.A, t.A - 1, t.B, t.B - 1, t.C, t.C - 1, t.D, t.D - 1].map((s) => tierForScore(t, s))).toEqual(["A", "B", "B", "C", "C", "D", "D", "E"]);
  });

  it("declines E, reviews the band above the cut-off, approves the rest", () => {
    const cut = model.tiers.D;
    expect(decide(model, cut - 1)).toBe("DECLINE");
    expect(decide(model, cut)).toBe("MANUAL_REVIEW");
    expect(decide(model, cut + model.manualReviewBand - 1)).toBe("MANUAL_REVIEW");
    expect(decide(model, cut + model.manualReviewBand)).toBe("APPROVE");
    expect(scoreApplication(model, weakInputs).tier).toBe("E");
    expect(["A", "B"]).toContain(scoreApplication(model, goodInputs).tier);
  });

  it("line = income × tier multiple, rounded down to ¥100, within ¥500–¥50,000", () => {
    expect(creditLineFor(model, "A", 1_000_000n)).toBe(3_000_000n);
    expect(creditLineFor(model, "C", 1_234_567n)).toBe(1_480_000n); // 1.2 × ¥12,345.67 = ¥14,814.80 → ¥14,800
    expect(creditLineFor(model, "D", 10_000n)).toBe(DEFAULT_LINE_BOUNDS.minFen);
    expect(creditLineFor(model, "A", 100_000_000n)).toBe(DEFAULT_LINE_BOUNDS.maxFen);
    expect(creditLineFor(model, "E", 1_000_000n)).toBe(0n);
    const byTier = (["A", "B", "C", "D"] as const).map((t) => creditLineFor(model, t, 800_000n));
    for (let i = 1; i < byTier.length; i++) expect(byTier[i]).toBeLessThanOrEqual(byTier[i - 1]!);
  });
});
