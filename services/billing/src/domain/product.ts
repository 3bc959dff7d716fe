/**
 * Product configuration: the numbers the domain rules call *default* (grace
 * days, reminder offsets, fee and interest rates, the cost cap, the charge-off
 * day). Validated once at start; a product whose longest interest-free period
 * would exceed 59 days is refused.
 */
import { addDays, addMonths, daysBetween, type Fen, type FieldViolation, type LocalDate } from "@whiteslip/core";

/** Installment terms a purchase (or a repayment plan) may be split into. */
export const INSTALLMENT_TERMS = [3, 6, 12, 24] as const;
/** One of the allowed installment terms. */
export type InstallmentTerm = (typeof INSTALLMENT_TERMS)[number];

/** The longest interest-free period the product may offer (domain rule). */
export const MAX_INTEREST_FREE_DAYS = 59;

/** How the minimum payment of a statement is computed. */
export type MinimumPaymentRule =
  /** The full statement balance (default). */
  | { kind: "full" }
  /** `principalPpm` of the principal plus all fees and interest. */
  | { kind: "percent-of-principal"; principalPpm: number };

/** A product's servicing configuration. Rates are parts per million (ppm). */
export interface ProductConfig {
  /** Product code, e.g. `baitiao-standard`. */
  code: string;
  /** Due date = statement date + grace days (default 29). */
  graceDays: number;
  /** DueSoon is emitted this many days before a due date (default [5]). */
  reminderOffsets: number[];
  /** Late fee as ppm of the overdue amount of a missed statement (default 50 000 = 5 %). */
  lateFeePpm: number;
  /** Minimum late fee (default ¥1 = 100 fen). */
  lateFeeMinFen: Fen;
  /** Penalty interest per day on overdue principal (default 500 ppm = 0.05 %/day). */
  penaltyInterestPpmPerDay: number;
  /** Interest per day on a revolving balance carried after a minimum payment (default 500 ppm). */
  revolvingInterestPpmPerDay: number;
  /** Installment fee per month, by term, in ppm of the purchase principal. */
  installmentFeePpmPerMonth: Record<InstallmentTerm, number>;
  /** All-in annualised cost cap (default 240 000 ppm = 24 %/year); accrual stops at the cap. */
  costCapPpmPerYear: number;
  /** Days past due at which the account is charged off (default 181). */
  chargeOffDpd: number;
  /** Minimum payment rule (default full balance). */
  minimumPayment: MinimumPaymentRule;
  /** Residue of a due amount ignored for delinquency (default ¥0). */
  toleranceFen: Fen;
}

/** The default product: the numbers of the domain rules. */
export const defaultProduct: ProductConfig = {
  code: "baitiao-standard",
  graceDays: 29,
  reminderOffsets: [5],
  lateFeePpm: 50_000,
  lateFeeMinFen: 100n,
  penaltyInterestPpmPerDay: 500,
  revolvingInterestPpmPerDay: 500,
  installmentFeePpmPerMonth: { 3: 6_000, 6: 6_000, 12: 5_000, 24: 5_000 },
  costCapPpmPerYear: 240_000,
  chargeOffDpd: 181,
  minimumPayment: { kind: "full" },
  toleranceFen: 0n,
};

/** Reference window for the interest-free computation: 2024–2027 covers a leap year and every month length. */
const WINDOW_START: LocalDate = "2024-01-01";
const WINDOW_MONTHS = 48;

/**
 * The longest interest-free period of a product with `graceDays`, in days from
 * the purchase date to the due date (a purchase on the statement date is free
 * for exactly `graceDays`).
 *
 * A purchase made the day after statement date S(k) is billed on the next
 * statement S(k+1) = S(k) + 1 month and is due on S(k+1) + grace. Its
 * interest-free period is `daysBetween(S(k)+1, S(k+1)+grace) = cycle − 1 + grace`
 * where `cycle = daysBetween(S(k), S(k+1))`. For statement days 1–28 the cycle is
 * 28 (Feb in a common year), 29, 30 or 31 days; the longest is 31 (e.g. Jan 15 →
 * Feb 15, Jul 1 → Aug 1), so the longest period is `30 + grace`: 59 days at the
 * default grace of 29, and any grace above 29 is refused. Computed by
 * enumeration over every statement day 1–28 across a 4-year window rather than
 * assumed.
 */
