import { describe, expect, it } from "vitest";
import { normalCdf, twoProportionZ, wilson } from "../src/domain/significance";

describe("Wilson interval and two-proportion z-test against published values", () => {
  it("Wilson 95 % for 8/10 is [0.4902, 0.9433] and for 0/20 [0, 0.1611]", () => {
    const a = wilson(8, 10);
    expect(a.low).toBeCloseTo(0.4902, 4);
    expect(a.high).toBeCloseTo(0.9433, 4);
    const b = wilson(0, 20);
    expect(b.low).toBe(0);
    expect(b.high).toBeCloseTo(0.1611, 4);
    expect(wilson(0, 0)).toEqual({ rate: 0, low: 0, high: 1 });
  });
  it("normal CDF: Φ(1.96) = 0.9750, Φ(−1) = 0.1587", () => {
    expect(normalCdf(1.96)).toBeCloseTo(0.975, 4);
    expect(normalCdf(-1)).toBeCloseTo(0.158655, 5);
  });
  it("50/100 against 60/100: z = −1.4213, p = 0.1552; 120/200 against 80/200: z = 4.0000 (pooled SE 0.05), p < 0.0001", () => {
    const t = twoProportionZ(50, 100, 60, 100);
    expect(t.z).toBeCloseTo(-1.4213, 4);
    expect(t.pValue).toBeCloseTo(0.1552, 4);
    const u = twoProportionZ(120, 200, 80, 200);
    expect(u.z).toBeCloseTo(4, 4);
    expect(u.pValue).toBeLessThan(0.0001);
    expect(twoProportionZ(0, 10, 0, 10)).toEqual({ z: 0, pValue: 1 });
  });
});
