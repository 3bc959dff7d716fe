/**
 * Mongo repositories. Collections (database = the service's own):
 * - `messages`: one document per (fact, channel), `_id` = deterministicId(factEventId, channel),
 *   with its outbox `pendingEvents` (NotificationSent/Delivered/Failed/Engaged);
 * - `facts`: processed-fact markers, `_id` = event id;
 * - `customers`: contact points (encrypted), locale, zone, preferences;
 * - `engagements`: samples for the best-hour model, `_id` = deterministicId(messageId, kind);
 * - `cadence_policy`: the cadence table, one document `_id: "current"`.
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { encodeEvent, type OutgoingEvent } from "@whiteslip/bus";
import { notification as pb, Topics } from "@whiteslip/contracts";
import { deterministicId } from "@whiteslip/core";
import type { PiiCipher } from "@whiteslip/pii";
import { ensureIndexes, handleCommand, insertOnce, isDuplicateKey, outcome, pushEvents, write } from "@whiteslip/store";
import type { Collection, Db, Document, Filter } from "mongodb";
import type {
  AccountFactsRepository,
  CadencePolicyVersion,
  ChannelStatusCount,
  ContactPatch,
  CustomerRepository,
  EngagementRepository,
  MessageRepository,
  NotificationEvent,
  Page,
  PolicyRepository,
  PolicyTableRepository,
} from "../app/ports";
import {
  type CadenceRule,
  DEFAULT_CADENCE_POLICY,
  DEFAULTS_REVISION,
  newDefaultRules,
  validatePolicy,
} from "../domain/cadence-policy";
import {
  type Channel,
  type CustomerProfile,
  type EngagementKind,
  isProminent,
  type Locale,
  type Message,
  type Preferences,
} from "../domain/model";
import type { EngagementSample } from "../domain/schedule";
import type { AccountFacts } from "../domain/validity";
import { channelToPb, kindToPb, refOf } from "./proto-mapping";

type MessageDoc = Omit<Message, "id"> & { _id: string; inboxRank: number; pendingEvents?: unknown[] };

const OPTIONAL: (keyof Message)[] = [
  "sentAt",
  "deliveredAt",
  "lastError",
  "providerMessageId",
  "fallbackFrom",
  "fallbackTo",
  "heldSince",
  "capDay",
  "readAt",
  "factAt",
  "validUntil",
  "supersedable",
  "statusReason",
  "claimToken",
  "claimExpiresAt",
  "inDoubtSince",
  "reconcileAt",
  "reconcileLooks",
];

/** Untyped filter (nullable fields are queried with null). */
const q = (x: Document) => x as Filter<MessageDoc>;

function toDoc(m: Message): MessageDoc {
  const { id, ...rest } = m;
  const doc: Record<string, unknown> = { _id: id, ...rest, inboxRank: inboxRank(m) };
  for (const k of OPTIONAL) if (doc[k] === undefined) doc[k] = null;
  return doc as MessageDoc;
}

function fromDoc(d: Document): Message {
  const { _id, inboxRank: _r, pendingEvents: _p, ...rest } = d;
  const m: Record<string, unknown> = { id: _id, ...rest };
  for (const k of OPTIONAL) if (m[k] === null) delete m[k];
  m.engagedKinds ??= [];
  return m as unknown as Message;
}

/** 1 for a delivered, unread, prominent in-app message (sorted first in the inbox). */
function inboxRank(m: Message): number {
  return m.channel === "IN_APP" && m.status === "DELIVERED" && !m.readAt && isProminent(m.category) ? 1 : 0;
}

/** Encodes domain events of a message as CloudEvents (deterministic ids: one per message and status). */
export function encodeNotificationEvents(m: Message, events: NotificationEvent[]): OutgoingEvent[] {
  const key = m.accountId || m.customerId;
  return events.map((e) => encodeOne(m, e, key));
}

