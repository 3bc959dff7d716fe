/**
 * Turning a fact into messages: the cadence policy picks channels, preferences
 * filter them (not for LEGAL), templates render them in the customer's locale,
 * and the scheduler picks each one's send time. Pure: same inputs, same messages.
 */
import { deterministicId } from "@whiteslip/core";
import { type CadenceRule, selectChannels } from "./cadence-policy";
import { channelAllowed } from "./delivery-rules";
import type { Channel, CustomerProfile, Fact, Message } from "./model";
import { type BestHour, chooseSendTime, type SendWindow, usesBestHourByDefault } from "./schedule";
import { renderTemplate } from "./templates";
import { validityOf } from "./validity";

/** The id of the message for a fact on a channel: one per (fact, channel), forever. */
export function messageId(factEventId: string, channel: Channel): string {
  return deterministicId(factEventId, channel);
}

/** Inputs of planning. */
export interface PlanInput {
  /** The fact. */
  fact: Fact;
  /** The cadence table. */
  rules: readonly CadenceRule[];
  /** The recipient. */
  profile: CustomerProfile;
  /** The send-time model's answer for this customer. */
  best: BestHour;
  /** Now. */
  now: Date;
  /** Sending window. */
  window?: SendWindow;
  /** Max deferral for the best hour. */
  maxDeferralHours?: number;
  /** Zone of business dates (due dates, as-of dates) for validity windows (default Asia/Shanghai). */
  businessTimeZone?: string;
}

/**
 * Messages for a fact: SCHEDULED ones for channels the customer accepts, and a
 * SUPPRESSED record for each channel the policy chose but the customer opted out
 * of (so ListNotifications can explain why nothing arrived).
 */
export function planMessages(input: PlanInput): Message[] {
  const { fact, profile, now } = input;
  const out: Message[] = [];
  const validity = validityOf(fact, input.businessTimeZone ?? "Asia/Shanghai");
  for (const { rule, channel } of selectChannels(input.rules, fact)) {
    const { subject, body } = renderTemplate(rule.template, profile.locale, fact.vars);
    const allowed = channelAllowed(profile, rule.category, channel);
    const when = chooseSendTime({
      now,
      timeZone: profile.timeZone,
      best: input.best,
      useBestHour: rule.useBestHour ?? usesBestHourByDefault(rule.category),
      maxDeferralHours: input.maxDeferralHours,
      window: input.window,
    });
    out.push({
      id: messageId(fact.eventId, channel),
      customerId: fact.customerId,
      accountId: fact.accountId,
      category: rule.category,
      channel,
      template: rule.template,
      locale: profile.locale,
      subject,
      body,
      status: allowed ? "SCHEDULED" : "SUPPRESSED",
      scheduledAt: allowed ? when.at : now,
      scheduleReason: allowed ? when.reason : `opted out of ${channel} for ${rule.category}`,
      createdAt: now,
      attempts: 0,
      factEventId: fact.eventId,
      factId: fact.factId,
      factType: fact.factType,
      ruleId: rule.id,
      engagedKinds: [],
      factAt: fact.occurredAt,
      supersedable: validity.supersedable && rule.category !== "LEGAL",
      ...(validity.validUntil && rule.category !== "LEGAL" ? { validUntil: validity.validUntil } : {}),
      ...(allowed
        ? {}
        : { lastError: "opted out", reasonCode: "OPTED_OUT" as const, statusReason: `opted out of ${channel} for ${rule.category}` }),
    });
  }
  return out;
}

/** A fallback copy of `failed` on `channel`, due now (the dispatcher still applies quiet hours). */
export function fallbackMessage(failed: Message, channel: Channel, now: Date): Message {
  return {
    ...failed,
    id: messageId(failed.factEventId, channel),
    channel,
    status: "SCHEDULED",
    scheduledAt: now,
    scheduleReason: `fallback from ${failed.channel}: ${failed.lastError ?? "failed"}`,
    createdAt: now,
    attempts: 0,
    lastError: undefined,
    sentAt: undefined,
    deliveredAt: undefined,
    providerMessageId: undefined,
    fallbackFrom: failed.channel,
    fallbackTo: undefined,
    heldSince: undefined,
    capDay: undefined,
    readAt: undefined,
    engagedKinds: [],
    statusReason: undefined,
    reasonCode: undefined,
    claimToken: undefined,
    claimExpiresAt: undefined,
  };
}
