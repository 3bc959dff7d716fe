/**
 * Scorecard training, pure and deterministic for a seed: a synthetic applicant
 * population from a stated latent-risk process, WOE binning with monotone
 * smoothing, logistic regression by IRLS, points scaling, and AUC/KS on a
 * holdout. docs/scorecard.md states the process; scripts/train-scorecard.ts
 * writes the artifact.
 */
import {
  type ApplicationInputs,
  type Bin,
  type Characteristic,
  type CharacteristicName,
  EMPLOYMENTS,
  type Employment,
  type ScorecardModel,
  characteristicValues,
} from "./scorecard";

/** Mulberry32: a small, fast, seedable PRNG (public domain, T. Ettinger). Returns [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal by Box–Muller from a uniform source. */
function normal(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** One synthetic applicant with the 12-month default outcome. */
export interface Sample {
  readonly inputs: ApplicationInputs;
  /** True when the latent process defaulted. */
  readonly bad: boolean;
}

/** Employment mix and income distribution per employment: [share, median monthly yuan, log-σ, risk effect]. */
const EMPLOYMENT_PROCESS: Record<Employment, [number, number, number, number]> = {
  SALARIED: [0.55, 8000, 0.5, 0],
  SELF_EMPLOYED: [0.18, 9000, 0.8, 0.3],
  STUDENT: [0.12, 1500, 0.5, 0.45],
  UNEMPLOYED: [0.07, 800, 0.7, 0.9],
  RETIRED: [0.08, 4000, 0.4, 0.1],
};

/**
 * The latent log-odds of default for an applicant (docs/scorecard.md):
 * −2.6 − 0.55·ln(income/5000) + employment effect − 0.30·ln(1+orders)
 * − 0.10·ln(1 + spend/1000) − 0.25·ln(1 + accountAgeMonths/12) + 2.0·returnsRatio
 * + youth effect (0.6 under 23, 0.3 under 28).
 */
export function latentLogOdds(x: ApplicationInputs): number {
  const v = characteristicValues(x);
  const income = Math.max(100, v.monthly_income as number);
  const youth = x.ageYears < 23 ? 0.6 : x.ageYears < 28 ? 0.3 : 0;
  return (
    -2.6 -
    0.55 * Math.log(income / 5000) +
    EMPLOYMENT_PROCESS[x.employment][3] -
    0.3 * Math.log1p(v.orders_12m as number) -
    0.1 * Math.log1p((v.spend_12m as number) / 1000) -
    0.25 * Math.log1p(x.accountAgeMonths / 12) +
    2.0 * (v.returns_ratio as number) +
    youth
  );
}

/**
 * Draws `n` applicants with the seeded process of docs/scorecard.md; each
 * defaults with probability σ(latent log-odds + N(0, 0.5²)) (unobserved noise).
 */
export function generateSyntheticSample(n: number, seed: number): Sample[] {
  const rand = mulberry32(seed);
  const out: Sample[] = [];
  for (let i = 0; i < n; i++) {
    const age = 18 + Math.floor(rand() * 48); // 18–65
    let employment = pickEmployment(rand());
    if (employment === "STUDENT" && age > 30) employment = "SALARIED";
    if (employment === "RETIRED" && age < 50) employment = "SALARIED";
    const [, median, sigma] = EMPLOYMENT_PROCESS[employment];
    const incomeYuan = Math.round(median * Math.exp(sigma * normal(rand)));
    const accountAgeMonths = Math.min(180, Math.floor(-36 * Math.log(Math.max(rand(), 1e-12))));
    const orders = Math.min(300, Math.floor(Math.exp(2.0 + 1.1 * normal(rand)) * (accountAgeMonths < 3 ? 0.3 : 1)));
    const ticketYuan = 150 * Math.exp(0.6 * normal(rand)) * Math.min(3, Math.max(0.5, incomeYuan / 8000));
    const spendYuan = Math.round(orders * ticketYuan);
    const returnP = 0.03 + 0.35 * rand() ** 4;
    let returns = 0;
    for (let k = 0; k < orders; k++) if (rand() < returnP) returns++;
    const inputs: ApplicationInputs = {
      monthlyIncomeFen: BigInt(incomeYuan) * 100n,
      employment,
      ordersLast12m: orders,
      spendLast12mFen: BigInt(spendYuan) * 100n,
      accountAgeMonths,
      returnsLast12m: returns,
      ageYears: age,
    };
    const logit = latentLogOdds(inputs) + 0.5 * normal(rand);
    out.push({ inputs, bad: rand() < 1 / (1 + Math.exp(-logit)) });
  }
  return out;
}

function pickEmployment(u: number): Employment {
  let acc = 0;
  for (const e of EMPLOYMENTS) {
    acc += EMPLOYMENT_PROCESS[e][0];
    if (u < acc) return e;
  }
  return "SALARIED";
}

/** How a characteristic is binned before training. */
export interface BinSpec {
  readonly name: CharacteristicName;
  readonly reasonCode: string;
  readonly reasonText: string;
  /** Numeric: ascending cut points; bins are (−∞, e0), [e0, e1), …, [eN, +∞). */
  readonly edges?: readonly number[];
  /** Categorical: the categories. */
  readonly categories?: readonly string[];
  /** +1: higher value never riskier; −1: higher value never safer; 0: no constraint. */
  readonly direction: 1 | -1 | 0;
}

/** The binning of scorecard v1 (cut points in yuan, counts, months, ratio, years). */
export const V1_BINNING: readonly BinSpec[] = [
  { name: "monthly_income", reasonCode: "R01_LOW_INCOME", reasonText: "Declared monthly income is low", edges: [2000, 4000, 6000, 10000, 20000], direction: 1 },
  { name: "employment", reasonCode: "R02_EMPLOYMENT", reasonText: "Employment status carries higher risk", categories: EMPLOYMENTS, direction: 0 },
  { name: "orders_12m", reasonCode: "R03_LOW_ORDER_HISTORY", reasonText: "Few orders on the platform in the last 12 months", edges: [1, 4, 11, 31], direction: 1 },
  { name: "spend_12m", reasonCode: "R04_LOW_SPEND_HISTORY", reasonText: "Low spend on the platform in the last 12 months", edges: [500, 2000, 8000, 20000], direction: 1 },
  { name: "account_age", reasonCode: "R05_NEW_ACCOUNT", reasonText: "Platform account is young", edges: [3, 12, 36, 72], direction: 1 },
  { name: "returns_ratio", reasonCode: "R06_HIGH_RETURNS", reasonText: "High share of returned orders", edges: [0.05, 0.15, 0.3], direction: -1 },
  { name: "age", reasonCode: "R07_AGE_PROFILE", reasonText: "Age group with higher observed risk", edges: [23, 28, 36, 51], direction: 1 },
];

interface RawBin {
  label: string;
  min?: number | null;
  max?: number | null;
  category?: string;
  good: number;
  bad: number;
  woe: number;
}

function binIndex(spec: BinSpec, v: number | string): number {
  if (spec.categories) return spec.categories.indexOf(v as string);
  const edges = spec.edges!;
  let i = 0;
  while (i < edges.length && (v as number) >= edges[i]!) i++;
  return i;
}

function emptyBins(spec: BinSpec): RawBin[] {
  if (spec.categories) return spec.categories.map((c) => ({ label: c, category: c, good: 0, bad: 0, woe: 0 }));
  const e = spec.edges!;
  return Array.from({ length: e.length + 1 }, (_, i) => {
    const min = i === 0 ? null : e[i - 1]!;
    const max = i === e.length ? null : e[i]!;
    return { label: `[${min ?? "-inf"}, ${max ?? "+inf"})`, min, max, good: 0, bad: 0, woe: 0 };
  });
}

/** Weighted pool-adjacent-violators: the non-decreasing sequence closest to `y` in weighted least squares. */
export function isotonic(y: readonly number[], w: readonly number[]): number[] {
  const blocks: { v: number; w: number; n: number }[] = [];
  y.forEach((v, i) => {
    blocks.push({ v, w: w[i]!, n: 1 });
    while (blocks.length > 1 && blocks[blocks.length - 2]!.v > blocks[blocks.length - 1]!.v) {
      const b = blocks.pop()!;
      const a = blocks.pop()!;
      blocks.push({ v: (a.v * a.w + b.v * b.w) / (a.w + b.w), w: a.w + b.w, n: a.n + b.n });
    }
  });
  return blocks.flatMap((b) => Array<number>(b.n).fill(b.v));
}

/**
 * WOE per bin: ln((good_i+½)/G ÷ (bad_i+½)/B) (½ avoids empty-cell infinities),
 * then made monotone in the declared direction by weighted isotonic regression.
 */
export function fitBins(spec: BinSpec, samples: readonly Sample[]): RawBin[] {
  const bins = emptyBins(spec);
  for (const s of samples) {
    const b = bins[binIndex(spec, characteristicValues(s.inputs)[spec.name])]!;
    if (s.bad) b.bad++;
    else b.good++;
  }
  const G = bins.reduce((a, b) => a + b.good, 0);
  const B = bins.reduce((a, b) => a + b.bad, 0);
  const woe = bins.map((b) => Math.log((b.good + 0.5) / G / ((b.bad + 0.5) / B)));
  const w = bins.map((b) => b.good + b.bad + 1);
  const smooth =
    spec.direction === 1 ? isotonic(woe, w) : spec.direction === -1 ? isotonic(woe.map((x) => -x), w).map((x) => -x) : woe;
  bins.forEach((b, i) => {
    b.woe = smooth[i]!;
  });
  return bins;
}

/** Solves A x = b by Gaussian elimination with partial pivoting (A is small and dense). */
export function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r;
    [M[c], M[p]] = [M[p]!, M[c]!];
    const piv = M[c]![c]!;
    if (Math.abs(piv) < 1e-300) throw new Error("singular matrix");
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r]![c]! / piv;
      if (f !== 0) for (let k = c; k <= n; k++) M[r]![k]! -= f * M[c]![k]!;
    }
  }
  return M.map((row, i) => row[n]! / row[i]!);
}