function encodeOne(m: Message, e: NotificationEvent, key: string): OutgoingEvent {
  const ref = refOf(m);
  switch (e.type) {
    case "SENT":
      return encodeEvent(Topics.NotificationSent, {
        id: deterministicId("NotificationSent", m.id),
        key,
        time: e.at,
        data: { ref, sentAt: timestampFromDate(e.at) },
      });
    case "DELIVERED":
      return encodeEvent(Topics.NotificationDelivered, {
        id: deterministicId("NotificationDelivered", m.id),
        key,
        time: e.at,
        data: { ref, deliveredAt: timestampFromDate(e.at) },
      });
    case "FAILED":
      return encodeEvent(Topics.NotificationFailed, {
        id: deterministicId("NotificationFailed", m.id),
        key,
        time: e.at,
        data: {
          ref,
          error: e.error,
          attempts: e.attempts,
          fallbackChannel: channelToPb(e.fallbackChannel),
        },
      });
    case "ENGAGED":
      return encodeEvent(Topics.NotificationEngaged, {
        id: deterministicId("NotificationEngaged", m.id, e.kind),
        key,
        time: e.at,
        data: create(pb.NotificationEngagedSchema, {
          ref,
          kind: kindToPb(e.kind),
          occurredAt: timestampFromDate(e.at),
        }),
      });
  }
}

/** Messages, facts and the inbox in Mongo. */
export class MongoMessageRepository implements MessageRepository {
  readonly messages: Collection<MessageDoc>;
  private readonly facts: Collection<{
    _id: string;
    factType: string;
    messageIds: string[];
    processedAt: Date;
  }>;
  constructor(db: Db) {
    this.messages = db.collection<MessageDoc>("messages");
    this.facts = db.collection("facts");
  }

  /** Declares the indexes beside the queries they serve. */
  async ensureIndexes(): Promise<void> {
    await ensureIndexes(this.messages, [
      // One message per (fact, channel), stated as a constraint (the _id is derived from the same pair).
      {
        key: { factEventId: 1, channel: 1 },
        serves: "listForFact; uniqueness per (fact, channel)",
        options: { unique: true },
      },
      { key: { status: 1, scheduledAt: 1 }, serves: "findDue (dispatcher): SCHEDULED/HELD due" },
      { key: { status: 1, claimExpiresAt: 1 }, serves: "findDue (dispatcher): SENDING whose claim expired" },
      { key: { status: 1, reconcileAt: 1 }, serves: "findDue (dispatcher): RECONCILE whose next lookup is due" },
      { key: { accountId: 1, status: 1 }, serves: "supersedeQueued (payment, cure, newer notice)" },
      { key: { customerId: 1, capDay: 1 }, serves: "cappedSentPerDay (frequency caps)" },
      { key: { customerId: 1, createdAt: -1 }, serves: "ListNotifications" },
      {
        key: { customerId: 1, channel: 1, status: 1, inboxRank: -1, deliveredAt: -1 },
        serves: "ListInbox, countUnread, MarkInboxRead",
      },
    ]);
  }

