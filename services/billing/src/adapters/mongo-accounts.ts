/**
 * Accounts in Mongo: one document per account (the aggregate), its unpublished
 * events in `pendingEvents` (the outbox the relay drains). Every change is one
 * single-document update guarded by `version`; end-of-day pages are one
 * unordered bulk write guarded by `eodDate < D`, so a replay is a no-op; the
 * end-of-day reads only the accounts on the date's agenda (see MongoAccounts).
 */
import { encodeEvent, type OutgoingEvent } from "@whiteslip/bus";
import { type TopicSpec, Topics } from "@whiteslip/contracts";
import { randomUUID } from "node:crypto";
import { addDays, type Clock, compareDates, DomainError, type Fen, isInfrastructureError, type LocalDate, systemClock } from "@whiteslip/core";
import { ensureIndexes, isDuplicateKey, outboxFields, pushEvents, type StoredEvent, toStored } from "@whiteslip/store";
import { type AnyBulkWriteOperation, Binary, type Collection, type Db, type Document } from "mongodb";
import type { AccountRepository, EodCandidate, EodItem, EodMark, Shard } from "../app/ports";
import { type Account, shardKeyOf } from "../domain/account";
import { nextActionDate, snapshotOf } from "../domain/end-of-day";
import type { ProductConfig } from "../domain/product";
import type { BillingEvent } from "../domain/events";

/**
 * The end-of-day outbox of an account: the events of its last end-of-day write, stored in the same
 * single-document update as the effects, and the page write (`page`, an `eod_pages` id) that wrote them. The
 * events are published from memory right after the page's bulk write; whether they were is recorded once per
 * page write (`eod_pages`), not per account — so the outbox relay never sees them and never rewrites the account.
 */
export interface EodOutbox {
  page: string;
  date: LocalDate;
  events: StoredEvent[];
}

/** Stored shape: the aggregate minus `id` (it is `_id`) plus the outboxes. */
export type AccountDoc = Omit<Account, "id"> & { _id: string; pendingEvents?: unknown[]; eodMark?: EodMark; eodOutbox?: EodOutbox };

/** Not part of the aggregate: the outboxes and the last end-of-day's contribution (see EodMark). */
const NOT_AGGREGATE = { pendingEvents: 0, eodMark: 0, eodOutbox: 0 } as const;

/**
 * One page write of end-of-day events (`eod_pages`): inserted before the page's bulk write with the ids of
 * the accounts given events, marked `published` once the broker acknowledged them. An unpublished one whose
 * writer is gone is published again from the accounts' end-of-day outboxes (consumers dedupe by event id).
 */
interface PageWriteDoc {
  _id: string;
  date: LocalDate;
  shard: number;
  ids: string[];
  published: boolean;
  /** Wall-clock time of the write (the supervisor's safety net takes those older than two leases). */
  at: Date;
}

/** Optional top-level fields that must be `$unset` when the domain clears them. */
const OPTIONAL_FIELDS = ["delinquencyStartDate", "chargedOffDate", "plan", "nextActionDate"] as const;

/** The accounts collection, reading int64 as bigint and never writing `undefined` as null. */
export function accountsCollection(db: Db): Collection<AccountDoc> {
  return db.collection<AccountDoc>("accounts", { useBigInt64: true, ignoreUndefined: true });
}

/** Declares the indexes next to the queries they serve. */
export async function ensureAccountIndexes(coll: Collection<AccountDoc>): Promise<void> {
  await ensureIndexes(coll, [
    { key: { status: 1, chargedOffDate: 1 }, serves: "chargedOffBetween, chargedOffTotal (portfolio stats)" },
  ]);
}

/** Encodes domain events as CloudEvents at `time`. */
export function encodeEvents(events: BillingEvent[], time: Date): OutgoingEvent[] {
  return events.map((e) => encodeEvent(Topics[e.type] as TopicSpec, { id: e.id, key: e.key, time, data: e.data as never }));
}

function toDoc(a: Account): { set: Document; unset: Document } {
  const { id: _id, ...rest } = a;
  const unset: Document = {};
  for (const f of OPTIONAL_FIELDS) if (a[f] === undefined) unset[f] = "";
  return { set: rest, unset };
}

