import { type FieldViolation, dateInZone, dayOfMonth, deterministicId, failedPrecondition, invalidArgument, notFound } from "@whiteslip/core";
import { type CreditLine, openLine } from "../domain/credit-line";
import { type ApplicationInputs, EMPLOYMENTS, creditLineFor, decide, scoreApplication } from "../domain/scorecard";
import type { CreditDeps } from "./deps";
import type { ApplicationRecord } from "./ports";

/** ApplyForCredit input. */
export interface ApplyForCreditInput extends ApplicationInputs {
  readonly customerId: string;
  /** 1–28, or 0 to let the system choose. */
  readonly statementDay: number;
  readonly idempotencyKey: string;
}

/** ApplyForCredit result: the stored decision and the line opened on approval. */
export interface ApplyForCreditResult {
  readonly application: ApplicationRecord;
  readonly line: CreditLine | null;
}

const MAX_FEN = 10n ** 13n;

function validate(i: ApplyForCreditInput): void {
  const v: FieldViolation[] = [];
  const check = (bad: boolean, field: string, description: string) => bad && v.push({ field, description });
  check(!i.customerId, "customer_id", "is required");
  check(!i.idempotencyKey, "idempotency_key", "is required");
  check(i.monthlyIncomeFen < 0n || i.monthlyIncomeFen > MAX_FEN, "monthly_income_fen", "must be between 0 and 10^13 fen");
  check(!EMPLOYMENTS.includes(i.employment), "employment", "is required");
  check(!Number.isInteger(i.ordersLast12m) || i.ordersLast12m < 0, "orders_last_12m", "must not be negative");
  check(i.spendLast12mFen < 0n || i.spendLast12mFen > MAX_FEN, "spend_last_12m_fen", "must be between 0 and 10^13 fen");
  check(!Number.isInteger(i.accountAgeMonths) || i.accountAgeMonths < 0, "account_age_months", "must not be negative");
  check(i.returnsLast12m < 0 || i.returnsLast12m > i.ordersLast12m, "returns_last_12m", "must be between 0 and orders_last_12m");
  check(!Number.isInteger(i.ageYears) || i.ageYears < 18 || i.ageYears > 100, "age_years", "must be between 18 and 100 (adults only)");
  check(!Number.isInteger(i.statementDay) || i.statementDay < 0 || i.statementDay > 28, "statement_day", "must be 0 (system choice) or 1-28");
  if (v.length > 0) throw invalidArgument(v);
}

/**
 * Scores an application with the scorecard, decides (approve / decline / manual
 * review) and on approval opens a credit line (CreditLineOpened in its outbox).
 * The decision keeps model version, inputs, score, PD, reasons and tier. The
 * application and line ids derive from (customer, idempotency key), so a retry
 * returns the same decision.
 */
export async function applyForCredit(d: Pick<CreditDeps, "clock" | "timeZone" | "customers" | "applications" | "lines" | "model" | "policy">, input: ApplyForCreditInput): Promise<ApplyForCreditResult> {
  validate(input);
  const applicationId = `app_${deterministicId("application", input.customerId, input.idempotencyKey).replaceAll("-", "").slice(0, 24)}`;
  const previous = await d.applications.get(applicationId);
  if (previous) return { application: previous, line: previous.creditLineId ? await d.lines.get(previous.creditLineId) : null };
  if (!(await d.customers.get(input.customerId))) throw notFound("customer", input.customerId);
  if (await d.lines.findByCustomer(input.customerId)) {
    throw failedPrecondition("CUSTOMER_HAS_CREDIT_LINE", `customer ${input.customerId} already has a credit line`);
  }
  const now = d.clock.now();
  const inputs: ApplicationInputs = {
    monthlyIncomeFen: input.monthlyIncomeFen,
    employment: input.employment,
    ordersLast12m: input.ordersLast12m,
    spendLast12mFen: input.spendLast12mFen,
    accountAgeMonths: input.accountAgeMonths,
    returnsLast12m: input.returnsLast12m,
    ageYears: input.ageYears,
  };
  const result = scoreApplication(d.model, inputs);
  const decision = decide(d.model, result.score);
  const statementDay = input.statementDay > 0 ? input.statementDay : Math.min(28, dayOfMonth(dateInZone(now, d.timeZone)));
  let line: CreditLine | null = null;
  if (decision === "APPROVE") {
    const limitFen = creditLineFor(d.model, result.tier, inputs.monthlyIncomeFen, { minFen: d.policy.minLineFen, maxFen: d.policy.maxLineFen });
    const opened = openLine({
      id: `cl_${deterministicId("credit-line", applicationId).replaceAll("-", "").slice(0, 24)}`,
      customerId: input.customerId,
      applicationId,
      productCode: d.policy.productCode,
      statementDay,
      modelVersion: d.model.version,
      monthlyIncomeFen: inputs.monthlyIncomeFen,
      score: result.score,
      tier: result.tier,
      limitFen,
      at: now,
    });
    if ((await d.lines.insert(opened)) === "exists") {
      const existing = await d.lines.get(opened.line.id);
      if (!existing) throw failedPrecondition("CUSTOMER_HAS_CREDIT_LINE", `customer ${input.customerId} already has a credit line`);
    }
    line = opened.line;
  }
  const application = await d.applications.insertIfAbsent({
    id: applicationId,
    customerId: input.customerId,
    idempotencyKey: input.idempotencyKey,
    inputs,
    statementDay,
    modelVersion: d.model.version,
    score: result.score,
    pd: result.pd,
    tier: result.tier,
    reasons: result.reasons,
    contributions: result.contributions,
    decision,
    creditLineId: line?.id ?? null,
    limitFen: line?.limitFen ?? 0n,
    decidedAt: now,
  });
  return { application, line: application.creditLineId ? ((await d.lines.get(application.creditLineId)) ?? line) : null };
}
