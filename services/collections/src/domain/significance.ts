/**
 * Uncertainty of proportions, written once (champion/challenger outcomes, the simulator): the Wilson score interval
 * for one proportion (E. B. Wilson, 1927 — better than the normal interval at small n or rates near 0 or 1) and the
 * two-proportion z-test with the pooled standard error for a difference between arms. Pure.
 */

/** z for a two-sided 95 % interval. */
export const Z95 = 1.959963984540054;

/** A proportion with its Wilson interval. */
export interface Interval {
  rate: number;
  low: number;
  high: number;
}

/** Wilson score interval of k successes in n trials (rate 0 and [0, 1] when n = 0). */
export function wilson(k: number, n: number, z = Z95): Interval {
  if (n === 0) return { rate: 0, low: 0, high: 1 };
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return { rate: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** Standard normal CDF (Abramowitz & Stegun 7.1.26 erf, |error| < 1.5e-7). */
export function normalCdf(x: number): number {
  const t = 1 / (1 + (0.3275911 * Math.abs(x)) / Math.SQRT2);
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + y) / 2 : (1 - y) / 2;
}

/** Result of a two-proportion z-test. */
export interface ZTest {
  /** (p1 − p2) / pooled standard error; 0 when undefined. */
  z: number;
  /** Two-sided p-value; 1 when undefined (an empty arm, or both rates 0 or 1). */
  pValue: number;
}

/** Two-proportion z-test of k1/n1 against k2/n2 (pooled variance). */
export function twoProportionZ(k1: number, n1: number, k2: number, n2: number): ZTest {
  if (n1 === 0 || n2 === 0) return { z: 0, pValue: 1 };
  const pooled = (k1 + k2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (se === 0) return { z: 0, pValue: 1 };
  const z = (k1 / n1 - k2 / n2) / se;
  return { z, pValue: 2 * (1 - normalCdf(Math.abs(z))) };
}
