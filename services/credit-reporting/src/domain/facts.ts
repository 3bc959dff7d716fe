/**
 * Facts credit-reporting reacts to, translated from other services' events at
 * the adapter edge. Each carries the id of the event that reported it.
 */
import type { Fen, LocalDate } from "@whiteslip/core";

interface FactBase {
  /** CloudEvent id of the reporting event (deterministic per fact). */
  eventId: string;
  /** When the fact happened (the CloudEvent time). */
  at: Date;
}

/** billing AccountOpened. */
export interface OpenedFact extends FactBase {
  kind: "opened";
  customerId: string;
  businessDate: LocalDate;
}

/** credit CreditLineOpened / CreditLineChanged: the credit limit. */
export interface CreditLimitFact extends FactBase {
  kind: "creditLimit";
  customerId: string;
  businessDate: LocalDate;
  limitFen: Fen;
}

/** billing PurchasePosted: the balance after a purchase. */
export interface PurchaseFact extends FactBase {
  kind: "purchase";
  customerId: string;
  businessDate: LocalDate;
  balanceFen: Fen;
}

/** billing Overdue: the account is `dpd` days past due at the business date. */
export interface OverdueFact extends FactBase {
  kind: "overdue";
  customerId: string;
  businessDate: LocalDate;
  dpd: number;
  overdueFen: Fen;
  balanceFen: Fen;
  delinquencyStart: LocalDate;
}

/** billing PaymentReceived. */
export interface PaymentFact extends FactBase {
  kind: "payment";
  customerId: string;
  businessDate: LocalDate;
  amountFen: Fen;
  onTime: boolean;
  dpdBefore: number;
  dpdAfter: number;
  overdueAfterFen: Fen;
  balanceAfterFen: Fen;
}

/** billing AccountCured. */
export interface CuredFact extends FactBase {
  kind: "cured";
  customerId: string;
  businessDate: LocalDate;
  previousDpd: number;
  delinquencyStart: LocalDate;
}

/** billing ChargedOff. */
export interface ChargedOffFact extends FactBase {
  kind: "chargedOff";
  customerId: string;
  businessDate: LocalDate;
  dpd: number;
  chargedOffFen: Fen;
  delinquencyStart: LocalDate;
}

/** notification NotificationDelivered for a pre-report notice. */
export interface NoticeDeliveredFact extends FactBase {
  kind: "noticeDelivered";
  noticeId: string;
  /** Business date of delivery. */
  deliveredOn: LocalDate;
}

/** Any fact about an account. */
/** A hardship deferral (forbearance) until `dueDate`. */
export interface DeferredFact extends FactBase {
  kind: "deferred";
  customerId: string;
  businessDate: LocalDate;
  dueDate: LocalDate;
}

export type AccountFact =
  | OpenedFact
  | DeferredFact
  | CreditLimitFact
  | PurchaseFact
  | OverdueFact
  | PaymentFact
  | CuredFact
  | ChargedOffFact
  | NoticeDeliveredFact;