  async factProcessed(factEventId: string): Promise<boolean> {
    return (await this.facts.countDocuments({ _id: factEventId }, { limit: 1 })) > 0;
  }
  async markFactProcessed(
    factEventId: string,
    factType: string,
    messageIds: string[],
    now: Date,
  ): Promise<void> {
    await insertOnce(this.facts, { _id: factEventId, factType, messageIds, processedAt: now });
  }
  async factsProcessed(factEventIds: string[]): Promise<Set<string>> {
    if (factEventIds.length === 0) return new Set();
    const docs = await this.facts.find({ _id: { $in: factEventIds } }, { projection: { _id: 1 } }).toArray();
    return new Set(docs.map((d) => d._id));
  }
  async markFactsProcessed(facts: { factEventId: string; factType: string; messageIds: string[] }[], now: Date): Promise<void> {
    await insertManyOnce(this.facts, facts.map((f) => ({ _id: f.factEventId, factType: f.factType, messageIds: f.messageIds, processedAt: now })));
  }
  /** One unordered insert of all; an id that exists is a duplicate, left as it is (its index is not returned). */
  async insertNew(ms: Message[]): Promise<string[]> {
    if (ms.length === 0) return [];
    if (ms.length === 1) return (await insertOnce(this.messages, toDoc(ms[0]!))) === "applied" ? [ms[0]!.id] : [];
    const dup = await insertManyOnce(this.messages, ms.map(toDoc));
    return ms.filter((_, i) => !dup.has(i)).map((m) => m.id);
  }
  /** Due: SCHEDULED/HELD whose time has come, SENDING whose claim expired, RECONCILE whose next lookup is due. */
  private dueFilter(now: Date): Filter<MessageDoc> {
    return q({
      $or: [
        { status: { $in: ["SCHEDULED", "HELD"] }, scheduledAt: { $lte: now } },
        { status: "SENDING", claimExpiresAt: { $lte: now } },
        { status: "RECONCILE", reconcileAt: { $lte: now } },
      ],
    });
  }
  async countDue(now: Date): Promise<number> {
    // claims in flight count too: they are not sent yet
    return this.messages.countDocuments(q({ $or: [this.dueFilter(now), { status: "SENDING" }] }));
  }
  async findDue(now: Date, limit: number): Promise<Message[]> {
    const docs = await this.messages
      .find(this.dueFilter(now), { projection: { pendingEvents: 0 } })
      .sort({ scheduledAt: 1, _id: 1 })
      .limit(limit)
      .toArray();
    return docs.map(fromDoc);
  }
  async transition(
    next: Message,
    events: NotificationEvent[],
    expected: Pick<Message, "status" | "scheduledAt" | "claimToken">,
  ): Promise<boolean> {
    const { _id, ...set } = toDoc(next);
    const update: Document = { $set: set };
    if (events.length > 0) update.$push = pushEvents(encodeNotificationEvents(next, events));
    // The fencing filter: the state the caller read, claim token included (null = unclaimed).
    const r = await this.messages.updateOne(
      q({ _id, status: expected.status, scheduledAt: expected.scheduledAt, claimToken: expected.claimToken ?? null }),
      update,
    );
    return r.matchedCount === 1;
  }
  async supersedeQueued(accountId: string, before: Date, reason: string, channels?: readonly Channel[]): Promise<number> {
    const r = await this.messages.updateMany(
      q({
        accountId,
        supersedable: true,
        status: { $in: ["SCHEDULED", "HELD"] },
        factAt: { $lt: before },
        ...(channels ? { channel: { $in: [...channels] } } : {}),
      }),
      { $set: { status: "SUPERSEDED", statusReason: reason } },
    );
    return r.modifiedCount;
  }
  async supersedeByIds(items: { id: string; before: Date; reason: string }[]): Promise<number> {
    if (items.length === 0) return 0;
    const r = await this.messages.bulkWrite(
      items.map((x) => ({
        updateOne: {
          filter: q({ _id: x.id, supersedable: true, status: { $in: ["SCHEDULED", "HELD"] }, factAt: { $lt: x.before } }),
          update: { $set: { status: "SUPERSEDED", statusReason: x.reason } } as Document,
        },
      })),
      { ordered: true },
    );
    return r.modifiedCount;
  }
  async get(id: string): Promise<Message | null> {
    const d = await this.messages.findOne({ _id: id }, { projection: { pendingEvents: 0 } });
    return d ? fromDoc(d) : null;
  }
  async listForFact(factEventId: string): Promise<Message[]> {
    return (await this.messages.find({ factEventId }, { projection: { pendingEvents: 0 } }).toArray()).map(
      fromDoc,
    );
  }
  async cappedSentPerDay(customerId: string, days: string[]): Promise<Record<string, number>> {
    const docs = await this.messages
      .find({ customerId, capDay: { $in: days } }, { projection: { capDay: 1 } })
      .toArray();
    const out: Record<string, number> = {};
    for (const d of docs) if (d.capDay) out[d.capDay] = (out[d.capDay] ?? 0) + 1;
    return out;
  }
  async cappedSentPerDayMany(customerIds: string[], days: string[]): Promise<Map<string, Record<string, number>>> {
    const out = new Map<string, Record<string, number>>();
    if (customerIds.length === 0) return out;
    const docs = await this.messages
      .find({ customerId: { $in: customerIds }, capDay: { $in: days } }, { projection: { customerId: 1, capDay: 1 } })
      .toArray();
    for (const d of docs) {
      if (!d.capDay) continue;
      const per = out.get(d.customerId) ?? {};
      per[d.capDay] = (per[d.capDay] ?? 0) + 1;
      out.set(d.customerId, per);
    }
    return out;
  }
  async countByChannelStatus(range: { from?: Date; to?: Date }): Promise<ChannelStatusCount[]> {
    const createdAt: Document = {};
    if (range.from) createdAt.$gte = range.from;
    if (range.to) createdAt.$lt = range.to;
    const rows = await this.messages
      .aggregate<{ _id: { channel: Message["channel"]; status: Message["status"] }; count: number }>([
        ...(range.from || range.to ? [{ $match: { createdAt } }] : []),
        { $group: { _id: { channel: "$channel", status: "$status" }, count: { $sum: 1 } } },
      ])
      .toArray();
    return rows.map((r) => ({ channel: r._id.channel, status: r._id.status, count: Number(r.count) }));
  }
  async listReconcile(operatorOnly: boolean, p: Page): Promise<Message[]> {
    const docs = await this.messages
      .find(q({ status: "RECONCILE", ...(operatorOnly ? { reconcileAt: null } : {}) }), { projection: { pendingEvents: 0 } })
      .sort({ createdAt: 1, _id: 1 })
      .skip(p.offset)
      .limit(p.limit)
      .toArray();
    return docs.map(fromDoc);
  }
  async listForCustomer(customerId: string, accountId: string | undefined, p: Page): Promise<Message[]> {
    const docs = await this.messages
      .find({ customerId, ...(accountId ? { accountId } : {}) }, { projection: { pendingEvents: 0 } })
      .sort({ createdAt: -1, _id: 1 })
      .skip(p.offset)
      .limit(p.limit)
      .toArray();
    return docs.map(fromDoc);
  }
  private inboxFilter(customerId: string): Document {
    return { customerId, channel: "IN_APP", status: "DELIVERED" };
  }
  async listInbox(customerId: string, unreadOnly: boolean, p: Page): Promise<Message[]> {
    const docs = await this.messages
      .find(q({ ...this.inboxFilter(customerId), ...(unreadOnly ? { readAt: null } : {}) }), {
        projection: { pendingEvents: 0 },
      })
      .sort({ inboxRank: -1, deliveredAt: -1, createdAt: -1, _id: 1 })
      .skip(p.offset)
      .limit(p.limit)
      .toArray();
    return docs.map(fromDoc);
  }
  async countUnread(customerId: string): Promise<number> {
    return this.messages.countDocuments(q({ ...this.inboxFilter(customerId), readAt: null }));
  }
  async markRead(customerId: string, ids: string[] | undefined, now: Date): Promise<number> {
    const r = await this.messages.updateMany(
      q({ ...this.inboxFilter(customerId), readAt: null, ...(ids ? { _id: { $in: ids } } : {}) }),
      { $set: { readAt: now, inboxRank: 0 } },
    );
    return r.modifiedCount;
  }
  async recordEngagement(m: Message, kind: EngagementKind, at: Date): Promise<"applied" | "duplicate"> {
    const r = await this.messages.updateOne({ _id: m.id, engagedKinds: { $ne: kind } }, {
      $push: {
        engagedKinds: kind,
        ...pushEvents(encodeNotificationEvents(m, [{ type: "ENGAGED", at, kind }])),
      },
    } as Document);
    return r.modifiedCount === 1 ? "applied" : "duplicate";
  }
}