/**
 * Logistic regression by iteratively reweighted least squares (Newton–Raphson):
 * β ← (XᵀWX + λI)⁻¹ XᵀW z with W = p(1−p), z = Xβ + (y−p)/W. `X` rows include the
 * intercept column. Returns the coefficients and the iterations used.
 */
export function fitLogisticIrls(X: readonly number[][], y: readonly number[], maxIter = 50, ridge = 1e-6): { beta: number[]; iterations: number } {
  const p = X[0]!.length;
  let beta = Array<number>(p).fill(0);
  for (let it = 1; it <= maxIter; it++) {
    const H = Array.from({ length: p }, () => Array<number>(p).fill(0));
    const g = Array<number>(p).fill(0);
    X.forEach((row, i) => {
      const eta = row.reduce((s, x, j) => s + x * beta[j]!, 0);
      const mu = 1 / (1 + Math.exp(-eta));
      const w = Math.max(mu * (1 - mu), 1e-10);
      const z = eta + (y[i]! - mu) / w;
      for (let a = 0; a < p; a++) {
        g[a]! += row[a]! * w * z;
        for (let b = 0; b < p; b++) H[a]![b]! += row[a]! * w * row[b]!;
      }
    });
    for (let a = 0; a < p; a++) H[a]![a]! += ridge;
    const next = solve(H, g);
    const delta = Math.max(...next.map((v, j) => Math.abs(v - beta[j]!)));
    beta = next;
    if (delta < 1e-10) return { beta, iterations: it };
  }
  return { beta, iterations: maxIter };
}

