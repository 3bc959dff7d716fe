/**
 * Mongo repositories. Collections (database = the service's own):
 * - `messages`: one document per (fact, channel), `_id` = deterministicId(factEventId, channel),
 *   with its outbox `pendingEvents` (NotificationSent/Delivered/Failed/Engaged/Suppressed);
 * - `facts`: processed-fact markers, `_id` = event id;
 * - `customers`: contact points (encrypted), locale, zone, preferences;
 * - `engagements`: samples for the best-hour model, `_id` = deterministicId(messageId, kind);
 * - `cadence_policy`: the cadence table, one document `_id: "current"`.
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { encodeEvent, type OutgoingEvent } from "@whiteslip/bus";
import { notification as pb, Topics } from "@whiteslip/contracts";
import type { PiiCipher } from "@whiteslip/pii";
import {
  ensureIndexes,
  handleCommand,
  insertOnce,
  isDuplicateKey,
  outboxFields,
  outcome,
  pushEvents,
  write,
} from "@whiteslip/store";
import { addDays, deterministicId } from "@whiteslip/core";
import { deleteByIds, findByIds } from "./by-id";
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
  isUnsent,
  type Locale,
  type Message,
  type Preferences,
  type UnsentReasonCode,
} from "../domain/model";
import type { EngagementSample } from "../domain/schedule";
import type { AccountFacts, Supersession } from "../domain/validity";
import { channelToPb, kindToPb, refOf, statusToPb } from "./proto-mapping";

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
  "reasonCode",
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
  const { _id, inboxRank: _r, pendingEvents: _p, outbox: _ob, ...rest } = d;
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
    case "UNSENT":
      return encodeEvent(Topics.NotificationSuppressed, {
        id: deterministicId("NotificationSuppressed", m.id),
        key,
        time: e.at,
        data: create(pb.NotificationSuppressedSchema, {
          ref,
          status: statusToPb(m.status),
          reasonCode: m.reasonCode ?? defaultCode(m.status),
          reason: m.statusReason ?? m.lastError ?? "",
          decidedAt: timestampFromDate(e.at),
        }),
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

/** The code of an unsent message written without one (every writer sets it; kept so a contract check never fails on it). */
function defaultCode(status: Message["status"]): UnsentReasonCode {
  return status === "EXPIRED" ? "VALIDITY_ENDED" : status === "SUPERSEDED" ? "SUPERSEDED_BY_NEWER_NOTICE" : "OPTED_OUT";
}

/** The document of a new message: a message planned unsent carries its NotificationSuppressed (at its creation). */
function newDoc(m: Message): MessageDoc {
  const doc = toDoc(m);
  return isUnsent(m.status) ? { ...doc, ...outboxFields(encodeNotificationEvents(m, [{ type: "UNSENT", at: m.createdAt }])) } : doc;
}

/** Collections of the due queue: `due_<yyyymmddHHMM>` (UTC minute), one per minute that has messages due in it. */
export const DUE_PREFIX = "due_";

/** The due-queue collection of the minute `at` falls in. */
export function dueBucket(at: Date): string {
  return `${DUE_PREFIX}${at.toISOString().slice(0, 16).replace(/[-T:]/g, "")}`;
}

/** The first instant of a due-queue collection's minute (undefined for another name). */
export function bucketStart(name: string): Date | undefined {
  const m = /^due_(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(name);
  return m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!)) : undefined;
}

/** When a message in this state is next due to the dispatcher; undefined when nothing will happen to it on its own. */
export function dueAt(m: Pick<Message, "status" | "scheduledAt" | "claimExpiresAt" | "reconcileAt">): Date | undefined {
  switch (m.status) {
    case "SCHEDULED":
    case "HELD":
      return m.scheduledAt;
    case "SENDING":
      return m.claimExpiresAt;
    case "RECONCILE":
      return m.reconcileAt ?? undefined;
    default:
      return undefined;
  }
}

/** How long findDue keeps a due-queue entry whose message it does not find (see MongoMessageRepository.missing). */
const ORPHAN_GRACE_MS = 60_000;

