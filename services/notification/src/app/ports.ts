/**
 * Ports the use cases need; Mongo, SMTP and HTTP adapters implement them, and
 * unit tests use the in-memory fakes in test/fakes.ts.
 */
import type { CadenceRule } from "../domain/cadence-policy";
import type {
  Category,
  Channel,
  CustomerProfile,
  EngagementKind,
  Locale,
  Message,
  Preferences,
} from "../domain/model";
import type { EngagementSample } from "../domain/schedule";
import type { AccountFacts, Supersession } from "../domain/validity";

/** A status change to publish (through the outbox on the message document). */
export type NotificationEvent =
  | { type: "SENT"; at: Date }
  | { type: "DELIVERED"; at: Date }
  | { type: "FAILED"; at: Date; error: string; attempts: number; fallbackChannel?: Channel }
  | { type: "ENGAGED"; at: Date; kind: EngagementKind }
  /**
   * NotificationSuppressed: the message reached SUPPRESSED, EXPIRED or SUPERSEDED (status, `reasonCode` and
   * `statusReason` are the message's own) at `at`. Every write that moves a message there carries it: a transition
   * passes it, insertNew adds it to a message planned SUPPRESSED, the supersede writes add it per message.
   */
  | { type: "UNSENT"; at: Date };

/** Contact points to set; undefined fields are left unchanged. */
export interface ContactPatch {
  /** Mobile phone, E.164. */
  phone?: string;
  /** Email. */
  email?: string;
  /** Push token. */
  pushToken?: string;
  /** Display name. */
  displayName?: string;
  /** IANA zone. */
  timeZone?: string;
  /** Locale. */
  locale?: Locale;
}

/** Customers' contact points and preferences (personal data encrypted by the adapter). */
export interface CustomerRepository {
  /** The profile, decrypted, or null when the customer never gave one. */
  get(customerId: string): Promise<CustomerProfile | null>;
  /** The profiles of many customers (one query), decrypted; absent = never gave one. */
  getMany(customerIds: string[]): Promise<Map<string, CustomerProfile>>;
  /** Applies a patch (creating the profile with defaults) and returns the result. */
  upsertContacts(customerId: string, patch: ContactPatch, now: Date): Promise<CustomerProfile>;
  /** Replaces preferences and quiet-hours consent and returns the result. */
  setPreferences(
    customerId: string,
    preferences: Preferences,
    quietHoursConsent: boolean,
    now: Date,
  ): Promise<CustomerProfile>;
}

/** A page request by offset. */
export interface Page {
  /** Items to skip. */
  offset: number;
  /** Max items. */
  limit: number;
}

