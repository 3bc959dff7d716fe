/** Maps domain events to CloudEvents on collections' topics (protobuf payloads), for the case outbox. */
import { encodeEvent, type OutgoingEvent } from "@whiteslip/bus";
import { Topics } from "@whiteslip/contracts";
import type { CaseEvent } from "../domain/types";
import {
  bucketToProto,
  caseStatusToProto,
  legalNoticeRequestedInit,
  promiseToProto,
  stepChannelToProto,
  treatmentToProto,
} from "./proto";

/** Encodes one domain event (key = account id, id = the event's deterministic id). */
export function encodeCaseEvent(e: CaseEvent): OutgoingEvent {
  const base = { caseId: e.caseId, accountId: e.accountId, customerId: e.customerId };
  const env = { id: e.id, key: e.accountId, time: e.time, subject: e.caseId };
  switch (e.type) {
    case "CaseOpened":
      return encodeEvent(Topics.CaseOpened, {
        ...env,
        data: {
          ...base,
          status: caseStatusToProto(e.status),
          treatment: treatmentToProto(e.treatment),
          strategyId: e.strategyId,
          bucket: bucketToProto(e.bucket),
        },
      });
    case "CaseEscalated":
      return encodeEvent(Topics.CaseEscalated, {
        ...env,
        data: {
          ...base,
          treatment: treatmentToProto(e.treatment),
          escalationLevel: e.escalationLevel,
          reason: e.reason,
        },
      });
    case "CaseClosed":
      return encodeEvent(Topics.CaseClosed, {
        ...env,
        data: {
          ...base,
          status: caseStatusToProto(e.status),
          collectedFen: e.collectedFen,
          strategyId: e.strategyId,
        },
      });
    case "PromiseMade":
      return encodeEvent(Topics.PromiseMade, {
        ...env,
        data: { ...base, promise: promiseToProto(e.promise) },
      });
    case "PromiseKept":
      return encodeEvent(Topics.PromiseKept, {
        ...env,
        data: { ...base, promise: promiseToProto(e.promise) },
      });
    case "PromiseBroken":
      return encodeEvent(Topics.PromiseBroken, {
        ...env,
        data: { ...base, promise: promiseToProto(e.promise) },
      });
    case "PlanAgreed":
      return encodeEvent(Topics.PlanAgreed, {
        ...env,
        data: { ...base, planId: e.planId, installmentCount: e.installmentCount, totalFen: e.totalFen },
      });
    case "LegalNoticeRequested":
      return encodeEvent(Topics.LegalNoticeRequested, {
        ...env,
        data: { ...base, ...legalNoticeRequestedInit(e.notice) },
      });
    case "TreatmentStepRequested":
      return encodeEvent(Topics.TreatmentStepRequested, {
        ...env,
        data: {
          ...base,
          stepId: e.stepId,
          strategyId: e.strategyId,
          ruleRef: e.ruleRef,
          channel: stepChannelToProto(e.channel),
          template: e.template,
          text: e.text,
          daysPastDue: e.dpd,
          bucket: bucketToProto(e.bucket),
          overdueFen: e.overdueFen,
          totalBalanceFen: e.totalBalanceFen,
          businessDate: e.businessDate,
        },
      });
  }
}
