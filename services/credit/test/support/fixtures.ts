import { type CreditLine, openLine } from "../../src/domain/credit-line";
import type { ApplicationInputs } from "../../src/domain/scorecard";
import { nationalIdCheckChar } from "../../src/domain/identity";

/** A valid resident ID for a birth date and sequence (check digit computed). */
export function validNationalId(birth = "19900307", region = "110105", seq = "123"): string {
  const first17 = `${region}${birth}${seq}`;
  return first17 + nationalIdCheckChar(first17);
}

/** A solid applicant (approves in tier A/B with the v1 model). */
export const goodInputs: ApplicationInputs = {
  monthlyIncomeFen: 1_500_000n,
  employment: "SALARIED",
  ordersLast12m: 40,
  spendLast12mFen: 2_500_000n,
  accountAgeMonths: 80,
  returnsLast12m: 1,
  ageYears: 40,
};

/** A weak applicant (declines with the v1 model). */
export const weakInputs: ApplicationInputs = {
  monthlyIncomeFen: 100_000n,
  employment: "UNEMPLOYED",
  ordersLast12m: 0,
  spendLast12mFen: 0n,
  accountAgeMonths: 1,
  returnsLast12m: 0,
  ageYears: 20,
};

/** An open line for domain tests. */
export function aLine(over: Partial<CreditLine> = {}): CreditLine {
  const { line } = openLine({
    id: "cl_1",
    customerId: "cus_1",
    applicationId: "app_1",
    productCode: "P",
    statementDay: 5,
    modelVersion: "scorecard-v1",
    monthlyIncomeFen: 1_000_000n,
    score: 590,
    tier: "B",
    limitFen: 1_000_000n,
    at: new Date("2026-03-01T00:00:00Z"),
  });
  return { ...line, ...over };
}
