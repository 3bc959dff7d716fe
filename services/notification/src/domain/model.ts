/**
 * The notification domain's vocabulary. Plain string unions (not the generated
 * proto enums) so the domain has no dependency on transport code; adapters map
 * between the two.
 */
import type { Bucket, LocalDate } from "@whiteslip/core";

/** A way to reach a customer. */
export type Channel = "SMS" | "EMAIL" | "IN_APP" | "PUSH" | "VOICE";
/** All channels, in a stable order. */
export const CHANNELS: readonly Channel[] = ["SMS", "EMAIL", "IN_APP", "PUSH", "VOICE"];

/** Groups messages for preferences, caps and legal rules. */
export type Category = "REMINDER" | "COLLECTION" | "TRANSACTIONAL" | "LEGAL" | "MARKETING";
/** All categories. */
export const CATEGORIES: readonly Category[] = [
  "REMINDER",
  "COLLECTION",
  "TRANSACTIONAL",
  "LEGAL",
  "MARKETING",
];

/** The fact kinds a cadence rule can react to. */
export type Trigger =
  | "DUE_SOON"
  | "OVERDUE"
  | "PAYMENT_RECEIVED"
  | "PAYMENT_DEFERRED"
  | "CREDIT_LINE_CHANGED"
  | "NEGATIVE_REPORT_PENDING"
  | "LEGAL_NOTICE_REQUESTED";
/** All triggers. */
export const TRIGGERS: readonly Trigger[] = [
  "DUE_SOON",
  "OVERDUE",
  "PAYMENT_RECEIVED",
  "PAYMENT_DEFERRED",
  "CREDIT_LINE_CHANGED",
  "NEGATIVE_REPORT_PENDING",
  "LEGAL_NOTICE_REQUESTED",
];

/** Delinquency bucket (billing's M0–M6, charge-off) and all buckets by severity: one home, @whiteslip/core. */
export { type Bucket, BUCKETS } from "@whiteslip/core";

/** Locales with templates. */
export type Locale = "zh-CN" | "en";
/** Supported locales. */
export const LOCALES: readonly Locale[] = ["zh-CN", "en"];

/**
 * State of one message on one channel. SENDING = claimed by a dispatcher (fencing token, claim expiry) that is
 * handing it to the provider; EXPIRED = its validity window closed before it could be sent; SUPERSEDED = a later
 * fact (a payment, a cure, a newer notice) made it wrong before it was sent; RECONCILE = a dispatcher died between
 * the provider call and the record on a channel that cannot deduplicate (SMTP) and the provider could not (yet) say
 * whether it has it: never re-sent blindly; asked again at `reconcileAt`, or resolved by an operator when that is
 * unset (see README, "Side effects").
 */
export type DeliveryStatus =
  | "SCHEDULED"
  | "HELD"
  | "SENDING"
  | "SENT"
  | "DELIVERED"
  | "FAILED"
  | "SUPPRESSED"
  | "EXPIRED"
  | "SUPERSEDED"
  | "RECONCILE";

/**
 * Final statuses of a message that was never handed to a provider. Each is published (NotificationSuppressed, with
 * its reason code) in the same single-document write that records it, so whoever waits on the message — a case's
 * treatment-path step — learns its end as surely as it learns of a send.
 */
export type UnsentStatus = "SUPPRESSED" | "EXPIRED" | "SUPERSEDED";
/** All unsent final statuses. */
export const UNSENT_STATUSES: readonly UnsentStatus[] = ["SUPPRESSED", "EXPIRED", "SUPERSEDED"];
/** True for a final status of a message that was never handed to a provider. */
export function isUnsent(s: DeliveryStatus): s is UnsentStatus {
  return (UNSENT_STATUSES as readonly string[]).includes(s);
}

/**
 * The rule that kept a message from being sent (NotificationSuppressed's `reason_code`): OPTED_OUT — the customer's
 * channel preference (not for LEGAL); CAP_HOLD_EXPIRED — held by a frequency cap past `caps.holdExpiryHours`;
 * ALREADY_SENT — a case step whose notice already went out on the channel that business day; VALIDITY_ENDED —
 * EXPIRED; SUPERSEDED_BY_PAYMENT / _CURE / _NEWER_NOTICE — SUPERSEDED (validity.ts).
 */
export type UnsentReasonCode =
  | "OPTED_OUT"
  | "CAP_HOLD_EXPIRED"
  | "ALREADY_SENT"
  | "VALIDITY_ENDED"
  | "SUPERSEDED_BY_PAYMENT"
  | "SUPERSEDED_BY_CURE"
  | "SUPERSEDED_BY_NEWER_NOTICE";

/** Statuses a dispatcher may still act on (the rest are final; RECONCILE is looked up again at `reconcileAt` or waits for an operator). */
export const PENDING_STATUSES: readonly DeliveryStatus[] = ["SCHEDULED", "HELD", "SENDING"];

/** What the customer did with a message. */
export type EngagementKind = "OPENED" | "CLICKED" | "PAID";

/** A template variable: amounts are fen (bigint), dates ISO `YYYY-MM-DD`, the rest text or numbers. */
export type TemplateValue = bigint | string | number;

/**
 * A fact from another service that may cause notifications, reduced to what the
 * policy and templates need.
 */
