/**
 * Mapping between domain values and protobuf messages. Enums map by name: the domain uses the proto enum value
 * names without their prefix (`CASE_STATUS_OPEN` ↔ `OPEN`).
 */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { bucketFromProto, bucketToProto, collections, credit } from "@whiteslip/contracts";
import type {
  AuditEntry,
  CaseStatus,
  Channel,
  CollectionCase,
  ContactAttempt,
  LegalNotice,
  Outcome,
  PromiseToPay,
  Reason,
  RiskTier,
  Treatment,
} from "../domain/types";
import type { CaseStep, PathStep, StepChannel, StepStatus } from "../domain/treatment-path";

type EnumObj = Record<string, string | number>;

function toProtoEnum(e: EnumObj, name: string): number {
  const v = e[name];
  return typeof v === "number" ? v : 0;
}

function fromProtoEnum(e: EnumObj, value: number): string {
  const n = e[value];
  return typeof n === "string" ? n : "UNSPECIFIED";
}

/** Buckets: the one proto mapping, in @whiteslip/contracts. */
export { bucketFromProto, bucketToProto };

/** Domain → proto enums. */
export const caseStatusToProto = (s: CaseStatus): collections.CaseStatus =>
  toProtoEnum(collections.CaseStatus, s);
export const treatmentToProto = (t: Treatment): collections.Treatment =>
  toProtoEnum(collections.Treatment, t);
export const channelToProto = (c: Channel): collections.ContactChannel =>
  toProtoEnum(collections.ContactChannel, c);
export const outcomeToProto = (o: Outcome): collections.ContactOutcome =>
  toProtoEnum(collections.ContactOutcome, o);
export const reasonToProto = (r: Reason): collections.NonPaymentReason =>
  toProtoEnum(collections.NonPaymentReason, r);

/** Proto → domain enums ("UNSPECIFIED" for 0 / unknown). */
export const caseStatusFromProto = (s: collections.CaseStatus): CaseStatus | "UNSPECIFIED" =>
  fromProtoEnum(collections.CaseStatus, s) as CaseStatus | "UNSPECIFIED";
export const channelFromProto = (c: collections.ContactChannel): Channel =>
  fromProtoEnum(collections.ContactChannel, c) as Channel;
export const outcomeFromProto = (o: collections.ContactOutcome): Outcome =>
  fromProtoEnum(collections.ContactOutcome, o) as Outcome;
export const reasonFromProto = (r: collections.NonPaymentReason): Reason =>
  fromProtoEnum(collections.NonPaymentReason, r) as Reason;
export const tierFromProto = (t: credit.RiskTier): RiskTier => {
  const n = fromProtoEnum(credit.RiskTier, t);
  return (["A", "B", "C", "D", "E"].includes(n) ? n : "") as RiskTier;
};

/** Treatment path enums (by name, like every enum here). */
export const stepChannelToProto = (c: StepChannel): collections.StepChannel =>
  toProtoEnum(collections.StepChannel, c);
export const stepChannelFromProto = (c: collections.StepChannel): StepChannel | "UNSPECIFIED" =>
  fromProtoEnum(collections.StepChannel, c) as StepChannel | "UNSPECIFIED";
export const stepStatusToProto = (s: StepStatus): collections.StepStatus => toProtoEnum(collections.StepStatus, s);

/** A scheduled step as the API shows it. */
export function caseStepToProto(s: CaseStep): MessageInitShape<typeof collections.CaseStepSchema> {
  return {
    stepId: s.stepId,
    ruleRef: s.ruleRef,
    dpd: s.dpd,
    channel: stepChannelToProto(s.channel),
    template: s.template,
    text: s.text ?? "",
    plannedDate: s.plannedDate,
    status: stepStatusToProto(s.status),
    outcome: s.outcome,
    updatedAt: timestampFromDate(s.updatedAt),
  };
}

/** A rule's path step ↔ proto. */
export const pathStepToProto = (s: PathStep): MessageInitShape<typeof collections.PathStepSchema> => ({
  dpd: s.dpd,
  channel: stepChannelToProto(s.channel),
  template: s.template ?? "",
  text: s.text ?? "",
});
export const pathStepFromProto = (s: collections.PathStep): PathStep => ({
  dpd: s.dpd,
  channel: stepChannelFromProto(s.channel) as StepChannel,
  ...(s.template ? { template: s.template } : {}),
  ...(s.text ? { text: s.text } : {}),
});

