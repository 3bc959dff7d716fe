/**
 * Accounts in Mongo: one document per account (the aggregate), its unpublished
 * events in `pendingEvents` (the outbox the relay drains). Every change is one
 * single-document update guarded by `version`; end-of-day pages are one
 * unordered bulk write guarded by `eodDate < D`, so a replay is a no-op.
 */
import { encodeEvent, type OutgoingEvent } from "@whiteslip/bus";
import { type TopicSpec, Topics } from "@whiteslip/contracts";
import { type Clock, compareDates, type Fen, type LocalDate } from "@whiteslip/core";
import { ensureIndexes, isDuplicateKey, pushEvents, toStored } from "@whiteslip/store";
import type { AnyBulkWriteOperation, Collection, Db, Document, Filter, FindCursor } from "mongodb";
import type { AccountRepository, EodItem, EodMark, Shard } from "../app/ports";
import type { Account } from "../domain/account";
import type { BillingEvent } from "../domain/events";

/** Stored shape: the aggregate minus `id` (it is `_id`) plus the outbox. */
export type AccountDoc = Omit<Account, "id"> & { _id: string; pendingEvents?: unknown[]; eodMark?: EodMark };

/** Not part of the aggregate: the outbox and the last end-of-day's contribution (see EodMark). */
const NOT_AGGREGATE = { pendingEvents: 0, eodMark: 0 } as const;

/** Optional top-level fields that must be `$unset` when the domain clears them. */
const OPTIONAL_FIELDS = ["delinquencyStartDate", "chargedOffDate", "plan"] as const;

/** The accounts collection, reading int64 as bigint and never writing `undefined` as null. */
export function accountsCollection(db: Db): Collection<AccountDoc> {
  return db.collection<AccountDoc>("accounts", { useBigInt64: true, ignoreUndefined: true });
}