function fromDoc(d: AccountDoc): Account {
  const { _id, pendingEvents: _p, outbox: _ob, eodMark: _m, eodOutbox: _o, ...rest } = d as AccountDoc & { outbox?: string };
  return { id: _id, ...(rest as Omit<Account, "id">) };
}

/**
 * Seeds accounts straight into the database as steady state has them (benchmarks, the fault suite): each
 * with its agenda hint and its entry on that date's agenda, and the mark of its last end-of-day (its
 * portfolio contribution), so the next end-of-day treats them exactly as accounts it ran itself.
 */
export async function seedAccounts(db: Db, accounts: Account[], product: ProductConfig): Promise<void> {
  const agenda = new Map<LocalDate, string[]>();
  const docs: AccountDoc[] = accounts.map((a) => {
    a.nextActionDate = nextActionDate(a, product);
    if (a.nextActionDate) (agenda.get(a.nextActionDate) ?? agenda.set(a.nextActionDate, []).get(a.nextActionDate)!).push(a.id);
    const { id, ...rest } = a;
    const eodMark: EodMark = { date: a.eodDate, page: "seed", counts: { statementsIssued: 0, dueSoon: 0, overdue: 0, chargedOff: 0, lateFees: 0 }, snapshot: snapshotOf(a, a.eodDate, product, 0n), version: a.version };
    return { _id: id, ...rest, pendingEvents: [], eodMark };
  });
  for (const [date, ids] of agenda) await db.collection<AgendaDoc>(`${AGENDA_PREFIX}${date}`).insertOne({ _id: randomUUID(), ids });
  await accountsCollection(db).insertMany(docs, { ordered: false });
  // written as sparse end-of-day writes them: nothing for the agenda backfill to do
  await db.collection<{ _id: string }>("state").updateOne({ _id: "agenda-backfill" }, { $setOnInsert: { doneAt: new Date(0), accounts: 0 } }, { upsert: true });
}

/** The agenda of a business date: collection `eod_agenda_<date>` of small documents, each listing accounts with work that day. */
export const AGENDA_PREFIX = "eod_agenda_";
interface AgendaDoc {
  _id: string;
  ids: string[];
}
/** How long a date's agenda is kept after the date completed (for an operator's look), in days. */
const AGENDA_KEEP_DAYS = 7;

function inShard(id: string, s: Shard): boolean {
  return s.count <= 1 || shardKeyOf(id) % s.count === s.index;
}

/** A stored event as the bus publishes it. */
function fromStoredEvent(s: StoredEvent): OutgoingEvent {
  const v = s.value as unknown as Binary | Uint8Array;
  return { topic: s.topic, key: s.key, value: new Uint8Array(v instanceof Binary ? v.buffer : v), headers: s.headers };
}

/** Index of the first element of sorted `ids` greater than `after`. */
function upperBound(ids: string[], after: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid]! <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** $in lookups are pushed down to the database (and served by _id) up to this many ids. */
const IN_CHUNK = 1000;

/**
 * AccountRepository on Mongo.
 *
 * The end-of-day agenda (sparse end-of-day): every write of an account with an agenda hint
 * (`nextActionDate`) first adds the account to the agenda of that date — a document in
 * `eod_agenda_<date>` — and the run of D reads only `eod_agenda_<D>` and the accounts it lists, by `_id`.
 * Entries are never removed before their date, so the agenda is a superset of the accounts with work
 * (an account whose hint moved is read and skipped); it is written before the account, so no crash
 * leaves an account with a hint the agenda lacks. A command also puts its account on the next day's
 * agenda: a change that lands after D's run read its agenda is picked up by D+1's.
 */
export class MongoAccounts implements AccountRepository {
  /** Candidate ids of the agenda of (date, shard), sorted (loaded once per run in this process). */
  private readonly candidatesCache = new Map<string, Promise<string[]>>();

  /** Milliseconds spent in the parts of end-of-day page writes since start (the benchmark prints them). */
  readonly pageWriteMs = { agenda: 0, previousOutboxes: 0, bulkWrite: 0, publish: 0, records: 0 };
  /** Page writes known published (so the next write of their accounts may replace their outbox without a look). */
  private readonly publishedPages = new Set<string>();
  private readonly pages: Collection<PageWriteDoc>;

