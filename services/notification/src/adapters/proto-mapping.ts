/** Maps domain string unions to the generated protobuf enums and back. */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { notification as pb } from "@whiteslip/contracts";
import type { CadencePolicyVersion } from "../app/ports";
import type { CadenceRule } from "../domain/cadence-policy";
import type {
  Bucket,
  Category,
  Channel,
  DeliveryStatus,
  EngagementKind,
  Message,
  Trigger,
} from "../domain/model";
import { isProminent } from "../domain/model";

const CHANNEL: Record<Channel, pb.Channel> = {
  SMS: pb.Channel.SMS,
  EMAIL: pb.Channel.EMAIL,
  IN_APP: pb.Channel.IN_APP,
  PUSH: pb.Channel.PUSH,
  VOICE: pb.Channel.VOICE,
};
const CATEGORY: Record<Category, pb.Category> = {
  REMINDER: pb.Category.REMINDER,
  COLLECTION: pb.Category.COLLECTION,
  TRANSACTIONAL: pb.Category.TRANSACTIONAL,
  LEGAL: pb.Category.LEGAL,
  MARKETING: pb.Category.MARKETING,
};
const STATUS: Record<DeliveryStatus, pb.DeliveryStatus> = {
  SCHEDULED: pb.DeliveryStatus.SCHEDULED,
  HELD: pb.DeliveryStatus.HELD,
  // Being handed to a provider right now: still "scheduled" to a caller.
  SENDING: pb.DeliveryStatus.SCHEDULED,
  SENT: pb.DeliveryStatus.SENT,
  DELIVERED: pb.DeliveryStatus.DELIVERED,
  FAILED: pb.DeliveryStatus.FAILED,
  SUPPRESSED: pb.DeliveryStatus.SUPPRESSED,
  EXPIRED: pb.DeliveryStatus.EXPIRED,
  SUPERSEDED: pb.DeliveryStatus.SUPERSEDED,
  RECONCILE: pb.DeliveryStatus.RECONCILE,
};
const KIND: Record<EngagementKind, pb.EngagementKind> = {
  OPENED: pb.EngagementKind.OPENED,
  CLICKED: pb.EngagementKind.CLICKED,
  PAID: pb.EngagementKind.PAID,
};

const invert = <K extends string, V extends number>(r: Record<K, V>) =>
  new Map(Object.entries(r).map(([k, v]) => [v as V, k as K]));
const CHANNEL_BACK = invert(CHANNEL);
const CATEGORY_BACK = invert(CATEGORY);
const KIND_BACK = invert(KIND);

/** Domain channel → proto. */
export const channelToPb = (c: Channel | undefined): pb.Channel => (c ? CHANNEL[c] : pb.Channel.UNSPECIFIED);
/** Proto channel → domain name, or the raw number as text when unknown (validation reports it). */
export const channelFromPb = (c: pb.Channel): string => CHANNEL_BACK.get(c) ?? `CHANNEL_${c}`;
/** Domain category → proto. */
export const categoryToPb = (c: Category): pb.Category => CATEGORY[c];
/** Proto category → domain name. */
export const categoryFromPb = (c: pb.Category): string => CATEGORY_BACK.get(c) ?? `CATEGORY_${c}`;
/** Domain status → proto. */
export const statusToPb = (s: DeliveryStatus): pb.DeliveryStatus => STATUS[s];
/** Domain kind → proto. */
export const kindToPb = (k: EngagementKind): pb.EngagementKind => KIND[k];
/** Proto kind → domain name. */
export const kindFromPb = (k: pb.EngagementKind): string => KIND_BACK.get(k) ?? `ENGAGEMENT_KIND_${k}`;

/** The reference carried by every notification event. */
export function refOf(m: Message): pb.NotificationRef {
  return create(pb.NotificationRefSchema, {
    notificationId: m.id,
    customerId: m.customerId,
    accountId: m.accountId,
    category: CATEGORY[m.category],
    channel: CHANNEL[m.channel],
    template: m.template,
    factId: m.factId,
    factType: m.factType,
  });
}

