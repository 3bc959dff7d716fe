/**
 * Events billing publishes, as protobuf init shapes with deterministic ids:
 * the same fact always has the same id so every consumer can deduplicate.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { billing } from "@whiteslip/contracts";
import { deterministicId, type LocalDate } from "@whiteslip/core";

interface Schemas {
  AccountOpened: typeof billing.AccountOpenedSchema;
  PurchasePosted: typeof billing.PurchasePostedSchema;
  StatementIssued: typeof billing.StatementIssuedSchema;
  DueSoon: typeof billing.DueSoonSchema;
  Overdue: typeof billing.OverdueSchema;
  PaymentReceived: typeof billing.PaymentReceivedSchema;
  AccountCured: typeof billing.AccountCuredSchema;
  ChargedOff: typeof billing.ChargedOffSchema;
  RepaymentPlanCreated: typeof billing.RepaymentPlanCreatedSchema;
  PaymentDeferred: typeof billing.PaymentDeferredSchema;
}

/** One event to publish: topic name (a key of `Topics`), deterministic id, key = account id, payload. */
export type BillingEvent = {
  [K in keyof Schemas]: { type: K; id: string; key: string; data: MessageInitShape<Schemas[K]> };
}[keyof Schemas];

/** Event-type names billing publishes. */
export type BillingEventType = BillingEvent["type"];

/** Deterministic event ids, one function per fact. */
export const eventIds = {
  /** An account opened. */
  accountOpened: (accountId: string) => deterministicId("account-opened", accountId),
  /** A purchase posted. */
  purchasePosted: (purchaseId: string) => deterministicId("purchase-posted", purchaseId),
  /** A statement issued. */
  statementIssued: (statementId: string) => deterministicId("statement-issued", statementId),
  /** DueSoon for a statement (or plan installment) at a reminder offset. */
  dueSoon: (statementId: string, offset: number) => deterministicId("due-soon", statementId, offset),
  /** Overdue for an account at a business date. */
  overdue: (accountId: string, date: LocalDate) => deterministicId("overdue", accountId, date),
  /** A payment received. */
  paymentReceived: (paymentId: string) => deterministicId("payment-received", paymentId),
  /** A cure by a ledger entry (payment, refund, waiver, plan). */
  accountCured: (accountId: string, ledgerId: string) => deterministicId("account-cured", accountId, ledgerId),
  /** A charge-off (once per account). */
  chargedOff: (accountId: string) => deterministicId("charged-off", accountId),
  /** A repayment plan booked. */
  repaymentPlanCreated: (planId: string) => deterministicId("repayment-plan-created", planId),
  /** A hardship deferral granted. */
  paymentDeferred: (deferralId: string) => deterministicId("payment-deferred", deferralId),
};

/** The protobuf enum value of a bucket (the one mapping lives in @whiteslip/contracts). */
export { bucketToProto } from "@whiteslip/contracts";