export function longestInterestFreeDays(graceDays: number): { days: number; statementDate: LocalDate; purchaseDate: LocalDate; dueDate: LocalDate } {
  let best = { days: -1, statementDate: "", purchaseDate: "", dueDate: "" };
  for (let day = 1; day <= 28; day++) {
    for (let m = 0; m < WINDOW_MONTHS; m++) {
      const statement = addMonths(`${WINDOW_START.slice(0, 8)}${String(day).padStart(2, "0")}`, m);
      const next = addMonths(statement, 1);
      const purchaseDate = addDays(statement, 1);
      const dueDate = addDays(next, graceDays);
      const days = daysBetween(purchaseDate, dueDate);
      if (days > best.days) best = { days, statementDate: statement, purchaseDate, dueDate };
    }
  }
  return best;
}

/**
 * Approximate APR (ppm/year) of a flat monthly installment fee on a declining
 * principal repaid in `n` equal parts: fees total `n·r·P` over an average
 * balance of `P(n+1)/2n` for `n/12` years → `r·12·2n/(n+1)`.
 */
export function installmentFeeAprPpm(ratePpmPerMonth: number, n: number): number {
  return Math.round((ratePpmPerMonth * 12 * 2 * n) / (n + 1));
}

/** Checks a product; returns the violations (empty when valid). */
export function productViolations(p: ProductConfig): FieldViolation[] {
  const v: FieldViolation[] = [];
  const intIn = (x: number, lo: number, hi: number) => Number.isInteger(x) && x >= lo && x <= hi;
  if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(p.code)) v.push({ field: "code", description: `product code ${JSON.stringify(p.code)} must be lowercase letters, digits and dashes` });
  if (!intIn(p.graceDays, 0, 60)) v.push({ field: "graceDays", description: `grace days ${p.graceDays} must be an integer 0–60` });
  else {
    const longest = longestInterestFreeDays(p.graceDays);
    if (longest.days > MAX_INTEREST_FREE_DAYS)
      v.push({
        field: "graceDays",
        description: `grace days ${p.graceDays} give a longest interest-free period of ${longest.days} days (purchase ${longest.purchaseDate}, due ${longest.dueDate}); the product maximum is ${MAX_INTEREST_FREE_DAYS}`,
      });
  }
  if (p.reminderOffsets.length === 0) v.push({ field: "reminderOffsets", description: "at least one reminder offset is required" });
  if (new Set(p.reminderOffsets).size !== p.reminderOffsets.length) v.push({ field: "reminderOffsets", description: "reminder offsets must be distinct" });
  p.reminderOffsets.forEach((o, i) => {
    if (!intIn(o, 1, Math.max(1, p.graceDays))) v.push({ field: `reminderOffsets[${i}]`, description: `offset ${o} must be an integer 1–${p.graceDays} (grace days)` });
  });
  if (!intIn(p.lateFeePpm, 0, 1_000_000)) v.push({ field: "lateFeePpm", description: `late fee ${p.lateFeePpm} ppm must be 0–1000000` });
  if (p.lateFeeMinFen < 0n) v.push({ field: "lateFeeMinFen", description: "minimum late fee must be ≥ 0" });
  if (!intIn(p.penaltyInterestPpmPerDay, 0, 10_000)) v.push({ field: "penaltyInterestPpmPerDay", description: `penalty interest ${p.penaltyInterestPpmPerDay} ppm/day must be 0–10000` });
  if (!intIn(p.revolvingInterestPpmPerDay, 0, 10_000)) v.push({ field: "revolvingInterestPpmPerDay", description: `revolving interest ${p.revolvingInterestPpmPerDay} ppm/day must be 0–10000` });
  if (!intIn(p.costCapPpmPerYear, 1, 1_000_000)) v.push({ field: "costCapPpmPerYear", description: `cost cap ${p.costCapPpmPerYear} ppm/year must be 1–1000000` });
  for (const n of INSTALLMENT_TERMS) {
    const r = p.installmentFeePpmPerMonth[n];
    if (r === undefined || !intIn(r, 0, 100_000)) v.push({ field: `installmentFeePpmPerMonth.${n}`, description: `installment fee for ${n} months must be 0–100000 ppm/month` });
    else if (installmentFeeAprPpm(r, n) > p.costCapPpmPerYear)
      v.push({ field: `installmentFeePpmPerMonth.${n}`, description: `installment fee ${r} ppm/month over ${n} months costs ~${installmentFeeAprPpm(r, n)} ppm/year, above the cost cap ${p.costCapPpmPerYear}` });
  }
  if (!intIn(p.chargeOffDpd, 31, 720)) v.push({ field: "chargeOffDpd", description: `charge-off day ${p.chargeOffDpd} must be an integer 31–720` });
  if (p.minimumPayment.kind === "percent-of-principal" && !intIn(p.minimumPayment.principalPpm, 1, 1_000_000))
    v.push({ field: "minimumPayment.principalPpm", description: "minimum share of principal must be 1–1000000 ppm" });
  if (p.toleranceFen < 0n || p.toleranceFen > 10_000n) v.push({ field: "toleranceFen", description: "tolerance must be 0–10000 fen" });
  return v;
}