/** A message as the API shows it. */
export function notificationToPb(m: Message): pb.Notification {
  return create(pb.NotificationSchema, {
    notificationId: m.id,
    customerId: m.customerId,
    accountId: m.accountId,
    category: CATEGORY[m.category],
    channel: CHANNEL[m.channel],
    template: m.template,
    locale: m.locale,
    subject: m.subject,
    body: m.body,
    status: STATUS[m.status],
    scheduledAt: timestampFromDate(m.scheduledAt),
    sentAt: m.sentAt ? timestampFromDate(m.sentAt) : undefined,
    scheduleReason: m.scheduleReason,
    attempts: m.attempts,
    lastError: m.lastError ?? "",
    factId: m.factId,
    factType: m.factType,
    fallbackFrom: channelToPb(m.fallbackFrom),
    statusReason: m.statusReason ?? "",
    validUntil: m.validUntil ? timestampFromDate(m.validUntil) : undefined,
    nextLookupAt: m.status === "RECONCILE" && m.reconcileAt ? timestampFromDate(m.reconcileAt) : undefined,
  });
}

/** An in-app message as the inbox shows it. */
export function inboxToPb(m: Message): pb.InboxMessage {
  return create(pb.InboxMessageSchema, {
    messageId: m.id,
    subject: m.subject,
    body: m.body,
    category: CATEGORY[m.category],
    createdAt: timestampFromDate(m.deliveredAt ?? m.createdAt),
    read: m.readAt !== undefined,
    prominent: isProminent(m.category),
  });
}

/**
 * Proto cadence row → domain rule. Unknown enum values become text (`CHANNEL_9`) so that validation reports them;
 * empty `on_dpd` / `buckets` and unset optionals mean "not used".
 */
export function cadenceRuleFromPb(r: pb.CadenceRule): CadenceRule {
  return {
    id: r.id,
    priority: r.priority,
    trigger: r.trigger as Trigger,
    ...(r.minDpd !== undefined ? { minDpd: r.minDpd } : {}),
    ...(r.maxDpd !== undefined ? { maxDpd: r.maxDpd } : {}),
    ...(r.onDpd.length > 0 ? { onDpd: [...r.onDpd] } : {}),
    ...(r.everyNDays !== undefined ? { everyNDays: r.everyNDays } : {}),
    ...(r.buckets.length > 0 ? { buckets: r.buckets as Bucket[] } : {}),
    channels: r.channels.map(channelFromPb) as Channel[],
    template: r.template,
    category: categoryFromPb(r.category) as Category,
    ...(r.useBestHour !== undefined ? { useBestHour: r.useBestHour } : {}),
  };
}

/** Domain rule → proto cadence row. */
export function cadenceRuleToPb(r: CadenceRule): pb.CadenceRule {
  return create(pb.CadenceRuleSchema, {
    id: r.id,
    priority: r.priority,
    trigger: r.trigger,
    ...(r.minDpd !== undefined ? { minDpd: r.minDpd } : {}),
    ...(r.maxDpd !== undefined ? { maxDpd: r.maxDpd } : {}),
    onDpd: r.onDpd ?? [],
    ...(r.everyNDays !== undefined ? { everyNDays: r.everyNDays } : {}),
    buckets: r.buckets ?? [],
    channels: r.channels.map((c) => channelToPb(c)),
    template: r.template,
    category: categoryToPb(r.category),
    ...(r.useBestHour !== undefined ? { useBestHour: r.useBestHour } : {}),
  });
}

/** Stored cadence table → proto. */
export function cadencePolicyToPb(p: CadencePolicyVersion): pb.CadencePolicyVersion {
  return create(pb.CadencePolicyVersionSchema, {
    rules: p.rules.map(cadenceRuleToPb),
    version: p.version,
    updatedAt: timestampFromDate(p.updatedAt),
    updatedBy: p.updatedBy,
  });
}
