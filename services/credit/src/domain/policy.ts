/**
 * Product configuration of the credit service. Every number here is a
 * *default* of the domain rules (shared/design/domain.md, "Credit"), overridable
 * through configuration, never a constant buried in a rule.
 */
import type { Fen } from "@whiteslip/core";
import type { Tier } from "./scorecard";

/** A capability of an account that can be restricted. */
export type Feature = "NEW_PURCHASES" | "PROMOTIONS" | "LINE_INCREASES" | "INSTALLMENTS";
export const FEATURES: readonly Feature[] = ["NEW_PURCHASES", "PROMOTIONS", "LINE_INCREASES", "INSTALLMENTS"];

/** Where a purchase happens. */
export type MerchantScenario = "PLATFORM_RETAIL" | "PLATFORM_SERVICES" | "MARKETPLACE" | "CASH" | "EXTERNAL" | "UNSPECIFIED";

/** The credit product's configurable rules. */
export interface CreditPolicy {
  /** Product configuration code sent to billing with a new line. */
  readonly productCode: string;
  /** Credit line bounds (*default* ¥500–¥50,000). */
  readonly minLineFen: Fen;
  readonly maxLineFen: Fen;
  /** Features lost while overdue (*default* new purchases, promotions, line increases, installments). */
  readonly restrictedFeatures: readonly Feature[];
  /** Days past due from which the restrictions apply (*default* 1). */
  readonly restrictFromDpd: number;
  /** Days an uncaptured hold lives (*default* 7). */
  readonly holdTtlDays: number;
  /** Merchant scenarios the product covers: the platform's own goods and services. */
  readonly allowedScenarios: readonly MerchantScenario[];
  /** Installment terms offered (months). */
  readonly installmentTerms: readonly number[];
  /** Tiers whose accounts get a risk flag when a due date approaches (*default* D, E). */
  readonly riskFlagTiers: readonly Tier[];
  /** Days between periodic rescorings of a line (*default* 30, monthly). */
  readonly rescoringCadenceDays: number;
  /** Line increase on a tier upgrade to A/B, percent of the current limit (*default* 125 → +25%). */
  readonly lineIncreasePct: number;
  /** Line decrease on a downgrade to D, percent kept (*default* 70 → −30%). */
  readonly lineDecreasePct: number;
  /**
   * No line increase by rescoring within this many days of the line's last delinquency (its last Overdue or
   * cure business date) (*default* 180). A cure lifts the overlay's "currently overdue" penalty at once, and
   * without a cooling period that alone could grow the line of an account that was 30 days late last week.
   */
  readonly lineIncreaseCoolingDays: number;
}

/** The defaults of the domain rules. */
export const DEFAULT_POLICY: CreditPolicy = {
  productCode: "baitiao-standard", // billing's default product (services/billing/src/domain/product.ts)
  minLineFen: 50_000n,
  maxLineFen: 5_000_000n,
  restrictedFeatures: FEATURES,
  restrictFromDpd: 1,
  holdTtlDays: 7,
  allowedScenarios: ["PLATFORM_RETAIL", "PLATFORM_SERVICES", "MARKETPLACE"],
  installmentTerms: [3, 6, 12, 24],
  riskFlagTiers: ["D", "E"],
  rescoringCadenceDays: 30,
  lineIncreasePct: 125,
  lineDecreasePct: 70,
  lineIncreaseCoolingDays: 180,
};