interface AccountFactsDoc {
  _id: string;
  lastPaymentAt?: Date;
  curedAt?: Date;
  latestNoticeAt?: Partial<Record<Channel, Date>>;
  latestNoticeId?: Partial<Record<Channel, string>>;
}

/** Per account, the latest payment, cure and overdue notice per channel (`accounts`, `_id` = account id). */
export class MongoAccountFactsRepository implements AccountFactsRepository {
  readonly accounts: Collection<AccountFactsDoc>;
  constructor(db: Db) {
    this.accounts = db.collection<AccountFactsDoc>("accounts");
  }
  async get(accountId: string): Promise<AccountFacts | null> {
    const d = await this.accounts.findOne({ _id: accountId });
    if (!d) return null;
    const { _id, ...facts } = d;
    return facts;
  }
  async record(
    accountId: string,
    facts: { paymentAt?: Date; curedAt?: Date; notice?: { channels: readonly Channel[]; at: Date } },
  ): Promise<void> {
    const max: Document = {};
    if (facts.paymentAt) max.lastPaymentAt = facts.paymentAt;
    if (facts.curedAt) max.curedAt = facts.curedAt;
    for (const c of facts.notice?.channels ?? []) max[`latestNoticeAt.${c}`] = facts.notice!.at;
    if (Object.keys(max).length === 0) return;
    // $max: an older or redelivered fact changes nothing; one single-document upsert. Two first upserts of one
    // account racing each other: one gets a duplicate key, and its retry updates the document the other created.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.accounts.updateOne({ _id: accountId }, { $max: max }, { upsert: true });
        return;
      } catch (err) {
        if ((err as { code?: number }).code !== 11000 || attempt >= 3) throw err;
      }
    }
  }
  async getMany(accountIds: string[]): Promise<Map<string, AccountFacts>> {
    const out = new Map<string, AccountFacts>();
    if (accountIds.length === 0) return out;
    for (const { _id, ...facts } of await this.accounts.find({ _id: { $in: accountIds } }).toArray()) out.set(_id, facts);
    return out;
  }
  async recordNotices(notices: { accountId: string; at: Date; channels: readonly Channel[]; ids: Partial<Record<Channel, string>> }[]): Promise<void> {
    if (notices.length === 0) return;
    const ops = notices.map((n) => {
      const max: Document = {};
      for (const c of n.channels) max[`latestNoticeAt.${c}`] = n.at;
      const set: Document = {};
      for (const [c, id] of Object.entries(n.ids)) set[`latestNoticeId.${c}`] = id;
      return { updateOne: { filter: { _id: n.accountId }, update: Object.keys(set).length > 0 ? { $max: max, $set: set } : { $max: max }, upsert: true } };
    });
    // as record(): a first upsert that lost a race to another gets a duplicate key; the retry updates that document
    for (let attempt = 1; ; attempt++) {
      try {
        await this.accounts.bulkWrite(ops as never[], { ordered: true });
        return;
      } catch (err) {
        if (!isDuplicateKey(err) || attempt >= 3) throw err;
      }
    }
  }
}