/** Declares the indexes next to the queries they serve. */
export async function ensureAccountIndexes(coll: Collection<AccountDoc>): Promise<void> {
  await ensureIndexes(coll, [
    { key: { status: 1, _id: 1 }, serves: "eodPage (active accounts by id after a cursor), countActive" },
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
  const { _id, pendingEvents: _p, eodMark: _m, ...rest } = d;
  return { id: _id, ...(rest as Omit<Account, "id">) };
}

function shardFilter(s: Shard): Filter<AccountDoc> {
  return s.count <= 1 ? {} : { shardKey: { $mod: [s.count, s.index] } };
}

/** AccountRepository on Mongo. */
export class MongoAccounts implements AccountRepository {
  /** Open end-of-day cursors by (date, shard), with the last id handed out. */
  private readonly eodCursors = new Map<string, { cursor: FindCursor<AccountDoc>; lastId: string | undefined }>();

  constructor(
    private readonly coll: Collection<AccountDoc>,
    private readonly clock: Clock,
  ) {}

  async get(id: string): Promise<Account | null> {
    const d = await this.coll.findOne({ _id: id }, { projection: NOT_AGGREGATE });
    return d ? fromDoc(d) : null;
  }

  async getMany(ids: string[]): Promise<Account[]> {
    if (ids.length === 0) return [];
    return (await this.coll.find({ _id: { $in: ids } }, { projection: NOT_AGGREGATE }).toArray()).map(fromDoc);
  }

  async insert(a: Account, events: BillingEvent[]): Promise<"inserted" | "exists"> {
    const { set } = toDoc(a);
    try {
      await this.coll.insertOne({ _id: a.id, ...(set as Omit<Account, "id">), pendingEvents: toStored(encodeEvents(events, this.clock.now())) });
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
    if (events.length) update.$push = pushEvents(encodeEvents(events, this.clock.now()));
    const r = await this.coll.updateOne({ _id: a.id, version: expectedVersion }, update);
    return r.matchedCount === 1;
  }

  async countActive(shard: Shard): Promise<number> {
    return this.coll.countDocuments({ status: "ACTIVE", ...shardFilter(shard) });
  }

  /**
   * One page of the accounts still to run for `date`, in `_id` order. Pages come from one
   * cursor per (date, shard) that stays open while the caller keeps asking for the page after
   * the last one returned: the database reads and orders the book once per run, not once per
   * page. Any other `afterId` (a resumed run) opens a fresh cursor after it.
   */
  async eodPage(date: LocalDate, shard: Shard, afterId: string | undefined, limit: number, throughId?: string): Promise<Account[]> {
    const filter: Filter<AccountDoc> = { status: "ACTIVE", eodDate: { $lt: date }, ...shardFilter(shard) };
    if (throughId !== undefined) {
      // A retried page: exactly its own range again, from a cursor of its own.
      filter._id = afterId !== undefined ? { $gt: afterId, $lte: throughId } : { $lte: throughId };
      return (await this.coll.find(filter, { projection: NOT_AGGREGATE }).sort({ _id: 1 }).limit(limit).toArray()).map(fromDoc);
    }
    const key = `${date}|${JSON.stringify(shard)}`;
    let open = this.eodCursors.get(key);
    if (!open || open.lastId !== afterId) {
      await open?.cursor.close().catch(() => undefined);
      if (afterId !== undefined) filter._id = { $gt: afterId };
      open = {
        cursor: this.coll.find(filter, { projection: NOT_AGGREGATE }).sort({ _id: 1 }).batchSize(limit),
        lastId: afterId,
      };
      this.eodCursors.set(key, open);
    }
    const docs: AccountDoc[] = [];
    try {
      while (docs.length < limit) {
        const d = await open.cursor.next();
        if (!d) break;
        docs.push(d);
      }
    } catch (e) {
      // A cursor broken by a database blip is not reused: the retry opens a fresh one after `afterId`.
      this.eodCursors.delete(key);
      await open.cursor.close().catch(() => undefined);
      throw e;
    }
    open.lastId = docs.length > 0 ? String(docs[docs.length - 1]!._id) : afterId;
    if (docs.length < limit) {
      await open.cursor.close().catch(() => undefined);
      this.eodCursors.delete(key);
    }
    return docs.map(fromDoc);
  }

  async applyEodPage(date: LocalDate, items: EodItem[]): Promise<{ applied: string[]; redo: string[] }> {
    if (items.length === 0) return { applied: [], redo: [] };
    const now = this.clock.now();
    const ops: AnyBulkWriteOperation<AccountDoc>[] = items.map(({ account, expectedVersion, events, mark }) => {
      const { set, unset } = toDoc(account);
      const update: Document = { $set: { ...set, eodMark: mark } };
      if (Object.keys(unset).length) update.$unset = unset;
      if (events.length) update.$push = pushEvents(encodeEvents(events, now));
      return { updateOne: { filter: { _id: account.id, version: expectedVersion, eodDate: { $lt: date } }, update } };
    });
    const r = await this.coll.bulkWrite(ops, { ordered: false });
    // Every matched update is ours (the filter requires "not yet through date"): all applied.
    if (r.matchedCount === items.length) return { applied: items.map((i) => i.account.id), redo: [] };
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
    return { applied, redo };
  }

  async pageMarks(pageId: string, afterId: string | undefined, throughId: string): Promise<EodMark[]> {
    const range = afterId !== undefined ? { $gt: afterId, $lte: throughId } : { $lte: throughId };
    const docs = await this.coll.find({ _id: range, "eodMark.page": pageId }, { projection: { eodMark: 1 } }).toArray();
    return docs.map((d) => d.eodMark!);
  }

  async *marksOf(date: LocalDate, shard: Shard): AsyncIterable<EodMark> {
    for await (const d of this.coll.find({ "eodMark.date": date, ...shardFilter(shard) }, { projection: { eodMark: 1 } })) yield d.eodMark!;
  }

  async countMarks(date: LocalDate, shard: Shard): Promise<number> {
    return this.coll.countDocuments({ "eodMark.date": date, ...shardFilter(shard) });
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
