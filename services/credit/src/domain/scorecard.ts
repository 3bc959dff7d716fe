/**
 * Application scorecard: logistic regression on weight-of-evidence (WOE) binned
 * characteristics, presented in points form (Siddiqi, "Credit Risk Scorecards",
 * 2006, ch. 10: score = offset + factor·ln(odds), factor = PDO / ln 2).
 *
 * Scaling: 600 points at good:bad odds of 50:1, 20 points to double the odds
 * (PDO). The trained model is a versioned JSON artifact (models/scorecard-v1.json)
 * produced by scripts/train-scorecard.ts; see docs/scorecard.md.
 */
import type { Fen } from "@whiteslip/core";

/** Risk tier, A best … E worst (declined at application). */
export type Tier = "A" | "B" | "C" | "D" | "E";
export const TIERS: readonly Tier[] = ["A", "B", "C", "D", "E"];

/** Declared employment. */
export type Employment = "SALARIED" | "SELF_EMPLOYED" | "STUDENT" | "UNEMPLOYED" | "RETIRED";
export const EMPLOYMENTS: readonly Employment[] = ["SALARIED", "SELF_EMPLOYED", "STUDENT", "UNEMPLOYED", "RETIRED"];

/** What the applicant declared and what the platform knows of their behaviour. */
export interface ApplicationInputs {
  /** Declared monthly income. */
  readonly monthlyIncomeFen: Fen;
  readonly employment: Employment;
  /** Orders on the platform in the last 12 months. */
  readonly ordersLast12m: number;
  /** Spend on the platform in the last 12 months. */
  readonly spendLast12mFen: Fen;
  /** Age of the platform account in months. */
  readonly accountAgeMonths: number;
  /** Returned orders in the last 12 months. */
  readonly returnsLast12m: number;
  /** Applicant's age in years. */
  readonly ageYears: number;
}

/** Names of the scorecard's characteristics. */
export type CharacteristicName =
  | "monthly_income"
  | "employment"
  | "orders_12m"
  | "spend_12m"
  | "account_age"
  | "returns_ratio"
  | "age";

/**
 * The raw value of each characteristic: income and spend in yuan (binning is
 * coarse, so whole yuan lose nothing), returns ratio = returns / orders (0 with
 * no orders, capped at 1).
 */
export function characteristicValues(x: ApplicationInputs): Record<CharacteristicName, number | string> {
  const orders = Math.max(0, x.ordersLast12m);
  return {
    monthly_income: Number(x.monthlyIncomeFen / 100n),
    employment: x.employment,
    orders_12m: orders,
    spend_12m: Number(x.spendLast12mFen / 100n),
    account_age: x.accountAgeMonths,
    returns_ratio: orders === 0 ? 0 : Math.min(1, Math.max(0, x.returnsLast12m) / orders),
    age: x.ageYears,
  };
}

/** One attribute (bin) of a characteristic with its WOE and points. */
export interface Bin {
  /** Label, e.g. `[4000, 6000)` or `SALARIED`. */
  readonly label: string;
  /** Numeric bins: inclusive lower bound (null = −∞). */
  readonly min?: number | null;
  /** Numeric bins: exclusive upper bound (null = +∞). */
  readonly max?: number | null;
  /** Categorical bins: the category. */
  readonly category?: string;
  /** ln(%good / %bad) in the training sample (after monotone smoothing). */
  readonly woe: number;
  /** Scorecard points for this attribute. */
  readonly points: number;
  /** Training observations in the bin. */
  readonly count: number;
  /** Bad rate in the bin. */
  readonly badRate: number;
}

/** A characteristic with its reason code and bins. */
export interface Characteristic {
  readonly name: CharacteristicName;
  /** Reason code reported when this characteristic costs points, e.g. `R03_LOW_ORDER_HISTORY`. */
  readonly reasonCode: string;
  /** Explanation shown with the reason code. */
  readonly reasonText: string;
  /** LR coefficient of the WOE feature (≥ 0). */
  readonly coefficient: number;
  readonly bins: readonly Bin[];
}

/** Score cut-offs: the lowest score of each tier A–D; below D's is E. */
export interface TierCutoffs {
  readonly A: number;
  readonly B: number;
  readonly C: number;
  readonly D: number;
}

/** The versioned model artifact (models/scorecard-v*.json). */
export interface ScorecardModel {
  readonly version: string;
  readonly trainedAt: string;
  readonly scaling: { readonly baseScore: number; readonly baseOdds: number; readonly pdo: number; readonly factor: number; readonly offset: number };
  readonly intercept: number;
  readonly characteristics: readonly Characteristic[];
  readonly tiers: TierCutoffs;
  /** Scores in [tiers.D, tiers.D + manualReviewBand) go to manual review. */
  readonly manualReviewBand: number;
  /** Monthly-income multiple of the credit line per approved tier. */
  readonly lineMultipliers: { readonly A: number; readonly B: number; readonly C: number; readonly D: number };
  readonly training: Readonly<Record<string, unknown>>;
  readonly validation: { readonly tierShares: Readonly<Record<string, number>>; readonly auc: number; readonly ks: number; readonly holdoutSize: number; readonly badRate: number };
}