/**
 * Inserts `docs` unordered in one round trip; those whose _id exists already are left as they are. Returns the
 * indexes of those duplicates; any other write error is thrown.
 */
async function insertManyOnce<T extends Document>(coll: Collection<T>, docs: T[]): Promise<Set<number>> {
  const dup = new Set<number>();
  if (docs.length === 0) return dup;
  try {
    await coll.insertMany(docs as never[], { ordered: false });
  } catch (e) {
    const errs = (e as { writeErrors?: { index: number; code: number }[] | { index: number; code: number } }).writeErrors;
    const list = Array.isArray(errs) ? errs : errs ? [errs] : [];
    if (list.length === 0 || list.some((w) => w.code !== 11000)) throw e;
    for (const w of list) dup.add(w.index);
  }
  return dup;
}

interface CustomerDoc {
  _id: string;
  phone?: string | null;
  email?: string | null;
  pushToken?: string | null;
  displayName?: string | null;
  timeZone: string;
  locale: Locale;
  preferences: Preferences;
  quietHoursConsent: boolean;
  updatedAt: Date;
}

/** Fields of a customer document sealed by PiiCipher (re-encrypted after a key rotation). */
export const SEALED: (keyof ContactPatch & keyof CustomerDoc)[] = ["phone", "email", "pushToken", "displayName"];

/** Customers with contact points and display name encrypted at rest (PiiCipher). */
export class MongoCustomerRepository implements CustomerRepository {
  readonly customers: Collection<CustomerDoc>;
  constructor(
    db: Db,
    private readonly cipher: PiiCipher,
    private readonly defaults: { timeZone: string; locale: Locale },
  ) {
    this.customers = db.collection<CustomerDoc>("customers");
  }