/** Thrown at start when a product configuration is invalid. */
export class ProductConfigError extends Error {
  override readonly name = "ProductConfigError";
  constructor(readonly code: string, readonly violations: FieldViolation[]) {
    super(`invalid product ${code}: ${violations.map((x) => `${x.field}: ${x.description}`).join("; ")}`);
  }
}

/** Returns the product when valid; throws ProductConfigError naming each bad setting otherwise. */
export function validateProduct(p: ProductConfig): ProductConfig {
  const v = productViolations(p);
  if (v.length > 0) throw new ProductConfigError(p.code, v);
  return p;
}

/** A set of products with a default. */
export interface ProductCatalog {
  /** The product used when a request names none. */
  defaultCode: string;
  /** Products by code. */
  products: ReadonlyMap<string, ProductConfig>;
}

/** Builds a validated catalog; the first product is the default. */
export function productCatalog(products: ProductConfig[]): ProductCatalog {
  if (products.length === 0) throw new ProductConfigError("(none)", [{ field: "products", description: "at least one product is required" }]);
  const map = new Map<string, ProductConfig>();
  for (const p of products) {
    validateProduct(p);
    if (map.has(p.code)) throw new ProductConfigError(p.code, [{ field: "code", description: "duplicate product code" }]);
    map.set(p.code, p);
  }
  return { defaultCode: products[0]!.code, products: map };
}

/** Parses products from JSON (money as strings or numbers of fen), filling defaults; throws ProductConfigError. */
export function parseProducts(json: string): ProductConfig[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    throw new ProductConfigError("(json)", [{ field: "BILLING_PRODUCTS_JSON", description: `not JSON: ${(e as Error).message}` }]);
  }
  if (!Array.isArray(raw)) throw new ProductConfigError("(json)", [{ field: "BILLING_PRODUCTS_JSON", description: "must be a JSON array of products" }]);
  return raw.map((r: Record<string, unknown>) => ({
    ...defaultProduct,
    ...r,
    lateFeeMinFen: BigInt((r.lateFeeMinFen as string | number | undefined) ?? defaultProduct.lateFeeMinFen),
    toleranceFen: BigInt((r.toleranceFen as string | number | undefined) ?? defaultProduct.toleranceFen),
    installmentFeePpmPerMonth: { ...defaultProduct.installmentFeePpmPerMonth, ...((r.installmentFeePpmPerMonth as object) ?? {}) },
  })) as ProductConfig[];
}