  /**
   * `publish` puts end-of-day events on the broker (the bus's idempotent producer); `wallClock` dates the
   * page writes for the safety net (never the business clock, which time travel moves).
   */
  constructor(
    private readonly coll: Collection<AccountDoc>,
    private readonly clock: Clock,
    private readonly db: Db,
    private readonly publish: (events: OutgoingEvent[]) => Promise<void> = async () => {
      throw new Error("MongoAccounts: no publisher for end-of-day events");
    },
    private readonly wallClock: Clock = systemClock,
  ) {
    this.pages = db.collection<PageWriteDoc>("eod_pages");
  }

  /** Publishes; any failure is the broker's (the events are stored): retried by the run, never a failed shard. */
  private async publishEvents(events: OutgoingEvent[]): Promise<void> {
    try {
      await this.publish(events);
    } catch (e) {
      if (isInfrastructureError(e)) throw e;
      throw new DomainError("unavailable", `end-of-day events not published (stored; retried): ${(e as Error).message}`, "BROKER_UNAVAILABLE");
    }
  }

  private agenda(date: LocalDate): Collection<AgendaDoc> {
    return this.db.collection<AgendaDoc>(`${AGENDA_PREFIX}${date}`);
  }

  async schedule(ids: string[], date: LocalDate): Promise<void> {
    if (ids.length) await this.agenda(date).insertOne({ _id: randomUUID(), ids });
  }

  /** Puts each account on the agenda of its hint (and, `alsoNextDay`, of the day after). */
  private async scheduleAccounts(accounts: Account[], alsoNextDay = false): Promise<void> {
    const byDate = new Map<LocalDate, string[]>();
    const add = (d: LocalDate, id: string) => (byDate.get(d) ?? byDate.set(d, []).get(d)!).push(id);
    for (const a of accounts) {
      if (a.nextActionDate === undefined) continue;
      add(a.nextActionDate, a.id);
      if (alsoNextDay) add(addDays(a.nextActionDate, 1), a.id);
    }
    await Promise.all([...byDate].map(([d, ids]) => this.schedule(ids, d)));
  }

  async retireAgenda(date: LocalDate): Promise<void> {
    const old = addDays(date, -AGENDA_KEEP_DAYS);
    await this.agenda(old)
      .drop()
      .catch(() => undefined);
    // page writes of that date and before that are published (those that are not stay for the safety net)
    await this.pages.deleteMany({ date: { $lte: old }, published: true });
  }

  private candidates(date: LocalDate, shard: Shard): Promise<string[]> {
    const key = `${date}|${shard.index}/${shard.count}`;
    let c = this.candidatesCache.get(key);
    if (!c) {
      for (const k of this.candidatesCache.keys()) if (!k.startsWith(`${date}|`)) this.candidatesCache.delete(k);
      c = (async () => {
        const ids = new Set<string>();
        for await (const d of this.agenda(date).find({})) for (const id of d.ids) if (inShard(id, shard)) ids.add(id);
        return [...ids].sort();
      })();
      c.catch(() => this.candidatesCache.delete(key));
      this.candidatesCache.set(key, c);
    }
    return c;
  }

  async get(id: string): Promise<Account | null> {
    const d = await this.coll.findOne({ _id: id }, { projection: NOT_AGGREGATE });
    return d ? fromDoc(d) : null;
  }

  async getMany(ids: string[]): Promise<Account[]> {
    if (ids.length === 0) return [];
    return (await this.coll.find({ _id: { $in: ids } }, { projection: NOT_AGGREGATE }).toArray()).map(fromDoc);
  }

  async getManyForEod(ids: string[]): Promise<EodCandidate[]> {
    const out: EodCandidate[] = [];
    for (let i = 0; i < ids.length; i += IN_CHUNK) {
      const docs = await this.coll.find({ _id: { $in: ids.slice(i, i + IN_CHUNK) } }, { projection: { pendingEvents: 0 } }).toArray();
      for (const d of docs) out.push({ account: fromDoc(d), ...(d.eodMark ? { mark: d.eodMark } : {}), ...(d.eodOutbox ? { outboxPage: d.eodOutbox.page } : {}) });
    }
    return out.sort((x, y) => (x.account.id < y.account.id ? -1 : x.account.id > y.account.id ? 1 : 0));
  }

  async insert(a: Account, events: BillingEvent[]): Promise<"inserted" | "exists"> {
    const { set } = toDoc(a);
    await this.scheduleAccounts([a]);
    try {
      await this.coll.insertOne({ _id: a.id, ...(set as Omit<Account, "id">), ...outboxFields(encodeEvents(events, this.clock.now())) });
      return "inserted";
    } catch (e) {
      if (isDuplicateKey(e)) return "exists";
      throw e;
    }
  }

