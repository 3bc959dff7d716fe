import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import type { FieldViolation } from "@whiteslip/core";
import * as billing from "./billing";
import * as collections from "./collections";
import * as credit from "./credit";
import * as creditreporting from "./creditreporting";
import * as notification from "./notification";
import { notificationSuppressedViolations, overdueViolations } from "./rules";

/**
 * Every event topic of the platform: `whiteslip.<domain>.<event-kebab>.v1`, one
 * event type per topic, key = account id. The CloudEvents `type` is the
 * payload's full protobuf message name.
 */
export interface TopicSpec<S extends DescMessage = DescMessage> {
  /** Kafka topic name. */
  readonly topic: string;
  /** Payload schema. */
  readonly schema: S;
  /** Producing domain (CloudEvents source is `//whiteslip/<domain>`). */
  readonly domain: string;
  /**
   * The payload's content rules beyond its schema (rules.ts), when it has any: the producer's encodeEvent refuses
   * to publish a fact that breaks them, and each consumer checks them again before it acts.
   */
  readonly violations?: (data: MessageShape<S>) => FieldViolation[];
}

function spec<S extends DescMessage>(domain: string, schema: S, violations?: (data: MessageShape<S>) => FieldViolation[]): TopicSpec<S> {
  const kebab = schema.name.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
  return { topic: `whiteslip.${domain}.${kebab}.v1`, schema, domain, ...(violations ? { violations } : {}) };
}

export const Topics = {
  // billing
  AccountOpened: spec("billing", billing.AccountOpenedSchema),
  PurchasePosted: spec("billing", billing.PurchasePostedSchema),
  StatementIssued: spec("billing", billing.StatementIssuedSchema),
  DueSoon: spec("billing", billing.DueSoonSchema),
  Overdue: spec("billing", billing.OverdueSchema, overdueViolations),
  PaymentReceived: spec("billing", billing.PaymentReceivedSchema),
  AccountCured: spec("billing", billing.AccountCuredSchema),
  ChargedOff: spec("billing", billing.ChargedOffSchema),
  RepaymentPlanCreated: spec("billing", billing.RepaymentPlanCreatedSchema),
  PaymentDeferred: spec("billing", billing.PaymentDeferredSchema),
  // credit
  CreditLineOpened: spec("credit", credit.CreditLineOpenedSchema),
  CreditLineChanged: spec("credit", credit.CreditLineChangedSchema),
  RestrictionChanged: spec("credit", credit.RestrictionChangedSchema),
  RiskFlagRaised: spec("credit", credit.RiskFlagRaisedSchema),
  // notification
  NotificationSent: spec("notification", notification.NotificationSentSchema),
  NotificationDelivered: spec("notification", notification.NotificationDeliveredSchema),
  NotificationFailed: spec("notification", notification.NotificationFailedSchema),
  NotificationEngaged: spec("notification", notification.NotificationEngagedSchema),
  NotificationSuppressed: spec("notification", notification.NotificationSuppressedSchema, notificationSuppressedViolations),
  // collections
  CaseOpened: spec("collections", collections.CaseOpenedSchema),
  CaseEscalated: spec("collections", collections.CaseEscalatedSchema),
  CaseClosed: spec("collections", collections.CaseClosedSchema),
  PromiseMade: spec("collections", collections.PromiseMadeSchema),
  PromiseKept: spec("collections", collections.PromiseKeptSchema),
  PromiseBroken: spec("collections", collections.PromiseBrokenSchema),
  PlanAgreed: spec("collections", collections.PlanAgreedSchema),
  LegalNoticeRequested: spec("collections", collections.LegalNoticeRequestedSchema),
  TreatmentStepRequested: spec("collections", collections.TreatmentStepRequestedSchema),
  // credit reporting
  ScoreChanged: spec("creditreporting", creditreporting.ScoreChangedSchema),
  NegativeReportPending: spec("creditreporting", creditreporting.NegativeReportPendingSchema),
  BureauFileGenerated: spec("creditreporting", creditreporting.BureauFileGeneratedSchema),
} as const;

export type TopicName = keyof typeof Topics;

/** All topic specs, e.g. for creating topics at start-up. */
export const allTopics: readonly TopicSpec[] = Object.values(Topics);

/** Looks a spec up by its Kafka topic name. */
export function topicSpec(topic: string): TopicSpec | undefined {
  return allTopics.find((t) => t.topic === topic);
}