/** Area under the ROC curve by the rank-sum (Mann–Whitney) statistic, ties averaged; higher score = good. */
export function auc(scores: readonly number[], bad: readonly boolean[]): number {
  const idx = scores.map((s, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  const ranks = Array<number>(scores.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]!] === scores[idx[i]!]) j++;
    for (let k = i; k <= j; k++) ranks[idx[k]!] = (i + j) / 2 + 1;
    i = j + 1;
  }
  let nGood = 0;
  let rankSumGood = 0;
  bad.forEach((b, i) => {
    if (!b) {
      nGood++;
      rankSumGood += ranks[i]!;
    }
  });
  const nBad = bad.length - nGood;
  return (rankSumGood - (nGood * (nGood + 1)) / 2) / (nGood * nBad);
}

/** Kolmogorov–Smirnov statistic: the largest gap between the bad and good score CDFs. */
export function ks(scores: readonly number[], bad: readonly boolean[]): number {
  const distinct = [...new Set(scores)].sort((a, b) => a - b);
  const nBad = bad.filter(Boolean).length;
  const nGood = bad.length - nBad;
  let best = 0;
  for (const t of distinct) {
    let cb = 0;
    let cg = 0;
    scores.forEach((s, i) => {
      if (s <= t) bad[i] ? cb++ : cg++;
    });
    best = Math.max(best, Math.abs(cb / nBad - cg / nGood));
  }
  return best;
}

/** Training settings (all recorded in the artifact). */
export interface TrainingOptions {
  readonly version: string;
  readonly trainedAt: string;
  readonly seed: number;
  readonly sampleSize: number;
  readonly holdoutFraction: number;
  readonly baseScore: number;
  readonly baseOdds: number;
  readonly pdo: number;
}

export const V1_TRAINING: Omit<TrainingOptions, "trainedAt"> = {
  version: "scorecard-v1",
  seed: 20260101,
  sampleSize: 20_000,
  holdoutFraction: 0.3,
  baseScore: 600,
  baseOdds: 50,
  pdo: 20,
};

/**
 * Trains the scorecard: generate → split (first (1−h)·n train, rest holdout) →
 * WOE bins → IRLS on WOE features (target = good); a characteristic whose
 * coefficient comes out negative is fixed at 0 and the model refitted, so every
 * effect keeps its monotone direction → points → AUC/KS on the holdout.
 */
