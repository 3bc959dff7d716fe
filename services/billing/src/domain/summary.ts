/** The servicing view of an account (AccountSummary) at a business date. */
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { billing } from "@whiteslip/contracts";
import type { LocalDate } from "@whiteslip/core";
import { type Account, balancesOf, daysPastDue, minimumToPay, nextDueDate } from "./account";
import { bucketFor } from "./delinquency";
import { bucketToProto } from "./events";
import { planToProto } from "./ledger";
import type { ProductConfig } from "./product";

const STATUS = { ACTIVE: 1, CHARGED_OFF: 2, CLOSED: 3 } as const;

/** AccountSummary init shape of `a` at `date`. */
export function summaryOf(a: Account, date: LocalDate, p: ProductConfig): MessageInitShape<typeof billing.AccountSummarySchema> {
  const b = balancesOf(a, date, p);
  const dpd = daysPastDue(a, date, p);
  const charged = a.status === "CHARGED_OFF";
  return {
    accountId: a.id,
    customerId: a.customerId,
    status: STATUS[a.status],
    productCode: a.productCode,
    statementDay: a.statementDay,
    creditLimitFen: a.creditLimit,
    totalBalanceFen: charged ? a.chargedOffFen : b.total,
    unbilledPrincipalFen: b.unbilledPrincipal,
    amountDueFen: b.amountDue,
    overdueFen: b.overdue,
    feesFen: b.fees,
    penaltyInterestFen: b.penaltyInterest,
    creditBalanceFen: a.creditBalance,
    daysPastDue: dpd,
    bucket: bucketToProto(charged ? "CHARGED_OFF" : bucketFor(dpd, p.chargeOffDpd)),
    nextDueDate: nextDueDate(a, date) ?? "",
    minimumPaymentFen: minimumToPay(a, date, p),
    delinquencyStartDate: dpd > 0 ? (a.delinquencyStartDate ?? "") : "",
    businessDate: date,
    openedDate: a.openedDate,
    chargedOffDate: a.chargedOffDate ?? "",
    installmentPrincipalRemainingFen: b.installmentPrincipalRemaining,
    repaymentPlan: a.plan?.active ? planToProto(a, a.plan) : undefined,
  };
}