  async update(a: Account, expectedVersion: number, events: BillingEvent[]): Promise<boolean> {
    const { set, unset } = toDoc(a);
    const update: Document = { $set: set };
    if (Object.keys(unset).length) update.$unset = unset;
    if (events.length) pushEvents(update, encodeEvents(events, this.clock.now()));
    await this.scheduleAccounts([a], true);
    const r = await this.coll.updateOne({ _id: a.id, version: expectedVersion }, update);
    return r.matchedCount === 1;
  }

  async countScheduled(date: LocalDate, shard: Shard): Promise<number> {
    return (await this.candidates(date, shard)).length;
  }

  /**
   * One page of the accounts with work on `date`: the next ids of the date's agenda after `afterId`,
   * read by `_id`; those no longer due (hint moved later, already through `date`, charged off) are
   * skipped. A page may hold fewer than `limit` accounts; an empty one means the agenda is done.
   */
  async eodPage(date: LocalDate, shard: Shard, afterId: string | undefined, limit: number, throughId?: string): Promise<EodCandidate[]> {
    const ids = await this.candidates(date, shard);
    let i = afterId === undefined ? 0 : upperBound(ids, afterId);
    const due = (c: EodCandidate) =>
      c.account.status === "ACTIVE" && compareDates(c.account.eodDate, date) < 0 && c.account.nextActionDate !== undefined && compareDates(c.account.nextActionDate, date) <= 0;
    if (throughId !== undefined) {
      // A retried page: exactly its own range again.
      const end = upperBound(ids, throughId);
      return (await this.getManyForEod(ids.slice(i, end))).filter(due);
    }
    while (i < ids.length) {
      const chunk = ids.slice(i, i + limit);
      i += chunk.length;
      const page = (await this.getManyForEod(chunk)).filter(due);
      if (page.length) return page;
    }
    return [];
  }

  async applyEodPage(date: LocalDate, items: EodItem[], shard: Shard): Promise<{ applied: string[]; redo: string[] }> {
    if (items.length === 0) return { applied: [], redo: [] };
    const now = this.clock.now();
    const ms = this.pageWriteMs;
    let t = Date.now();
    const lap = (k: keyof typeof ms) => {
      const n = Date.now();
      ms[k] += n - t;
      t = n;
    };
    // The agenda first: an account never carries a hint its agenda lacks.
    await this.scheduleAccounts(items.map((i) => i.account));
    lap("agenda");
    // This write replaces the accounts' end-of-day outboxes: those of page writes not known published are
    // published first (normally none: a page is published right after its write; this catches a writer that died).
    await this.publishPreviousOutboxes(items);
    lap("previousOutboxes");
    const withEvents = items.filter((i) => i.events.length > 0);
    const write = `${items[0]!.mark.page}@${randomUUID().slice(0, 8)}`;
    const encoded = new Map(withEvents.map((i) => [i.account.id, encodeEvents(i.events, now)]));
    if (withEvents.length)
      await this.pages.insertOne({ _id: write, date, shard: shard.index, ids: withEvents.map((i) => i.account.id), published: false, at: this.wallClock.now() });
    lap("records");
    const ops: AnyBulkWriteOperation<AccountDoc>[] = items.map(({ account, expectedVersion, mark }) => {
      const { set, unset } = toDoc(account);
      const events = encoded.get(account.id);
      const update: Document = { $set: { ...set, eodMark: mark, ...(events ? { eodOutbox: { page: write, date, events: toStored(events) } } : {}) } };
      // no events: the previous outbox (published, see above) is cleared in the same update
      const u = { ...unset, ...(events ? {} : { eodOutbox: "" }) };
      if (Object.keys(u).length) update.$unset = u;
      return { updateOne: { filter: { _id: account.id, version: expectedVersion, eodDate: { $lt: date } }, update } };
    });
    const r = await this.coll.bulkWrite(ops, { ordered: false });
    lap("bulkWrite");
    // Every matched update is ours (the filter requires "not yet through date"): all applied.
    let result: { applied: string[]; redo: string[] };
    if (r.matchedCount === items.length) result = { applied: items.map((i) => i.account.id), redo: [] };
    else {
      const page = items[0]!.mark.page;
      const now2 = await this.coll
        .find({ _id: { $in: items.map((i) => i.account.id) } }, { projection: { _id: 1, eodDate: 1, status: 1, "eodMark.page": 1 } })
        .toArray();
      const applied: string[] = [];
      const redo: string[] = [];
      for (const d of now2) {
        if (d.eodMark?.page === page && d.eodDate === date) applied.push(d._id);
        else if (d.status === "ACTIVE" && compareDates(d.eodDate, date) < 0) redo.push(d._id);
      }
      result = { applied, redo };
    }
    if (withEvents.length) {
      // Published from memory: the events of the updates this write applied (the others are recomputed and
      // written again with a write of their own). A failure here leaves the page write unpublished: the shard
      // publishes it before it completes, the supervisor if its writer died.
      const applied = new Set(result.applied);
      const events = withEvents.filter((i) => applied.has(i.account.id)).flatMap((i) => encoded.get(i.account.id)!);
      if (events.length) await this.publishEvents(events);
      lap("publish");
      await this.pages.updateOne({ _id: write }, { $set: { published: true } });
      lap("records");
      this.publishedPages.add(write);
    }
    return result;
  }

