/**
 * The consumer of collections' TreatmentStepRequested (same group as the fact consumer): a digital step of a case's
 * treatment path becomes an OVERDUE-like fact whose `fact_id` is the step id (so collections matches the
 * NotificationSent/Delivered/Failed to its step), sent on the step's channel with its template by HandleCaseStep.
 */
import { type Subscription, subscribe } from "@whiteslip/bus";
import { bucketFromProto, collections, Topics } from "@whiteslip/contracts";
import { invalidArgument } from "@whiteslip/core";
import type { CaseStepRequest, HandleCaseStep } from "../app/handle-case-step";
import type { Channel } from "../domain/model";
import type { EventMeta } from "./fact-mapping";

const CHANNELS: Partial<Record<collections.StepChannel, Channel>> = {
  [collections.StepChannel.SMS]: "SMS",
  [collections.StepChannel.EMAIL]: "EMAIL",
  [collections.StepChannel.IN_APP]: "IN_APP",
  [collections.StepChannel.PUSH]: "PUSH",
};

/** TreatmentStepRequested → the step to send; INVALID_ARGUMENT (dead-lettered at once) for a non-digital or incomplete step. */
export function caseStepRequest(e: EventMeta, d: collections.TreatmentStepRequested): CaseStepRequest {
  const channel = CHANNELS[d.channel];
  const v = [];
  if (!channel) v.push({ field: "channel", description: "must be a digital channel (SMS, EMAIL, IN_APP, PUSH)" });
  if (!d.stepId) v.push({ field: "step_id", description: "is required" });
  if (!d.accountId) v.push({ field: "account_id", description: "is required" });
  if (!d.customerId) v.push({ field: "customer_id", description: "is required" });
  if (v.length > 0) throw invalidArgument(v);
  const bucket = bucketFromProto(d.bucket);
  return {
    channel: channel!,
    template: d.template,
    ...(d.text ? { text: d.text } : {}),
    fact: {
      eventId: e.id,
      factId: d.stepId,
      factType: e.type,
      occurredAt: e.time,
      trigger: "OVERDUE",
      customerId: d.customerId,
      accountId: d.accountId,
      dpd: d.daysPastDue,
      ...(bucket === "UNSPECIFIED" ? {} : { bucket }),
      vars: {
        dpd: d.daysPastDue,
        overdue: d.overdueFen,
        total: d.totalBalanceFen,
        asOf: d.businessDate,
      },
    },
  };
}

/** The subscription to register beside factSubscriptions. */
export function caseStepSubscriptions(
  handler: HandleCaseStep,
  log: { info(obj: object, msg?: string): void },
): Subscription[] {
  return [
    subscribe(Topics.TreatmentStepRequested, async (e) => {
      const req = caseStepRequest(e, e.data);
      const r = await handler.handle(req);
      log.info({ eventId: e.id, stepId: req.fact.factId, channel: req.channel, outcome: r.outcome }, "case step handled");
    }),
  ];
}