  async get(customerId: string): Promise<CustomerProfile | null> {
    const d = await this.customers.findOne({ _id: customerId });
    return d ? this.open(d) : null;
  }
  async getMany(customerIds: string[]): Promise<Map<string, CustomerProfile>> {
    const out = new Map<string, CustomerProfile>();
    if (customerIds.length === 0) return out;
    for (const d of await this.customers.find({ _id: { $in: customerIds } }).toArray()) out.set(d._id, this.open(d));
    return out;
  }
  async upsertContacts(customerId: string, patch: ContactPatch, now: Date): Promise<CustomerProfile> {
    const set: Document = { updatedAt: now };
    for (const k of SEALED) {
      const v = patch[k];
      if (v !== undefined) set[k] = this.cipher.encrypt(v);
    }
    if (patch.timeZone) set.timeZone = patch.timeZone;
    if (patch.locale) set.locale = patch.locale;
    const onInsert: Document = { preferences: {}, quietHoursConsent: false };
    if (!patch.timeZone) onInsert.timeZone = this.defaults.timeZone;
    if (!patch.locale) onInsert.locale = this.defaults.locale;
    await this.customers.updateOne(
      { _id: customerId },
      { $set: set, $setOnInsert: onInsert },
      { upsert: true },
    );
    return (await this.get(customerId))!;
  }
  async setPreferences(
    customerId: string,
    preferences: Preferences,
    quietHoursConsent: boolean,
    now: Date,
  ): Promise<CustomerProfile> {
    await this.customers.updateOne(
      { _id: customerId },
      {
        $set: { preferences, quietHoursConsent, updatedAt: now },
        $setOnInsert: { timeZone: this.defaults.timeZone, locale: this.defaults.locale },
      },
      { upsert: true },
    );
    return (await this.get(customerId))!;
  }
  private open(d: CustomerDoc): CustomerProfile {
    const p: CustomerProfile = {
      customerId: d._id,
      timeZone: d.timeZone,
      locale: d.locale,
      preferences: d.preferences ?? {},
      quietHoursConsent: d.quietHoursConsent ?? false,
    };
    for (const k of SEALED) {
      const v = d[k];
      if (typeof v === "string" && v) (p as unknown as Record<string, string>)[k] = this.cipher.decrypt(v);
    }
    return p;
  }
}

interface EngagementDoc {
  _id: string;
  customerId: string;
  messageId: string;
  kind: EngagementKind;
  occurredAt: Date;
  localHour: number;
}

/** Engagement samples, one per (message, kind). */
export class MongoEngagementRepository implements EngagementRepository {
  readonly engagements: Collection<EngagementDoc>;
  constructor(db: Db) {
    this.engagements = db.collection<EngagementDoc>("engagements");
  }
  /** Declares the indexes beside the queries they serve. */
  async ensureIndexes(): Promise<void> {
    await ensureIndexes(this.engagements, [
      { key: { customerId: 1, occurredAt: -1 }, serves: "listSince (best-hour model)" },
    ]);
  }
  async add(customerId: string, messageId: string, s: EngagementSample): Promise<void> {
    await insertOnce(this.engagements, {
      _id: deterministicId(messageId, s.kind),
      customerId,
      messageId,
      kind: s.kind,
      occurredAt: s.occurredAt,
      localHour: s.localHour,
    });
  }
  async listSince(customerId: string, since: Date): Promise<EngagementSample[]> {
    const docs = await this.engagements.find({ customerId, occurredAt: { $gte: since } }).toArray();
    return docs.map((d) => ({ kind: d.kind, occurredAt: d.occurredAt, localHour: d.localHour }));
  }
  async listSinceMany(customerIds: string[], since: Date): Promise<Map<string, EngagementSample[]>> {
    const out = new Map<string, EngagementSample[]>();
    if (customerIds.length === 0) return out;
    for (const d of await this.engagements.find({ customerId: { $in: customerIds }, occurredAt: { $gte: since } }).toArray()) {
      const list = out.get(d.customerId) ?? [];
      list.push({ kind: d.kind, occurredAt: d.occurredAt, localHour: d.localHour });
      out.set(d.customerId, list);
    }
    return out;
  }
}

interface PolicyDoc {
  _id: string;
  rules: CadenceRule[];
  version: number;
  updatedAt: Date;
  /** Who stored this version (absent for the seeded default). */
  updatedBy?: string;
  /** The defaults revision this table has seen (absent = 1, before revisions were kept). */
  defaultsRevision?: number;
}

/**
 * The cadence table in Mongo (`cadence_policy`, document `current`), seeded with
 * the default policy when absent; a risk team edits `rules` (validated on load:
 * a broken table is refused and the last good one kept). Cached for `ttlMs`.
 */