  /** Publishes the outboxes the items' write is about to replace, when their page write's publication is not on record. */
  private async publishPreviousOutboxes(items: EodItem[]): Promise<void> {
    const unknown = [...new Set(items.flatMap((i) => (i.outboxPage && !this.publishedPages.has(i.outboxPage) ? [i.outboxPage] : [])))];
    if (unknown.length === 0) return;
    const docs = await this.pages.find({ _id: { $in: unknown } }).toArray();
    // A page write not on record any more was retired after its date completed (published, or swept).
    for (const id of unknown) if (!docs.some((d) => d._id === id)) this.publishedPages.add(id);
    for (const d of docs) await this.publishPageWrite(d);
  }

  /** Publishes one page write's events from its accounts' end-of-day outboxes (those still holding them) and records it published. */
  private async publishPageWrite(w: PageWriteDoc): Promise<number> {
    let n = 0;
    if (!w.published) {
      for (let i = 0; i < w.ids.length; i += IN_CHUNK) {
        const docs = await this.coll.find({ _id: { $in: w.ids.slice(i, i + IN_CHUNK) } }, { projection: { eodOutbox: 1 } }).toArray();
        const events = docs.flatMap((d) => (d.eodOutbox?.page === w._id ? d.eodOutbox.events.map(fromStoredEvent) : []));
        if (events.length) await this.publishEvents(events);
        n += events.length;
      }
      await this.pages.updateOne({ _id: w._id }, { $set: { published: true } });
    }
    this.publishedPages.add(w._id);
    return n;
  }

  /**
   * The one-off agenda backfill for accounts stored before sparse end-of-day (no agenda hint, no mark): each
   * active account without a hint gets its hint, its entry on that date's agenda (the current business date
   * when the hint is already past: that run catches it up), and, without a mark, the mark of its last
   * end-of-day (its portfolio contribution, as the seeder writes it). Idempotent: it touches only accounts
   * without a hint, guarded by version, and never changes their state; the agenda entry is written first.
   * Recorded done in `state` (`agenda-backfill`), so later starts skip the scan. Returns the accounts changed.
   */
  async backfillAgenda(current: LocalDate, productOf: (code: string) => ProductConfig | undefined): Promise<number> {
    const state = this.db.collection<{ _id: string; doneAt?: Date; accounts?: number }>("state");
    if (await state.findOne({ _id: "agenda-backfill", doneAt: { $exists: true } })) return 0;
    let changed = 0;
    let batch: AccountDoc[] = [];
    const flush = async () => {
      const items: { d: AccountDoc; hint: LocalDate; mark?: EodMark }[] = [];
      for (const d of batch) {
        const a = fromDoc(d);
        const p = productOf(a.productCode);
        if (!p) continue; // an unknown product: end-of-day quarantines it when it is next scheduled
        const hint = nextActionDate(a, p);
        if (!hint) continue;
        const at = compareDates(hint, current) < 0 ? current : hint;
        const mark: EodMark | undefined = d.eodMark
          ? undefined
          : { date: a.eodDate, page: "agenda-backfill", counts: { statementsIssued: 0, dueSoon: 0, overdue: 0, chargedOff: 0, lateFees: 0 }, snapshot: snapshotOf(a, a.eodDate, p, 0n), version: a.version };
        items.push({ d, hint: at, ...(mark ? { mark } : {}) });
      }
      batch = [];
      if (items.length === 0) return;
      const byDate = new Map<LocalDate, string[]>();
      for (const { d, hint } of items) (byDate.get(hint) ?? byDate.set(hint, []).get(hint)!).push(d._id);
      for (const [date, ids] of byDate) await this.schedule(ids, date);
      const r = await this.coll.bulkWrite(
        items.map(({ d, hint, mark }) => ({
          updateOne: { filter: { _id: d._id, version: d.version, nextActionDate: { $exists: false } }, update: { $set: { nextActionDate: hint, ...(mark ? { eodMark: mark } : {}) } } },
        })),
        { ordered: false },
      );
      changed += r.modifiedCount;
    };
    for await (const d of this.coll.find({ status: "ACTIVE", nextActionDate: { $exists: false } }, { projection: { pendingEvents: 0, eodOutbox: 0 } })) {
      batch.push(d);
      if (batch.length >= IN_CHUNK) await flush();
    }
    await flush();
    await state.updateOne({ _id: "agenda-backfill" }, { $set: { doneAt: this.wallClock.now(), accounts: changed } }, { upsert: true });
    return changed;
  }

