/**
 * Maps the events notification consumes (generated protobuf types) to domain
 * Facts. Fact ids: the CloudEvent id, except for the pre-report and legal
 * notices whose `notice_id` is published as `fact_id` so credit-reporting and
 * collections can match NotificationDelivered to their notice.
 */
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { type billing, bucketFromProto, type collections, type credit, type creditreporting } from "@whiteslip/contracts";
import { dateInZone } from "@whiteslip/core";
import type { Bucket, Fact } from "../domain/model";

/** The envelope fields a mapping needs. */
export interface EventMeta {
  /** CloudEvents id. */
  id: string;
  /** CloudEvents type. */
  type: string;
  /** CloudEvents time. */
  time: Date;
}

/** The bucket of an Overdue (the one proto mapping lives in @whiteslip/contracts). */
const bucketOf = (v: billing.DelinquencyBucket): Bucket | undefined => {
  const b = bucketFromProto(v);
  return b === "UNSPECIFIED" ? undefined : b;
};

/** DueSoon → reminder. */
export function dueSoonFact(e: EventMeta, d: billing.DueSoon): Fact {
  return {
    eventId: e.id,
    factId: e.id,
    factType: e.type,
    occurredAt: e.time,
    trigger: "DUE_SOON",
    customerId: d.customerId,
    accountId: d.accountId,
    vars: {
      amountDue: d.amountDueFen,
      minimumPayment: d.minimumPaymentFen,
      dueDate: d.dueDate,
      daysUntilDue: d.daysUntilDue,
    },
  };
}

/** Overdue → cadence by DPD and bucket. */
export function overdueFact(e: EventMeta, d: billing.Overdue): Fact {
  return {
    eventId: e.id,
    factId: e.id,
    factType: e.type,
    occurredAt: e.time,
    trigger: "OVERDUE",
    customerId: d.customerId,
    accountId: d.accountId,
    dpd: d.daysPastDue,
    bucket: bucketOf(d.bucket),
    vars: {
      dpd: d.daysPastDue,
      overdue: d.overdueFen,
      total: d.totalBalanceFen,
      asOf: d.businessDate,
      oldestDueDate: d.oldestDueDate,
    },
  };
}

/** PaymentReceived → confirmation. */
export function paymentReceivedFact(e: EventMeta, d: billing.PaymentReceived): Fact {
  return {
    eventId: e.id,
    factId: e.id,
    factType: e.type,
    occurredAt: e.time,
    trigger: "PAYMENT_RECEIVED",
    customerId: d.customerId,
    accountId: d.accountId,
    vars: {
      amount: d.amountFen,
      balance: d.totalBalanceFenAfter,
      paidOn: d.receivedAt ? dateInZone(timestampDate(d.receivedAt)) : d.businessDate,
    },
  };
}

/** PaymentDeferred → confirmation with the new due date. */
export function paymentDeferredFact(e: EventMeta, d: billing.PaymentDeferred): Fact {
  return {
    eventId: e.id,
    factId: e.id,
    factType: e.type,
    occurredAt: e.time,
    trigger: "PAYMENT_DEFERRED",
    customerId: d.customerId,
    accountId: d.accountId,
    vars: { deferred: d.deferredFen, dueDate: d.dueDate, days: d.days },
  };
}

/** CreditLineChanged → notice (only when the limit changed; status/tier-only changes are not customer news). */
export function creditLineChangedFact(e: EventMeta, d: credit.CreditLineChanged): Fact | undefined {
  if (d.limitFen === d.previousLimitFen) return undefined;
  return {
    eventId: e.id,
    factId: e.id,
    factType: e.type,
    occurredAt: e.time,
    trigger: "CREDIT_LINE_CHANGED",
    customerId: d.customerId,
    accountId: d.creditLineId,
    vars: { previousLimit: d.previousLimitFen, limit: d.limitFen },
  };
}

/** NegativeReportPending → the pre-report notice (LEGAL). */
export function negativeReportPendingFact(e: EventMeta, d: creditreporting.NegativeReportPending): Fact {
  return {
    eventId: e.id,
    factId: d.noticeId || e.id,
    factType: e.type,
    occurredAt: e.time,
    trigger: "NEGATIVE_REPORT_PENDING",
    customerId: d.customerId,
    accountId: d.accountId,
    dpd: d.daysPastDue,
    vars: {
      dpd: d.daysPastDue,
      overdue: d.overdueFen,
      earliestReportDate: d.earliestReportDate,
      bureau: d.bureau,
    },
  };
}

/** LegalNoticeRequested → the legal notice (LEGAL). */
export function legalNoticeRequestedFact(e: EventMeta, d: collections.LegalNoticeRequested): Fact {
  return {
    eventId: e.id,
    factId: d.noticeId || e.id,
    factType: e.type,
    occurredAt: e.time,
    trigger: "LEGAL_NOTICE_REQUESTED",
    customerId: d.customerId,
    accountId: d.accountId,
    dpd: d.daysPastDue,
    vars: {
      dpd: d.daysPastDue,
      overdue: d.overdueFen,
      total: d.totalBalanceFen,
      deadline: d.deadlineDate,
      creditor: d.creditor,
      legalBasis: d.legalBasis,
      consequences: d.consequences,
    },
  };
}