interface DueEntry {
  /** The message id. */
  _id: string;
  /** When it is due (a hint: the message document decides). */
  at: Date;
}

/** Cap-counted sends of one customer per local day (`cap_counts`, `_id` = customer id). */
interface CapDoc {
  _id: string;
  days: Record<string, number>;
}

const SENT_STATUSES = new Set<Message["status"]>(["SENT", "DELIVERED"]);

/**
 * Messages, facts and the inbox in Mongo.
 *
 * Every path the due wave takes is served by `_id` (see by-id.ts for why; README, "Keeping up with a due wave"):
 * - **due queue**: a message that will be due (SCHEDULED/HELD at `scheduledAt`, SENDING at its claim's expiry,
 *   RECONCILE at `reconcileAt`) has an entry `{_id: message id, at}` in the collection of that minute,
 *   `due_<yyyymmddHHMM>`, written *before* the message state that needs it (so the queue may hold stale entries,
 *   never miss one). The dispatcher reads the minutes that have begun with `find({}).limit(n)` (FerretDB pushes a
 *   limit without a filter down to SQLite), loads the messages by `_id`, and removes an entry once the message moved on;
 * - **state changes** are conditional updates whose filter starts with the `_id` (served from the primary key, and
 *   atomic per document on MongoDB and on the testkit's FerretDB build);
 * - **cap counters**: `cap_counts/<customer>` holds cap-counted sends per local day, `$inc`ed before the record of a
 *   send (a crash in between over-counts by one: stricter, never looser), so a cap never needs a count query.
 */