export function trainScorecard(o: TrainingOptions, binning: readonly BinSpec[] = V1_BINNING): ScorecardModel {
  const all = generateSyntheticSample(o.sampleSize, o.seed);
  const nTrain = Math.round(all.length * (1 - o.holdoutFraction));
  const train = all.slice(0, nTrain);
  const holdout = all.slice(nTrain);
  const bins = binning.map((spec) => fitBins(spec, train));
  const woeRow = (s: Sample) => binning.map((spec, j) => bins[j]![binIndex(spec, characteristicValues(s.inputs)[spec.name])]!.woe);
  const features = train.map(woeRow);
  const y = train.map((s) => (s.bad ? 0 : 1));

  let active = binning.map(() => true);
  let fit = { beta: [] as number[], iterations: 0 };
  let coef: number[] = [];
  for (;;) {
    const cols = active.flatMap((a, j) => (a ? [j] : []));
    fit = fitLogisticIrls(features.map((f) => [1, ...cols.map((j) => f[j]!)]), y);
    coef = binning.map(() => 0);
    cols.forEach((j, k) => {
      coef[j] = fit.beta[k + 1]!;
    });
    const negative = coef.findIndex((c, j) => active[j] && c < 0);
    if (negative < 0) break;
    active = active.map((a, j) => a && j !== negative);
  }
  const intercept = fit.beta[0]!;
  const factor = o.pdo / Math.LN2;
  const offset = o.baseScore - factor * Math.log(o.baseOdds);
  const n = binning.length;
  const characteristics: Characteristic[] = binning.map((spec, j) => ({
    name: spec.name,
    reasonCode: spec.reasonCode,
    reasonText: spec.reasonText,
    coefficient: round6(coef[j]!),
    bins: bins[j]!.map(
      (b): Bin => ({
        label: b.label,
        ...(spec.categories ? { category: b.category! } : { min: b.min ?? null, max: b.max ?? null }),
        woe: round6(b.woe),
        points: Math.round(factor * (coef[j]! * b.woe + intercept / n) + offset / n),
        count: b.good + b.bad,
        badRate: round6(b.bad / Math.max(1, b.good + b.bad)),
      }),
    ),
  }));
  const scoreOf = (s: Sample) => {
    const row = woeRow(s);
    return binning.reduce((sum, spec, j) => sum + characteristics[j]!.bins.find((b) => b.woe === round6(row[j]!))!.points, 0);
  };
  const hs = holdout.map(scoreOf);
  const hb = holdout.map((s) => s.bad);
  return {
    version: o.version,
    trainedAt: o.trainedAt,
    scaling: { baseScore: o.baseScore, baseOdds: o.baseOdds, pdo: o.pdo, factor: round6(factor), offset: round6(offset) },
    intercept: round6(intercept),
    characteristics,
    // Each tier boundary doubles the odds (one PDO): A ≥ 600 (PD ≤ 2%), B ≥ 580 (≤ 3.8%),
    // C ≥ 560 (≤ 7.4%), D ≥ 540 (≤ 13.8%), E below.
    tiers: { A: o.baseScore, B: o.baseScore - o.pdo, C: o.baseScore - 2 * o.pdo, D: o.baseScore - 3 * o.pdo },
    manualReviewBand: 10,
    lineMultipliers: { A: 3, B: 2, C: 1.2, D: 0.6 },
    training: {
      generator: "generateSyntheticSample (docs/scorecard.md)",
      seed: o.seed,
      sampleSize: o.sampleSize,
      trainSize: train.length,
      holdoutFraction: o.holdoutFraction,
      trainBadRate: round6(train.filter((s) => s.bad).length / train.length),
      method: "WOE binning with isotonic smoothing; logistic regression by IRLS",
      iterations: fit.iterations,
    },
    validation: {
      tierShares: Object.fromEntries(
        (["A", "B", "C", "D", "E"] as const).map((t) => {
          const cut = { A: o.baseScore, B: o.baseScore - o.pdo, C: o.baseScore - 2 * o.pdo, D: o.baseScore - 3 * o.pdo };
          const inTier = hs.filter((s) =>
            t === "A" ? s >= cut.A : t === "E" ? s < cut.D : s >= cut[t] && s < cut[(({ B: "A", C: "B", D: "C" }) as const)[t]],
          );
          return [t, round6(inTier.length / hs.length)];
        }),
      ),
      auc: round6(auc(hs, hb)),
      ks: round6(ks(hs, hb)),
      holdoutSize: holdout.length,
      badRate: round6(hb.filter(Boolean).length / holdout.length),
    },
  };
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