/** Messages, their delivery state, the inbox and the per-fact dedupe marker. */
export interface MessageRepository {
  /** True when the fact was fully planned before (a redelivered event). */
  factProcessed(factEventId: string): Promise<boolean>;
  /** Records that a fact was planned (after its messages were stored). */
  markFactProcessed(factEventId: string, factType: string, messageIds: string[], now: Date): Promise<void>;
  /** The ids among `factEventIds` that were fully planned before (one query). */
  factsProcessed(factEventIds: string[]): Promise<Set<string>>;
  /** Records many planned facts (one write; markers that exist are left as they are). */
  markFactsProcessed(facts: { factEventId: string; factType: string; messageIds: string[] }[], now: Date): Promise<void>;
  /**
   * Inserts messages whose id is new; returns the ids inserted (existing ids are left as they are). A message planned
   * SUPPRESSED (or EXPIRED/SUPERSEDED) is inserted with its NotificationSuppressed in its outbox (time: createdAt).
   */
  insertNew(messages: Message[]): Promise<string[]>;
  /**
   * Messages due: SCHEDULED or HELD with scheduledAt ≤ now, SENDING whose claim expired (claimExpiresAt ≤ now),
   * RECONCILE whose next lookup is due (reconcileAt ≤ now); by scheduledAt.
   */
  findDue(now: Date, limit: number): Promise<Message[]>;
  /**
   * Stores `next` (state and events, one single-document conditional update) only if the stored message is still
   * in the state `expected` the caller read — same status, scheduledAt and claim token. A claim is such a
   * transition (→ SENDING with a fresh token); so is every record after it, which therefore holds only while the
   * caller's token is the stored one. False when the stored message moved on (another dispatcher, a supersession):
   * nothing was written.
   */
  transition(
    next: Message,
    events: NotificationEvent[],
    expected: Pick<Message, "status" | "scheduledAt" | "claimToken">,
  ): Promise<boolean>;
  /**
   * Marks the account's queued (SCHEDULED/HELD) supersedable messages whose fact is older than `before` as
   * SUPERSEDED with the supersession's code and reason (only on `channels` when given), each in one write by id with
   * its NotificationSuppressed (decided `at`); returns how many. A message being sent (SENDING) is left to its
   * dispatcher, which re-checks before the provider call.
   */
  supersedeQueued(accountId: string, before: Date, s: Supersession, at: Date, channels?: readonly Channel[]): Promise<number>;
  /**
   * Marks the given messages SUPERSEDED with their code and reason, and their NotificationSuppressed (decided `at`),
   * when they are still queued (SCHEDULED/HELD) and their fact is older than `before`; returns how many.
   */
  supersedeByIds(items: ({ id: string; before: Date } & Supersession)[], at: Date): Promise<number>;
  /** One message. */
  get(id: string): Promise<Message | null>;
  /** Messages of a fact (to avoid a fallback onto a channel already used). */
  listForFact(factEventId: string): Promise<Message[]>;
  /** Counts of cap-counted messages sent per local day among `days`. */
  cappedSentPerDay(customerId: string, days: string[]): Promise<Record<string, number>>;
  /** `cappedSentPerDay` of many customers in one query (absent = none sent). */
  cappedSentPerDayMany(customerIds: string[], days: string[]): Promise<Map<string, Record<string, number>>>;
  /** Messages due at `now` and not sent yet (what findDue would return, uncapped): the dispatcher's backlog. */
  countDue(now: Date): Promise<number>;
  /** Messages by channel and status (non-zero cells), created in [from, to) where given. */
  countByChannelStatus(range: { from?: Date; to?: Date }): Promise<ChannelStatusCount[]>;
  /** Messages in RECONCILE, oldest first; `operatorOnly`: those with no automatic lookup left (no reconcileAt). */
  listReconcile(operatorOnly: boolean, page: Page): Promise<Message[]>;
  /** A customer's messages, newest first. */
  listForCustomer(customerId: string, accountId: string | undefined, page: Page): Promise<Message[]>;
  /** Delivered in-app messages: unread prominent first, then newest. */
  listInbox(customerId: string, unreadOnly: boolean, page: Page): Promise<Message[]>;
  /** Unread delivered in-app messages. */
  countUnread(customerId: string): Promise<number>;
  /** Marks the given (or all) delivered in-app messages read; returns how many changed. */
  markRead(customerId: string, ids: string[] | undefined, now: Date): Promise<number>;
  /** Adds an engagement kind to a message with its event once; "duplicate" when that kind was recorded before. */
  recordEngagement(message: Message, kind: EngagementKind, at: Date): Promise<"applied" | "duplicate">;
}

/** What notification remembers of each account's facts, for supersession (see domain/validity.ts). */
export interface AccountFactsRepository {
  /** The account's facts, or null when none was seen. */
  get(accountId: string): Promise<AccountFacts | null>;
  /** Keeps the latest of each given time (a redelivered or older fact changes nothing). */
  record(
    accountId: string,
    facts: { paymentAt?: Date; curedAt?: Date; notice?: { channels: readonly Channel[]; at: Date } },
  ): Promise<void>;
  /** The facts of many accounts (one query by id); absent = none seen. */
  getMany(accountIds: string[]): Promise<Map<string, AccountFacts>>;
  /**
   * Records overdue notices of many accounts (one round trip): the newest time per channel (`$max`), and the
   * message id per channel given in `ids` (the caller gives only the ids of notices newer than the stored one).
   */
  recordNotices(notices: { accountId: string; at: Date; channels: readonly Channel[]; ids: Partial<Record<Channel, string>> }[]): Promise<void>;
}

