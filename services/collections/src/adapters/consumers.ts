/**
 * Kafka consumers (group `collections` by default): notification's NotificationSent/Delivered/Failed/Suppressed (for
 * treatment-path steps), billing's Overdue, DueSoon, PaymentReceived, AccountCured,
 * ChargedOff and credit's CreditLineOpened, CreditLineChanged, RiskFlagRaised. Each handler is idempotent by the
 * event id (kept on the case or tier document in the same single-document write as the effect).
 */
import { type Subscription, subscribe } from "@whiteslip/bus";
import { checkNotificationSuppressed, checkOverdue, collections, notification, Topics } from "@whiteslip/contracts";
import { invalidArgument } from "@whiteslip/core";
import { handleAccountCured } from "../app/handle-account-cured";
import { handleChargedOff } from "../app/handle-charged-off";
import { handleOverdue } from "../app/handle-overdue";
import { handlePaymentReceived } from "../app/handle-payment-received";
import { handleStepReport, type StepReport } from "../app/handle-step-report";
import { openPreDelinquency } from "../app/open-pre-delinquency";
import type { Deps } from "../app/ports";
import { recordRiskTier } from "../app/record-risk-tier";
import { bucketFor } from "@whiteslip/core";
import { bucketFromProto, tierFromProto } from "./proto";

/** Debug-level logging surface. */
interface DebugLogger {
  debug(obj: object, msg?: string): void;
}

function need(value: string, field: string): void {
  if (!value) throw invalidArgument([{ field, description: "must be set" }]);
}

/** All subscriptions of the collections consumer group. */
export function collectionsSubscriptions(deps: Deps, logger: DebugLogger): Subscription[] {
  const log = (topic: string, id: string, effect: string) =>
    logger.debug({ topic, eventId: id, effect }, "event handled");
  // notification's reports on the messages it sent for treatment-path steps (other messages are not ours)
  const stepType = collections.TreatmentStepRequestedSchema.typeName;
  const report = async (
    topic: string,
    id: string,
    ref: notification.NotificationRef | undefined,
    status: StepReport["status"],
    detail: string,
    attempts?: number,
  ) => {
    if (!ref || ref.factType !== stepType || !ref.accountId || !ref.factId) return;
    log(topic, id, await handleStepReport(deps, { accountId: ref.accountId, stepId: ref.factId, status, detail, attempts }));
  };
  const UNSENT: Partial<Record<notification.DeliveryStatus, StepReport["status"]>> = {
    [notification.DeliveryStatus.SUPPRESSED]: "SUPPRESSED",
    [notification.DeliveryStatus.EXPIRED]: "EXPIRED",
    [notification.DeliveryStatus.SUPERSEDED]: "SUPERSEDED",
  };
  const channelName = (ref: notification.NotificationRef | undefined) =>
    ref ? (notification.Channel[ref.channel] ?? String(ref.channel)) : "";
  return [
    subscribe(Topics.NotificationSent, (e) => report(e.topic, e.id, e.data.ref, "SENT", `sent on ${channelName(e.data.ref)}`)),
    subscribe(Topics.NotificationDelivered, (e) =>
      report(e.topic, e.id, e.data.ref, "DELIVERED", `delivered on ${channelName(e.data.ref)}`),
    ),
    subscribe(Topics.NotificationFailed, (e) =>
      // the provider's error text stays in notification (it may quote a contact point)
      report(e.topic, e.id, e.data.ref, "FAILED", `failed on ${channelName(e.data.ref)} after ${e.data.attempts} attempts`, e.data.attempts),
    ),
    subscribe(Topics.NotificationSuppressed, (e) => {
      checkNotificationSuppressed(e.data); // a status or code outside the contract: dead-lettered at once
      // the rule's code first (what the audit line and the console show), then notification's words (no personal data)
      const detail = `${e.data.reasonCode} on ${channelName(e.data.ref)}${e.data.reason ? `: ${e.data.reason}` : ""}`;
      return report(e.topic, e.id, e.data.ref, UNSENT[e.data.status]!, detail);
    }),
    subscribe(Topics.Overdue, async (e) => {
      const d = e.data;
      checkOverdue(d); // an impossible date or a DPD below 1 opens no case: dead-lettered at once, as by every consumer
      const bucket = bucketFromProto(d.bucket);
      const effect = await handleOverdue(deps, {
        eventId: e.id,
        accountId: d.accountId,
        customerId: d.customerId,
        productCode: d.productCode,
        businessDate: d.businessDate,
        dpd: d.daysPastDue,
        bucket: bucket === "UNSPECIFIED" ? bucketFor(d.daysPastDue) : bucket,
        overdueFen: d.overdueFen,
        totalBalanceFen: d.totalBalanceFen,
        delinquencyStartDate: d.delinquencyStartDate || d.oldestDueDate || d.businessDate,
      });
      log(e.topic, e.id, effect);
    }),
    subscribe(Topics.DueSoon, async (e) => {
      const d = e.data;
      need(d.accountId, "account_id");
      const effect = await openPreDelinquency(deps, {
        eventId: e.id,
        accountId: d.accountId,
        customerId: d.customerId,
        productCode: d.productCode,
        dueDate: d.dueDate,
        amountDueFen: d.amountDueFen,
      });
      log(e.topic, e.id, effect);
    }),
    subscribe(Topics.RiskFlagRaised, async (e) => {
      const d = e.data;
      need(d.creditLineId, "credit_line_id");
      const tier = tierFromProto(d.tier);
      await recordRiskTier(deps, d.creditLineId, tier, e.id);
      const effect = d.dueDate
        ? await openPreDelinquency(
            deps,
            {
              eventId: e.id,
              accountId: d.creditLineId,
              customerId: d.customerId,
              productCode: "",
              dueDate: d.dueDate,
              amountDueFen: d.amountDueFen,
            },
            tier,
          )
        : "no-due-date";
      log(e.topic, e.id, effect);
    }),
    subscribe(Topics.PaymentReceived, async (e) => {
      const d = e.data;
      need(d.accountId, "account_id");
      const effect = await handlePaymentReceived(deps, d.accountId, {
        eventId: e.id,
        paymentId: d.paymentId,
        amountFen: d.amountFen,
        businessDate: d.businessDate,
        overdueFenAfter: d.overdueFenAfter,
        totalBalanceFenAfter: d.totalBalanceFenAfter,
      });
      log(e.topic, e.id, effect);
    }),
    subscribe(Topics.AccountCured, async (e) => {
      need(e.data.accountId, "account_id");
      log(e.topic, e.id, await handleAccountCured(deps, e.data.accountId, e.id, e.data.businessDate));
    }),
    subscribe(Topics.ChargedOff, async (e) => {
      const d = e.data;
      need(d.accountId, "account_id");
      log(e.topic, e.id, await handleChargedOff(deps, d.accountId, e.id, d.businessDate, d.chargedOffFen));
    }),
    subscribe(Topics.CreditLineOpened, async (e) => {
      need(e.data.creditLineId, "credit_line_id");
      log(e.topic, e.id, await recordRiskTier(deps, e.data.creditLineId, tierFromProto(e.data.tier), e.id));
    }),
    subscribe(Topics.CreditLineChanged, async (e) => {
      need(e.data.creditLineId, "credit_line_id");
      log(e.topic, e.id, await recordRiskTier(deps, e.data.creditLineId, tierFromProto(e.data.tier), e.id));
    }),
  ];
}