/** A case as the API shows it. */
export function caseToProto(c: CollectionCase): MessageInitShape<typeof collections.CaseSchema> {
  return {
    caseId: c.caseId,
    accountId: c.accountId,
    customerId: c.customerId,
    status: caseStatusToProto(c.status),
    daysPastDue: c.dpd,
    bucket: bucketToProto(c.bucket),
    overdueFen: c.overdueFen,
    totalBalanceFen: c.totalBalanceFen,
    treatment: treatmentToProto(c.treatment),
    strategyId: c.strategyId,
    agentId: c.agentId,
    queue: c.queue,
    priority: c.priority,
    jurisdiction: c.jurisdiction,
    openedAt: timestampFromDate(c.openedAt),
    ...(c.closedAt ? { closedAt: timestampFromDate(c.closedAt) } : {}),
    escalationLevel: c.escalationLevel,
    riskTier: c.riskTier,
    collectedFen: c.collectedFen,
    timeZone: c.timeZone,
    pauseReason: c.pauseReason,
    productCode: c.productCode,
    lastReason: reasonToProto(c.lastReason),
    lastOverdueDate: c.lastOverdueDate,
    path: c.path.map(caseStepToProto),
    consents: c.consents.map((k) => ({
      givenAt: timestampFromDate(k.givenAt),
      channel: channelToProto(k.channel),
      attemptId: k.attemptId,
      agentId: k.agentId,
    })),
  };
}

/** A promise as the API shows it. */
export function promiseToProto(p: PromiseToPay): collections.Promise {
  return create(collections.PromiseSchema, {
    promiseId: p.promiseId,
    amountFen: p.amountFen,
    promisedDate: p.promisedDate,
    paidFen: p.paidFen,
    status: toProtoEnum(collections.PromiseStatus, p.status),
    createdAt: timestampFromDate(p.createdAt),
  });
}

/** An attempt as the API shows it. */
export function attemptToProto(a: ContactAttempt): MessageInitShape<typeof collections.ContactAttemptSchema> {
  return {
    attemptId: a.attemptId,
    agentId: a.agentId,
    channel: channelToProto(a.channel),
    outcome: outcomeToProto(a.outcome),
    reason: reasonToProto(a.reason),
    occurredAt: timestampFromDate(a.occurredAt),
    note: a.note,
    refused: a.refused,
    refusedRule: a.refusedRule,
    contactParty: a.contactParty,
    consentOutsideHours: a.consentOutsideHours,
    suggestedSolution: a.suggestedSolution,
    purpose: a.purpose ?? "",
  };
}

/** An audit line as the API shows it. */
export function auditToProto(a: AuditEntry): MessageInitShape<typeof collections.AuditEntrySchema> {
  return {
    seq: BigInt(a.seq),
    at: timestampFromDate(a.at),
    actor: a.actor,
    action: a.action,
    detail: a.detail,
  };
}

/** A legal notice as the API shows it. */
export function legalNoticeToProto(n: LegalNotice): MessageInitShape<typeof collections.LegalNoticeSchema> {
  return {
    noticeId: n.noticeId,
    overdueFen: n.overdueFen,
    totalBalanceFen: n.totalBalanceFen,
    daysPastDue: n.daysPastDue,
    deadlineDate: n.deadlineDate,
    creditor: n.creditor,
    legalBasis: n.legalBasis,
    consequences: n.consequences,
    requestedAt: timestampFromDate(n.requestedAt),
    actor: n.actor,
  };
}

/** The notice part of LegalNoticeRequested. */
export function legalNoticeRequestedInit(n: LegalNotice) {
  return {
    noticeId: n.noticeId,
    overdueFen: n.overdueFen,
    totalBalanceFen: n.totalBalanceFen,
    daysPastDue: n.daysPastDue,
    deadlineDate: n.deadlineDate,
    creditor: n.creditor,
    legalBasis: n.legalBasis,
    consequences: n.consequences,
  };
}