export interface Fact {
  /** CloudEvents id of the event (deduplication key; message ids derive from it). */
  eventId: string;
  /** The id published as `fact_id` in notification events (a notice id for legal notices, else the event id). */
  factId: string;
  /** CloudEvents type of the event, e.g. `whiteslip.billing.v1.DueSoon`. */
  factType: string;
  /** Which kind of fact. */
  trigger: Trigger;
  /** The customer. */
  customerId: string;
  /** The account. */
  accountId: string;
  /** Days past due, for overdue facts. */
  dpd?: number;
  /** Bucket, for overdue facts. */
  bucket?: Bucket;
  /** When the fact happened (CloudEvents time). */
  occurredAt: Date;
  /** Template variables. */
  vars: Record<string, TemplateValue>;
}

/**
 * True when a fact is too old (or dated too far ahead) to be worth a message: a
 * reminder or overdue notice replayed days later (a new consumer group reading
 * from the beginning, a long outage) would mislead. Legally required notices are
 * never stale: they must be delivered however late.
 */
export function isStale(fact: Fact, now: Date, maxAgeHours: number): boolean {
  if (fact.trigger === "NEGATIVE_REPORT_PENDING" || fact.trigger === "LEGAL_NOTICE_REQUESTED") return false;
  return Math.abs(now.getTime() - fact.occurredAt.getTime()) > maxAgeHours * 3_600_000;
}

/** Per-category channel choices; a category absent means "all channels the policy picks". */
export type Preferences = Partial<Record<Category, Channel[]>>;

/** A customer's contact points (decrypted, in memory only), locale, zone and preferences. */
export interface CustomerProfile {
  /** The customer. */
  customerId: string;
  /** Mobile phone (E.164). */
  phone?: string;
  /** Email address. */
  email?: string;
  /** Push device token. */
  pushToken?: string;
  /** Name to greet with. */
  displayName?: string;
  /** IANA time zone. */
  timeZone: string;
  /** Template locale. */
  locale: Locale;
  /** Channel preferences per category. */
  preferences: Preferences;
  /** Consent to contact in quiet hours (stored for collections; notification never uses it). */
  quietHoursConsent: boolean;
}

/** Defaults for a customer who never gave contact points. */
export function defaultProfile(
  customerId: string,
  timeZone = "Asia/Shanghai",
  locale: Locale = "zh-CN",
): CustomerProfile {
  return { customerId, timeZone, locale, preferences: {}, quietHoursConsent: false };
}

/** One message on one channel, as stored. */
export interface Message {
  /** deterministicId(factEventId, channel). */
  id: string;
  /** The customer. */
  customerId: string;
  /** The account. */
  accountId: string;
  /** Category. */
  category: Category;
  /** Channel. */
  channel: Channel;
  /** Template `id@version`. */
  template: string;
  /** Locale rendered in. */
  locale: Locale;
  /** Rendered subject (no personal data). */
  subject: string;
  /** Rendered body (no personal data; the greeting with the name is added only when sending). */
  body: string;
  /** Status. */
  status: DeliveryStatus;
  /** When it is due to be sent (next attempt). */
  scheduledAt: Date;
  /** Why that time. */
  scheduleReason: string;
  /** When created. */
  createdAt: Date;
  /** When handed to the provider. */
  sentAt?: Date;
  /** When the provider confirmed delivery. */
  deliveredAt?: Date;
  /** Delivery attempts made. */
  attempts: number;
  /** Last error. */
  lastError?: string;
  /** Provider's id for the message. */
  providerMessageId?: string;
  /** Event id of the fact (dedupe). */
  factEventId: string;
  /** Published fact id. */
  factId: string;
  /** CloudEvents type of the fact. */
  factType: string;
  /** Policy rule that produced it. */
  ruleId: string;
  /** The channel this is a fallback for. */
  fallbackFrom?: Channel;
  /** The channel used as fallback after this one failed. */
  fallbackTo?: Channel;
  /** First time a frequency cap held it. */
  heldSince?: Date;
  /** Local date (recipient zone) on which it was sent, when it counts toward caps. */
  capDay?: string;
  /** Inbox: when read. */
  readAt?: Date;
  /** Engagement kinds recorded. */
  engagedKinds: EngagementKind[];
  /** When the fact happened (its CloudEvents time): what a payment, a cure or a newer notice is compared with. */
  factAt?: Date;
  /** End of the validity window: after it the message is worthless and is EXPIRED instead of sent. */
  validUntil?: Date;
  /** An overdue notice: superseded by a later payment, cure or newer notice on the same account and channel. */
  supersedable?: boolean;
  /** Why the message is SUPPRESSED, EXPIRED, SUPERSEDED or RECONCILE. */
  statusReason?: string;
  /** SUPPRESSED, EXPIRED, SUPERSEDED: the rule that decided it (published in NotificationSuppressed). */
  reasonCode?: UnsentReasonCode;
  /** Fencing token of the dispatcher holding the message (SENDING); a record must match it. */
  claimToken?: string;
  /** When the claim lapses and another dispatcher may recover the message. */
  claimExpiresAt?: Date;
  /**
   * RECONCILE: the end of the claim under which the lost provider call was made — the latest moment that call could
   * have reached the provider (a provider's lookup is trusted to say "never got it" only `lookupSettleMs` after it).
   */
  inDoubtSince?: Date;
  /** RECONCILE: when the dispatcher asks the provider again; unset = only an operator resolves it. */
  reconcileAt?: Date;
  /** RECONCILE: provider lookups that failed so far (bounded by settings.reconcile.maxLooks). */
  reconcileLooks?: number;
}

/** True for categories shown pinned in the inbox until read. */
export function isProminent(category: Category): boolean {
  return category === "LEGAL" || category === "COLLECTION";
}

/** ISO date type re-exported for domain users. */
export type { LocalDate };