  async publishPending(scope: { date: LocalDate; shard: Shard } | { before: Date }): Promise<number> {
    // eod_pages holds a few documents per page of a few recent dates: a filter other than _id scans it, cheaply.
    const filter = "before" in scope ? { published: false, at: { $lt: scope.before } } : { published: false, date: scope.date, shard: scope.shard.index };
    let n = 0;
    for (const w of await this.pages.find(filter).toArray()) n += await this.publishPageWrite(w);
    return n;
  }

  /** The marks of the shard's agenda accounts in (afterId, throughId]. */
  private async *agendaMarks(date: LocalDate, shard: Shard, afterId?: string, throughId?: string): AsyncIterable<EodMark> {
    const ids = await this.candidates(date, shard);
    const from = afterId === undefined ? 0 : upperBound(ids, afterId);
    const to = throughId === undefined ? ids.length : upperBound(ids, throughId);
    for (let i = from; i < to; i += IN_CHUNK) {
      const docs = await this.coll.find({ _id: { $in: ids.slice(i, Math.min(to, i + IN_CHUNK)) } }, { projection: { eodMark: 1 } }).toArray();
      for (const d of docs) if (d.eodMark?.date === date) yield d.eodMark;
    }
  }

  async pageMarks(date: LocalDate, shard: Shard, pageId: string, afterId: string | undefined, throughId: string): Promise<EodMark[]> {
    const out: EodMark[] = [];
    for await (const m of this.agendaMarks(date, shard, afterId, throughId)) if (m.page === pageId) out.push(m);
    return out;
  }

  marksOf(date: LocalDate, shard: Shard): AsyncIterable<EodMark> {
    return this.agendaMarks(date, shard);
  }

  async countMarks(date: LocalDate, shard: Shard): Promise<number> {
    let n = 0;
    for await (const _ of this.agendaMarks(date, shard)) n++;
    return n;
  }

  async *scanAll(): AsyncIterable<EodCandidate> {
    for await (const d of this.coll.find({}, { projection: { pendingEvents: 0 } })) yield { account: fromDoc(d), ...(d.eodMark ? { mark: d.eodMark } : {}) };
  }

  async chargedOffBetween(from: LocalDate, to: LocalDate) {
    const docs = await this.coll
      .find({ status: "CHARGED_OFF", chargedOffDate: { $gt: from, $lte: to } }, { projection: { _id: 1, bucketLog: 1, chargedOffDate: 1, chargedOffFen: 1 } })
      .toArray();
    return docs.map((d) => ({ id: d._id, bucketLog: d.bucketLog, chargedOffDate: d.chargedOffDate, chargedOffFen: d.chargedOffFen }));
  }

  async chargedOffTotal(date: LocalDate): Promise<Fen> {
    let total = 0n;
    for await (const d of this.coll.find({ status: "CHARGED_OFF", chargedOffDate: { $lte: date } }, { projection: { chargedOffFen: 1 } })) total += BigInt(d.chargedOffFen);
    return total;
  }
}