export class MongoMessageRepository implements MessageRepository {
  readonly messages: Collection<MessageDoc>;
  private readonly caps: Collection<CapDoc>;
  private readonly meta: Collection<{ _id: string; at: Date }>;
  private readonly facts: Collection<{
    _id: string;
    factType: string;
    messageIds: string[];
    processedAt: Date;
  }>;
  /** Due-queue collections this process knows to hold an entry per message (removed once the message moved on). */
  private readonly entries = new Map<string, Set<string>>();
  /** Entries to delete, per due-queue collection (see dequeue). */
  private readonly removals = new Map<string, string[]>();
  /**
   * Due-queue entries whose message findDue did not find, with when it first did not (performance.now()). An entry is
   * written before its message, so a read can fall between the two: such an entry is kept, and dropped as stale only
   * once its message has been missing for `orphanGraceMs` (a writer that died between the two writes).
   */
  private readonly missing = new Map<string, number>();
  constructor(
    private readonly db: Db,
    private readonly opts: { orphanGraceMs?: number } = {},
  ) {
    this.messages = db.collection<MessageDoc>("messages");
    this.caps = db.collection<CapDoc>("cap_counts");
    this.meta = db.collection("meta");
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
      { key: { accountId: 1, status: 1 }, serves: "supersedeQueued (payment, cure, newer notice)" },
      { key: { customerId: 1, createdAt: -1 }, serves: "ListNotifications" },
      {
        key: { customerId: 1, channel: 1, status: 1, inboxRank: -1, deliveredAt: -1 },
        serves: "ListInbox, countUnread, MarkInboxRead",
      },
    ]);
  }

  /**
   * Once per database: entries in the due queue for the pending messages and cap counters from the sends of messages
   * stored before the queue existed (one scan, marked done in `meta`). Idempotent: entries are upserts, counters
   * are set from the count, not added to.
   */
  async migrate(): Promise<{ queued: number; counters: number } | undefined> {
    if (await this.meta.findOne({ _id: "due-queue-v1" })) return undefined;
    const pending = await this.messages
      .find(q({ status: { $in: ["SCHEDULED", "HELD", "SENDING", "RECONCILE"] } }), { projection: { pendingEvents: 0 } })
      .toArray();
    const due = pending.map(fromDoc).flatMap((m) => {
      const at = dueAt(m);
      return at ? [{ id: m.id, at }] : [];
    });
    await this.enqueue(due);
    const perCustomer = new Map<string, Record<string, number>>();
    for (const d of await this.messages.find(q({ capDay: { $ne: null } }), { projection: { customerId: 1, capDay: 1 } }).toArray()) {
      const days = perCustomer.get(d.customerId) ?? {};
      days[d.capDay!] = (days[d.capDay!] ?? 0) + 1;
      perCustomer.set(d.customerId, days);
    }
    const ops = [...perCustomer].map(([c, days]) => ({ updateOne: { filter: { _id: c }, update: { $set: { days } }, upsert: true } }));
    for (let i = 0; i < ops.length; i += 500) await this.caps.bulkWrite(ops.slice(i, i + 500), { ordered: false });
    await insertOnce(this.meta, { _id: "due-queue-v1", at: new Date() });
    return { queued: due.length, counters: perCustomer.size };
  }

  async factProcessed(factEventId: string): Promise<boolean> {
    return (await this.facts.findOne({ _id: factEventId }, { projection: { _id: 1 } })) !== null;
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
    return new Set((await findByIds(this.facts, factEventIds, { _id: 1 })).map((d) => d._id));
  }
  async markFactsProcessed(facts: { factEventId: string; factType: string; messageIds: string[] }[], now: Date): Promise<void> {
    await insertManyOnce(this.facts, facts.map((f) => ({ _id: f.factEventId, factType: f.factType, messageIds: f.messageIds, processedAt: now })));
  }
  /**
   * One unordered insert of all; an id that exists is a duplicate, left as it is (its index is not returned). The
   * due-queue entries of the pending ones are written first.
   */
  async insertNew(ms: Message[]): Promise<string[]> {
    if (ms.length === 0) return [];
    await this.enqueue(ms.flatMap((m) => {
      const at = dueAt(m);
      return at ? [{ id: m.id, at }] : [];
    }));
    if (ms.length === 1) return (await insertOnce(this.messages, newDoc(ms[0]!))) === "applied" ? [ms[0]!.id] : [];
    const dup = await insertManyOnce(this.messages, ms.map(newDoc));
    return ms.filter((_, i) => !dup.has(i)).map((m) => m.id);
  }

  /** Adds due-queue entries (one unordered insert per minute; an entry that exists is left as it is). */
  private async enqueue(items: { id: string; at: Date }[]): Promise<void> {
    const byBucket = new Map<string, DueEntry[]>();
    for (const { id, at } of items) {
      const b = dueBucket(at);
      const docs = byBucket.get(b);
      if (docs) docs.push({ _id: id, at });
      else byBucket.set(b, [{ _id: id, at }]);
      this.remember(id, b);
    }
    // the minutes are independent: written at once (all before the state that needs them, as the caller awaits)
    await Promise.all([...byBucket].map(([b, docs]) => insertManyOnce(this.db.collection<DueEntry>(b), docs)));
  }

  private remember(id: string, bucket: string): void {
    if (this.entries.size > 200_000) this.entries.clear(); // stale ones are also found and removed by findDue
    const set = this.entries.get(id) ?? new Set();
    set.add(bucket);
    this.entries.set(id, set);
  }

  /**
   * Marks the message's known entries but `keep` for removal; they are deleted together at the start of the next
   * findDue (one delete per minute instead of one per message; until then they are only stale entries).
   */
  private dequeue(id: string, keep?: string): void {
    const set = this.entries.get(id);
    if (!set) return;
    for (const b of set)
      if (b !== keep) {
        const ids = this.removals.get(b) ?? [];
        ids.push(id);
        this.removals.set(b, ids);
      }
    if (keep) this.entries.set(id, new Set([keep]));
    else this.entries.delete(id);
  }

  /** Deletes the entries dequeue marked. */
  private async flushRemovals(): Promise<void> {
    const all = [...this.removals];
    this.removals.clear();
    for (const [b, ids] of all) await deleteByIds(this.db.collection<DueEntry>(b), ids);
  }

  /** The due-queue collections whose minute has begun, oldest first. */
  private async dueBuckets(now: Date): Promise<{ name: string; start: Date }[]> {
    const names = await this.db.listCollections({}, { nameOnly: true }).toArray();
    return names
      .flatMap((c) => {
        const start = bucketStart(c.name);
        return start && start <= now ? [{ name: c.name, start }] : [];
      })
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Messages by `_id`. */
  private async load(ids: string[]): Promise<Message[]> {
    return (await findByIds(this.messages, ids, { pendingEvents: 0 })).map(fromDoc);
  }

  async countDue(now: Date): Promise<number> {
    await this.flushRemovals();
    let n = 0;
    for (const b of await this.dueBuckets(now))
      for (const e of await this.db.collection<DueEntry>(b.name).find({}).toArray()) if (e.at <= now) n++;
    return n;
  }

  /**
   * Due messages, read from the due queue's minutes that have begun (oldest first): each minute's entries with
   * `find({}).limit(n)`, their messages by `_id`. An entry whose message moved on (sent, rescheduled into another
   * minute, gone) is removed; one due later in the same minute, or whose message is being sent under a live claim
   * (it still counts as not sent), is kept. An empty minute is kept too (see below).
   */
  async findDue(now: Date, limit: number): Promise<Message[]> {
    await this.flushRemovals();
    const out: Message[] = [];
    const seen = new Set<string>();
    for (const b of await this.dueBuckets(now)) {
      if (out.length >= limit) break;
      const coll = this.db.collection<DueEntry>(b.name);
      const entries = await coll.find({}).limit(limit - out.length + 200).toArray();
      // An empty minute is kept, not dropped: a writer buckets an entry by the message's due time, which may be long
      // past (a message due at once for an old fact), so a drop after this read could race an insert into the same
      // minute and lose its entry — a message never sent. (Pruning old empty minutes needs a fence; not built.)
      if (entries.length === 0) continue;
      const ready = entries.filter((e) => e.at <= now && !seen.has(e._id));
      const found = new Map((await this.load(ready.map((e) => e._id))).map((m) => [m.id, m]));
      const stale: string[] = [];
      for (const e of ready) {
        seen.add(e._id);
        const m = found.get(e._id);
        if (!m && !this.orphaned(e._id)) continue; // its message may not be written yet (see `missing`)
        if (m) this.missing.delete(e._id);
        const at = m ? dueAt(m) : undefined;
        if (m && at && at <= now) {
          this.remember(m.id, b.name);
          if (out.length < limit) out.push(m);
        } else if (m && m.status === "SENDING") continue;
        else if (m && at && dueBucket(at) === b.name) continue;
        else stale.push(e._id);
      }
      await deleteByIds(coll, stale);
    }
    return out.sort((a, b) => a.scheduledAt.getTime() - b.scheduledAt.getTime() || a.id.localeCompare(b.id));
  }

  /** True once the entry's message has been missing for the grace period (the first miss starts it). */
  private orphaned(id: string): boolean {
    const t = performance.now();
    const since = this.missing.get(id);
    if (since === undefined) {
      if (this.missing.size > 100_000) this.missing.clear(); // only delays the drop of an orphan
      this.missing.set(id, t);
      return false;
    }
    if (t - since < (this.opts.orphanGraceMs ?? ORPHAN_GRACE_MS)) return false;
    this.missing.delete(id);
    return true;
  }

  /**
   * Stores `next` with one conditional update by `_id` (the fencing filter: the state the caller read, claim token
   * included). A send's cap count is added before and taken back when the update matched nothing; the due-queue
   * entry of the next state is written before, the entries the message was due by removed after.
   */
  async transition(
    next: Message,
    events: NotificationEvent[],
    expected: Pick<Message, "status" | "scheduledAt" | "claimToken">,
  ): Promise<boolean> {
    const { _id, ...set } = toDoc(next);
    const update: Document = { $set: set };
    if (events.length > 0) pushEvents(update, encodeNotificationEvents(next, events));
    // a send is counted once: recorded SENT/DELIVERED from a state that was not
    const counted = next.capDay && SENT_STATUSES.has(next.status) && !SENT_STATUSES.has(expected.status) ? next.capDay : undefined;
    if (counted) await this.countCap(next.customerId, counted, 1);
    // a claim needs no entry of its own: the one it was due by stays (findDue keeps it while the claim lives and
    // returns the message once the claim expired), so the backlog counts it until its outcome is recorded
    const at = next.status === "SENDING" ? undefined : dueAt(next);
    if (at) await this.enqueue([{ id: next.id, at }]);
    const r = await this.messages.updateOne(
      q({ _id, status: expected.status, scheduledAt: expected.scheduledAt, claimToken: expected.claimToken ?? null }),
      update,
    );
    if (r.matchedCount !== 1) {
      if (counted) await this.countCap(next.customerId, counted, -1);
      return false;
    }
    if (next.status !== "SENDING") this.dequeue(next.id, at ? dueBucket(at) : undefined);
    return true;
  }

  /** Adds `by` to a customer's cap-counted sends of `day`, dropping days a week-long cap no longer looks at. */
  private async countCap(customerId: string, day: string, by: number): Promise<void> {
    const unset: Document = {};
    for (let i = 8; i <= 14; i++) unset[`days.${addDays(day, -i)}`] = "";
    await this.caps.updateOne({ _id: customerId }, { $inc: { [`days.${day}`]: by }, $unset: unset }, { upsert: true });
  }

  /**
   * The queued supersedable messages of the account (served by the `accountId, status` index), then one conditional
   * write per message by `_id` — status, code, reason and its NotificationSuppressed together, so a crash between
   * leaves each message either queued (the dispatcher supersedes it when due) or superseded with its report.
   */
  async supersedeQueued(accountId: string, before: Date, s: Supersession, at: Date, channels?: readonly Channel[]): Promise<number> {
    const docs = await this.messages
      .find(
        q({
          accountId,
          supersedable: true,
          status: { $in: ["SCHEDULED", "HELD"] },
          factAt: { $lt: before },
          ...(channels ? { channel: { $in: [...channels] } } : {}),
        }),
        { projection: { pendingEvents: 0 } },
      )
      .toArray();
    return this.supersedeDocs(docs.map(fromDoc).map((m) => ({ m, before, s })), at);
  }
  async supersedeByIds(items: ({ id: string; before: Date } & Supersession)[], at: Date): Promise<number> {
    if (items.length === 0) return 0;
    const found = new Map((await this.load(items.map((x) => x.id))).map((m) => [m.id, m]));
    return this.supersedeDocs(
      items.flatMap((x) => {
        const m = found.get(x.id);
        return m ? [{ m, before: x.before, s: { code: x.code, reason: x.reason } }] : [];
      }),
      at,
    );
  }
  /** One conditional update per message (still queued, fact older than `before`): SUPERSEDED with its report. */
  private async supersedeDocs(items: { m: Message; before: Date; s: Supersession }[], at: Date): Promise<number> {
    if (items.length === 0) return 0;
    const r = await this.messages.bulkWrite(
      items.map(({ m, before, s }) => {
        const next: Message = { ...m, status: "SUPERSEDED", statusReason: s.reason, reasonCode: s.code };
        return {
          updateOne: {
            filter: q({ _id: m.id, supersedable: true, status: { $in: ["SCHEDULED", "HELD"] }, factAt: { $lt: before } }),
            update: pushEvents(
              { $set: { status: "SUPERSEDED", statusReason: s.reason, reasonCode: s.code } } as Document,
              encodeNotificationEvents(next, [{ type: "UNSENT", at }]),
            ),
          },
        };
      }),
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
    return (await this.cappedSentPerDayMany([customerId], days)).get(customerId) ?? {};
  }
  async cappedSentPerDayMany(customerIds: string[], days: string[]): Promise<Map<string, Record<string, number>>> {
    const out = new Map<string, Record<string, number>>();
    for (const d of await findByIds(this.caps, customerIds)) {
      const per: Record<string, number> = {};
      for (const day of days) if (d.days?.[day]) per[day] = d.days[day]!;
      out.set(d._id, per);
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
    const r = await this.messages.updateOne(
      { _id: m.id, engagedKinds: { $ne: kind } },
      pushEvents({ $push: { engagedKinds: kind } } as Document, encodeNotificationEvents(m, [{ type: "ENGAGED", at, kind }])),
    );
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
    for (const { _id, ...facts } of await findByIds(this.accounts, accountIds)) out.set(_id, facts);
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
    for (const d of await findByIds(this.customers, customerIds)) out.set(d._id, this.open(d));
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