export class MongoPolicyRepository implements PolicyRepository, PolicyTableRepository {
  readonly coll: Collection<PolicyDoc>;
  private cache: { rules: CadenceRule[]; at: number } | undefined;
  constructor(
    db: Db,
    private readonly ttlMs = 30_000,
    private readonly onInvalid?: (err: unknown) => void,
  ) {
    this.coll = db.collection<PolicyDoc>("cadence_policy");
  }
  /**
   * Inserts the default table if there is none; otherwise appends the default rules added since the revision the
   * stored table has seen (see DEFAULT_RULES_ADDED), as a new version by `system:defaults`. Returns the ids added.
   */
  async seed(now: Date): Promise<string[]> {
    const inserted = await insertOnce(this.coll, {
      _id: "current",
      rules: DEFAULT_CADENCE_POLICY.map((r) => ({ ...r })),
      version: 1,
      updatedAt: now,
      defaultsRevision: DEFAULTS_REVISION,
    });
    if (inserted === "applied") return [];
    // a command on the table (the store's handleCommand): another replica seeding at once makes it decide again
    return handleCommand<PolicyDoc | null, { d: PolicyDoc; rules: CadenceRule[]; added: CadenceRule[] }, string[]>(
      {
        load: () => this.coll.findOne({ _id: "current" }),
        write: async ({ d, rules, added }) => {
          const r = await this.coll.updateOne(
            { _id: "current", version: d.version },
            {
              $set: {
                rules: rules.map(stripUndefined),
                defaultsRevision: DEFAULTS_REVISION,
                ...(added.length > 0 ? { updatedAt: now, updatedBy: "system:defaults", version: d.version + 1 } : {}),
              },
            },
          );
          if (r.matchedCount > 0) this.cache = undefined;
          return r.matchedCount > 0;
        },
      },
      (d) => {
        if (!d || (d.defaultsRevision ?? 1) >= DEFAULTS_REVISION) return outcome([]);
        const added = newDefaultRules(d.rules, d.defaultsRevision ?? 1);
        const rules = [...d.rules.map(stripNulls), ...added];
        validatePolicy(rules);
        return write({ d, rules, added }, added.map((a) => a.id));
      },
      { what: "cadence policy" },
    );
  }
  /** Replaces the table after validating it (for ops tooling and tests). */
  async replace(rules: CadenceRule[], now: Date): Promise<void> {
    validatePolicy(rules);
    await this.coll.updateOne(
      { _id: "current" },
      { $set: { rules, updatedAt: now }, $inc: { version: 1 } },
      { upsert: true },
    );
    this.cache = undefined;
  }
  /** The stored table (the default, version 0, when none was seeded). */
  async current(): Promise<CadencePolicyVersion> {
    const d = await this.coll.findOne({ _id: "current" });
    if (!d) return { rules: [...DEFAULT_CADENCE_POLICY], version: 0, updatedAt: new Date(0), updatedBy: "" };
    return {
      rules: d.rules.map(stripNulls),
      version: d.version,
      updatedAt: d.updatedAt,
      updatedBy: d.updatedBy ?? "",
    };
  }
  /** Compare-and-set on `version` (single-document update, atomic). */
  async replaceIfVersion(
    rules: CadenceRule[],
    expectedVersion: number,
    actor: string,
    now: Date,
  ): Promise<CadencePolicyVersion | undefined> {
    const r = await this.coll.updateOne(
      { _id: "current", version: expectedVersion },
      {
        $set: {
          rules: rules.map(stripUndefined),
          updatedAt: now,
          updatedBy: actor,
          version: expectedVersion + 1,
        },
      },
    );
    if (r.matchedCount === 0) return undefined;
    this.cache = undefined;
    return { rules, version: expectedVersion + 1, updatedAt: now, updatedBy: actor };
  }
  async load(): Promise<CadenceRule[]> {
    if (this.cache && Date.now() - this.cache.at < this.ttlMs) return this.cache.rules;
    const d = await this.coll.findOne({ _id: "current" });
    const rules = (d?.rules ?? [...DEFAULT_CADENCE_POLICY]).map(stripNulls);
    try {
      validatePolicy(rules);
    } catch (err) {
      this.onInvalid?.(err);
      if (this.cache) return this.cache.rules;
      return [...DEFAULT_CADENCE_POLICY];
    }
    this.cache = { rules, at: Date.now() };
    return rules;
  }
}

function stripUndefined(r: CadenceRule): CadenceRule {
  return Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as unknown as CadenceRule;
}

function stripNulls(r: CadenceRule): CadenceRule {
  return Object.fromEntries(
    Object.entries(r).filter(([, v]) => v !== null && v !== undefined),
  ) as unknown as CadenceRule;
}
