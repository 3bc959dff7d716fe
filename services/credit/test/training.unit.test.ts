import { describe, expect, it } from "vitest";
import { auc, fitLogisticIrls, generateSyntheticSample, isotonic, ks, mulberry32, solve } from "../src/domain/training";

describe("training building blocks", () => {
  it("the PRNG is deterministic per seed", () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const c = mulberry32(8);
    const xs = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(xs);
    expect(c()).not.toBe(xs[0]);
  });

  it("the synthetic sample is the same for the same seed and differs for another", () => {
    const s1 = generateSyntheticSample(300, 42);
    expect(generateSyntheticSample(300, 42)).toEqual(s1);
    expect(generateSyntheticSample(300, 43)).not.toEqual(s1);
    for (const s of s1) {
      expect(s.inputs.returnsLast12m).toBeLessThanOrEqual(s.inputs.ordersLast12m);
      expect(s.inputs.ageYears).toBeGreaterThanOrEqual(18);
    }
  });

  it("isotonic regression pools adjacent violators", () => {
    expect(isotonic([1, 3, 2, 4], [1, 1, 1, 1])).toEqual([1, 2.5, 2.5, 4]);
    expect(isotonic([3, 2, 1], [1, 1, 2])).toEqual([1.75, 1.75, 1.75]);
    expect(isotonic([1, 2, 3], [1, 1, 1])).toEqual([1, 2, 3]);
  });

  it("solves a linear system", () => {
    const x = solve([[2, 1], [1, 3]], [3, 5]);
    expect(x[0]).toBeCloseTo(0.8);
    expect(x[1]).toBeCloseTo(1.4);
  });

  it("IRLS recovers the coefficients of a known logistic process", () => {
    const rand = mulberry32(1);
    const X: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const x1 = rand() * 4 - 2;
      const x2 = rand() * 4 - 2;
      X.push([1, x1, x2]);
      y.push(rand() < 1 / (1 + Math.exp(-(0.5 + 1.5 * x1 - 0.8 * x2))) ? 1 : 0);
    }
    const { beta } = fitLogisticIrls(X, y);
    expect(beta[0]).toBeCloseTo(0.5, 1);
    expect(beta[1]).toBeCloseTo(1.5, 1);
    expect(beta[2]).toBeCloseTo(-0.8, 1);
  });

  it("AUC and KS: 1 for a perfect ranking, 0.5/0 for none", () => {
    expect(auc([1, 2, 3, 4], [true, true, false, false])).toBe(1);
    expect(ks([1, 2, 3, 4], [true, true, false, false])).toBe(1);
    expect(auc([1, 1, 1, 1], [true, false, true, false])).toBe(0.5);
    expect(ks([1, 1, 1, 1], [true, false, true, false])).toBe(0);
  });
});