/** Engagement samples per customer for the best-hour model. */
export interface EngagementRepository {
  /** Stores a sample once per (message, kind). */
  add(customerId: string, messageId: string, sample: EngagementSample): Promise<void>;
  /** Samples at or after `since`. */
  listSince(customerId: string, since: Date): Promise<EngagementSample[]>;
  /** Samples at or after `since` of many customers (one query); absent = none. */
  listSinceMany(customerIds: string[], since: Date): Promise<Map<string, EngagementSample[]>>;
}

/** The cadence table. */
export interface PolicyRepository {
  /** Current rules. */
  load(): Promise<CadenceRule[]>;
}

/** A stored cadence table with its version and audit. */
export interface CadencePolicyVersion {
  /** Rows. */
  rules: CadenceRule[];
  /** +1 on every update. */
  version: number;
  /** When stored. */
  updatedAt: Date;
  /** Who stored it ("" for the seeded default). */
  updatedBy: string;
}

/** Reading and replacing the cadence table (the console's policy editor). */
export interface PolicyTableRepository {
  /** The stored table. */
  current(): Promise<CadencePolicyVersion>;
  /**
   * Replaces the rules if the stored version is still `expectedVersion`; returns the new version, or undefined when
   * another update won (nothing stored).
   */
  replaceIfVersion(
    rules: CadenceRule[],
    expectedVersion: number,
    actor: string,
    now: Date,
  ): Promise<CadencePolicyVersion | undefined>;
}

/** What a provider is asked to deliver. */
export interface OutboundMessage {
  /** Our message id (idempotency key at the provider). */
  messageId: string;
  /** Channel. */
  channel: Channel;
  /** Address: email, phone, push token. */
  to: string;
  /** Subject. */
  subject: string;
  /** Body, with the greeting. */
  body: string;
  /** Locale. */
  locale: Locale;
  /** Category (providers route legal notices differently). */
  category: Category;
}

/** What a provider answered. */
export interface ProviderReceipt {
  /** The provider's id for the message. */
  providerMessageId: string;
  /** True when the provider confirmed delivery in the same call (synchronous receipt). */
  delivered: boolean;
  /** When the provider accepted it by its own clock, if it says (a lookup's answer; shown in the reason only). */
  acceptedAt?: Date;
}

/** A provider refused or failed; permanent errors are not retried. */
export class ProviderError extends Error {
  override readonly name = "ProviderError";
  constructor(
    message: string,
    /** True when retrying cannot help (bad address, rejected content). */
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

/** One channel's provider (SMTP, an SMS/push/voice HTTP API). */
export interface ChannelProvider {
  /**
   * True when the provider deduplicates by our message id (an idempotency key): a second send of the same message
   * delivers nothing and answers the first receipt, so a send whose outcome was lost may simply be repeated.
   * False for SMTP: a second DATA is a second email.
   */
  readonly deduplicates: boolean;
  /** Hands the message over; resolves with the receipt or rejects (ProviderError for known failures). */
  send(message: OutboundMessage): Promise<ProviderReceipt>;
  /**
   * Asks the provider whether it has the message (by idempotency key, or an email's Message-ID in the provider's
   * event log): its receipt, or null when it has no record of it. Rejects when the provider cannot be asked.
   */
  lookup?(messageId: string): Promise<ProviderReceipt | null>;
  /**
   * How long after a provider call its lookup may still miss it (an event log's ingestion lag); a "null" is taken
   * for "never got it" only this long after the lost call's claim ended. 0 or unset: the lookup is consistent.
   */
  readonly lookupSettleMs?: number;
}

/** How many messages are on one channel in one delivery status. */
export interface ChannelStatusCount {
  channel: Message["channel"];
  status: Message["status"];
  count: number;
}