/** The attribute an input falls in. Throws if the model has a gap (a broken artifact). */
export function binFor(c: Characteristic, value: number | string): Bin {
  const bin =
    typeof value === "string"
      ? c.bins.find((b) => b.category === value)
      : c.bins.find((b) => (b.min == null || value >= b.min) && (b.max == null || value < b.max));
  if (!bin) throw new Error(`scorecard: no bin of ${c.name} for value ${String(value)}`);
  return bin;
}

/** One characteristic's share of a score. */
export interface Contribution {
  readonly characteristic: CharacteristicName;
  readonly bin: string;
  readonly points: number;
  /** Points minus the best attribute's points (≤ 0): what this characteristic cost. */
  readonly shortfall: number;
}

/** A reason code: a characteristic that cost points, largest loss first. */
export interface Reason {
  readonly code: string;
  readonly description: string;
  /** ≤ 0. */
  readonly points: number;
}

/** The result of scoring an application. */
export interface ScoreResult {
  readonly score: number;
  /** Probability of default implied by the score. */
  readonly pd: number;
  readonly tier: Tier;
  readonly contributions: readonly Contribution[];
  readonly reasons: readonly Reason[];
}

/** At most this many reason codes are returned (US adverse-action practice: four). */
export const MAX_REASONS = 4;

/**
 * Scores inputs: sums each characteristic's attribute points, derives PD from the
 * scaling, picks the tier and lists reason codes — the characteristics whose
 * attribute is below their best attribute, largest shortfall first (ties by name).
 */
export function scoreApplication(model: ScorecardModel, inputs: ApplicationInputs): ScoreResult {
  const values = characteristicValues(inputs);
  const contributions: Contribution[] = model.characteristics.map((c) => {
    const bin = binFor(c, values[c.name]);
    const best = Math.max(...c.bins.map((b) => b.points));
    return { characteristic: c.name, bin: bin.label, points: bin.points, shortfall: bin.points - best };
  });
  const score = contributions.reduce((s, c) => s + c.points, 0);
  const reasons = contributions
    .filter((c) => c.shortfall < 0)
    .sort((a, b) => a.shortfall - b.shortfall || a.characteristic.localeCompare(b.characteristic))
    .slice(0, MAX_REASONS)
    .map((c) => {
      const ch = model.characteristics.find((m) => m.name === c.characteristic)!;
      return { code: ch.reasonCode, description: ch.reasonText, points: c.shortfall };
    });
  return { score, pd: pdFromScore(model, score), tier: tierForScore(model.tiers, score), contributions, reasons };
}

/** PD = 1 / (1 + odds), odds = e^((score − offset) / factor). */
export function pdFromScore(model: Pick<ScorecardModel, "scaling">, score: number): number {
  const odds = Math.exp((score - model.scaling.offset) / model.scaling.factor);
  return 1 / (1 + odds);
}

/** The tier a score falls in. */
export function tierForScore(t: TierCutoffs, score: number): Tier {
  if (score >= t.A) return "A";
  if (score >= t.B) return "B";
  if (score >= t.C) return "C";
  if (score >= t.D) return "D";
  return "E";
}

/** The application outcome. */
export type ApplicationDecision = "APPROVE" | "DECLINE" | "MANUAL_REVIEW";

/**
 * Tier E is declined; a score in the band just above the cut-off (tier D's
 * lowest score) goes to a person; everything else is approved.
 */
export function decide(model: Pick<ScorecardModel, "tiers" | "manualReviewBand">, score: number): ApplicationDecision {
  if (score < model.tiers.D) return "DECLINE";
  if (score < model.tiers.D + model.manualReviewBand) return "MANUAL_REVIEW";
  return "APPROVE";
}

/** Product bounds of a credit line (*default* ¥500–¥50,000). */
export interface LineBounds {
  readonly minFen: Fen;
  readonly maxFen: Fen;
}
export const DEFAULT_LINE_BOUNDS: LineBounds = { minFen: 50_000n, maxFen: 5_000_000n };

/**
 * Credit line for an approved tier: monthly income × the tier's multiple,
 * rounded down to ¥100, clamped to the product bounds. Tier E gets nothing.
 */
export function creditLineFor(
  model: Pick<ScorecardModel, "lineMultipliers">,
  tier: Tier,
  monthlyIncomeFen: Fen,
  bounds: LineBounds = DEFAULT_LINE_BOUNDS,
): Fen {
  if (tier === "E") return 0n;
  // multiplier in hundredths to stay in integers
  const m = BigInt(Math.round(model.lineMultipliers[tier] * 100));
  const raw = ((monthlyIncomeFen * m) / 100n / 10_000n) * 10_000n;
  return raw < bounds.minFen ? bounds.minFen : raw > bounds.maxFen ? bounds.maxFen : raw;
}
