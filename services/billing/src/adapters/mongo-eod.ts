/**
 * The business-date state document and the end-of-day run records in Mongo: `eod_runs` (one per date),
 * `eod_shards` (one per (date, shard): progress, counts, and the shard's lease) and `eod_quarantine`
 * (one per (date, shard, account) held out of a run). Every write a lease holder makes is one
 * single-document update conditional on its lease token, so two replicas never both work a shard.
 */
import { addDays, type LocalDate } from "@whiteslip/core";
import { ensureIndexes, isDuplicateKey } from "@whiteslip/store";
import type { Collection, Db, Document, Filter } from "mongodb";
import type { BusinessDate, BusinessDateRepository, DateRun, EodRunRepository, Lease, PageDelta, PortfolioAgg, QuarantinedAccount, Shard, ShardRun } from "../app/ports";
import { emptyAgg } from "../app/run-end-of-day";

const BD_ID = "business-date";

/** BusinessDateRepository on a `state` collection (one document). */
export class MongoBusinessDates implements BusinessDateRepository {
  private readonly coll: Collection<Document>;
  constructor(db: Db) {
    this.coll = db.collection("state");
  }
  async get(initial: LocalDate): Promise<BusinessDate> {
    let d = await this.coll.findOne({ _id: BD_ID as never });
    if (!d) {
      await this.coll.updateOne({ _id: BD_ID as never }, { $setOnInsert: { current: initial } }, { upsert: true });
      d = await this.coll.findOne({ _id: BD_ID as never });
    }
    return { current: d!.current, ...(d!.lastCompleted ? { lastCompleted: d!.lastCompleted } : {}) };
  }
  async advance(date: LocalDate): Promise<void> {
    await this.coll.updateOne({ _id: BD_ID as never, current: date }, { $set: { current: addDays(date, 1), lastCompleted: date } });
  }
}

interface ShardDoc extends Omit<ShardRun, "index"> {
  _id: string;
  date: LocalDate;
  index: number;
  /** Ids of the pages counted (each page's counts are added once). */
  pages?: string[];
}

interface QuarantineDoc extends Omit<QuarantinedAccount, "date"> {
  _id: string;
  date: LocalDate;
}

const ZERO_COUNTS = { statementsIssued: 0, dueSoon: 0, overdue: 0, chargedOff: 0, lateFees: 0 };
const LEASE_FIELDS = { owner: "", leaseToken: "" } as const;

/** EodRunRepository on Mongo. */
export class MongoEodRuns implements EodRunRepository {
  private readonly runs: Collection<Document>;
  private readonly shards: Collection<ShardDoc>;
  private readonly quarantine_: Collection<QuarantineDoc>;
  constructor(db: Db) {
    this.runs = db.collection("eod_runs", { useBigInt64: true, ignoreUndefined: true });
    this.shards = db.collection<ShardDoc>("eod_shards", { useBigInt64: true, ignoreUndefined: true });
    this.quarantine_ = db.collection<QuarantineDoc>("eod_quarantine", { ignoreUndefined: true });
  }

  /** Declares the indexes next to the queries they serve. */
  async ensureIndexes(): Promise<void> {
    await ensureIndexes(this.shards, [
      { key: { date: 1, index: 1 }, serves: "get(date), list(from, to): the shards of a date" },
      { key: { status: 1, leaseUntil: 1 }, serves: "orphaned(now): RUNNING shards whose lease expired (the supervisor, every few seconds)" },
    ]);
    await ensureIndexes(this.quarantine_, [
      { key: { date: 1, at: 1 }, serves: "quarantined(date): a date's quarantined accounts, oldest first; quarantinedIds(date)" },
      { key: { accountId: 1, date: 1 }, serves: "clearQuarantine(ids, date): an account's entries up to a date" },
    ]);
  }

  private static shardId(date: LocalDate, s: { index: number }): string {
    return `${date}#${s.index}`;
  }

  private static toShard({ _id, date: _d, pages: _p, ...s }: ShardDoc): ShardRun {
    return { ...s, takeovers: s.takeovers ?? 0, counts: { ...ZERO_COUNTS, ...s.counts }, stats: { ...emptyAgg(), ...s.stats } } as ShardRun;
  }

  private toRun(d: Document, shards: ShardDoc[]): DateRun {
    return {
      date: d._id,
      shardCount: d.shardCount,
      status: d.status === "COMPLETED" ? "COMPLETED" : shards.some((s) => s.status === "FAILED") ? "FAILED" : "RUNNING",
      startedAt: d.startedAt,
      ...(d.completedAt ? { completedAt: d.completedAt } : {}),
      ...(d.portfolio ? { portfolio: { ...emptyAgg(), ...d.portfolio } } : {}),
      shards: shards.map(MongoEodRuns.toShard).sort((a, b) => a.index - b.index),
    };
  }

  async get(date: LocalDate): Promise<DateRun | null> {
    const d = await this.runs.findOne({ _id: date as never });
    if (!d) return null;
    return this.toRun(d, await this.shards.find({ date }, { projection: { pages: 0 } }).toArray());
  }

  async createIfAbsent(date: LocalDate, shardCount: number, startedAt: Date): Promise<DateRun> {
    await this.runs.updateOne({ _id: date as never }, { $setOnInsert: { shardCount, status: "RUNNING", startedAt } }, { upsert: true });
    return (await this.get(date))!;
  }

  async reopen(date: LocalDate, s: Shard): Promise<void> {
    await this.shards.updateOne({ _id: MongoEodRuns.shardId(date, s), status: "FAILED" }, { $set: { status: "RUNNING" }, $unset: { error: "", ...LEASE_FIELDS } });
  }

  async acquire(date: LocalDate, s: Shard, lease: Lease, now: Date, until: Date, total: () => Promise<number>): Promise<ShardRun | null> {
    const _id = MongoEodRuns.shardId(date, s);
    const cur = await this.shards.findOne({ _id }, { projection: { status: 1, leaseToken: 1, leaseUntil: 1 } });
    if (!cur) {
      // The first start creates the record already leased, so no supervisor sees it ownerless meanwhile.
      const doc: ShardDoc = {
        _id, date, index: s.index, status: "RUNNING", total: await total(), processed: 0, counts: { ...ZERO_COUNTS }, stats: { buckets: {}, roll: {}, chargedOffFen: 0n, inflows: {} },
        startedAt: now, takeovers: 0, pages: [], owner: lease.owner, leaseToken: lease.token, leaseUntil: until, heartbeatAt: now,
      };
      try {
        await this.shards.insertOne(doc);
        return MongoEodRuns.toShard(doc);
      } catch (e) {
        if (!isDuplicateKey(e)) throw e;
        return null; // another replica created it a moment ago, leased to itself
      }
    }
    if (cur.status !== "RUNNING" || (cur.leaseToken && cur.leaseUntil && cur.leaseUntil >= now)) return null;
    const scope = await total(); // counted only when the lease looks free; the update below decides

    const set = { owner: lease.owner, leaseToken: lease.token, leaseUntil: until, heartbeatAt: now, total: scope };
    // Nobody holds it (new, handed back, or failed and reopened) …
    let r = await this.shards.updateOne({ _id, status: "RUNNING", leaseToken: { $exists: false } }, { $set: set });
    // … or its owner stopped renewing: a takeover.
    if (r.matchedCount === 0) r = await this.shards.updateOne({ _id, status: "RUNNING", leaseUntil: { $lt: now } }, { $set: set, $inc: { takeovers: 1 } });
    if (r.matchedCount === 0) return null;
    // (FerretDB v1 has no projection in findAndModify, hence update + read.)
    const d = await this.shards.findOne({ _id, leaseToken: lease.token }, { projection: { pages: 0 } });
    return d ? MongoEodRuns.toShard(d) : null;
  }

  async renew(date: LocalDate, s: Shard, token: string, now: Date, until: Date): Promise<boolean> {
    // Conditional on the token only: an owner whose lease ran out during a database blip keeps it as long
    // as nobody took it over meanwhile.
    const r = await this.shards.updateOne({ _id: MongoEodRuns.shardId(date, s), leaseToken: token }, { $set: { leaseUntil: until, heartbeatAt: now } });
    return r.matchedCount === 1;
  }

  async release(date: LocalDate, s: Shard, token: string): Promise<void> {
    await this.shards.updateOne({ _id: MongoEodRuns.shardId(date, s), leaseToken: token }, { $set: { leaseUntil: new Date(0) }, $unset: LEASE_FIELDS });
  }

  async addPage(date: LocalDate, s: Shard, token: string | null, pageId: string, d: PageDelta, cursor: string | undefined, until: Date): Promise<"applied" | "duplicate" | "lost"> {
    const _id = MongoEodRuns.shardId(date, s);
    const inc: Document = { processed: d.processed };
    for (const [k, v] of Object.entries(d.counts)) if (v) inc[`counts.${k}`] = v;
    for (const [b, v] of Object.entries(d.stats.buckets)) {
      inc[`stats.buckets.${b}.accounts`] = v!.accounts;
      inc[`stats.buckets.${b}.balance`] = v!.balance;
    }
    for (const [k, n] of Object.entries(d.stats.roll)) inc[`stats.roll.${k}`] = n;
    if (d.stats.chargedOffFen) inc["stats.chargedOffFen"] = d.stats.chargedOffFen;
    for (const [day, v] of Object.entries(d.stats.inflows)) {
      inc[`stats.inflows.${day}.amount`] = v.amount;
      inc[`stats.inflows.${day}.accounts`] = v.accounts;
    }
    const filter: Filter<ShardDoc> = token ? { _id, leaseToken: token, pages: { $ne: pageId } } : { _id, status: "COMPLETED", pages: { $ne: pageId } };
    const set: Document = token ? { leaseUntil: until, ...(cursor !== undefined ? { cursor } : {}) } : {};
    const update: Document = { $inc: inc, $push: { pages: pageId } };
    if (Object.keys(set).length) update.$set = set;
    const r = await this.shards.updateOne(filter, update);
    if (r.matchedCount === 1) return "applied";
    // A retry of a write that had landed before the connection broke: counted once already.
    if (await this.shards.countDocuments({ _id, pages: pageId }, { limit: 1 })) return "duplicate";
    return "lost";
  }

  async replaceCounts(date: LocalDate, s: Shard, token: string, c: PageDelta): Promise<boolean> {
    const r = await this.shards.updateOne({ _id: MongoEodRuns.shardId(date, s), leaseToken: token }, { $set: { processed: c.processed, counts: c.counts, stats: c.stats } });
    return r.matchedCount === 1;
  }

  async finishShard(date: LocalDate, s: Shard, token: string, status: "COMPLETED" | "FAILED", at: Date, error?: string): Promise<boolean> {
    const set: Document = { status, leaseUntil: new Date(0) };
    if (status === "COMPLETED") set.completedAt = at;
    if (error) set.error = error;
    const unset: Document = { ...LEASE_FIELDS };
    if (status === "COMPLETED") unset.error = "";
    const r = await this.shards.updateOne({ _id: MongoEodRuns.shardId(date, s), leaseToken: token }, { $set: set, $unset: unset });
    return r.matchedCount === 1;
  }

  async complete(date: LocalDate, at: Date, portfolio: PortfolioAgg): Promise<void> {
    await this.runs.updateOne({ _id: date as never, status: { $ne: "COMPLETED" } }, { $set: { status: "COMPLETED", completedAt: at, portfolio } });
  }

  async list(from: LocalDate, to: LocalDate): Promise<DateRun[]> {
    const runs = await this.runs.find({ _id: { $gte: from, $lte: to } as never }).toArray();
    const shards = await this.shards.find({ date: { $gte: from, $lte: to } }, { projection: { pages: 0 } }).toArray();
    return runs.map((r) => this.toRun(r, shards.filter((s) => s.date === String(r._id))));
  }

  async unfinishedDates(): Promise<LocalDate[]> {
    return (await this.runs.find({ status: { $ne: "COMPLETED" } }, { projection: { _id: 1 } }).toArray()).map((d) => String(d._id));
  }

  async orphaned(now: Date): Promise<{ date: LocalDate; shard: Shard }[]> {
    const docs = await this.shards
      .find({ status: "RUNNING", $or: [{ leaseUntil: { $lt: now } }, { leaseToken: { $exists: false } }] }, { projection: { date: 1, index: 1 } })
      .toArray();
    const counts = new Map<string, number>();
    for (const d of docs) if (!counts.has(d.date)) counts.set(d.date, (await this.runs.findOne({ _id: d.date as never }))?.shardCount ?? 1);
    return docs.map((d) => ({ date: d.date, shard: { index: d.index, count: counts.get(d.date)! } }));
  }

  async quarantine(q: QuarantinedAccount): Promise<boolean> {
    const _id = `${q.date}#${q.shardIndex}#${q.accountId}`;
    const r = await this.quarantine_.updateOne(
      { _id },
      { $set: { reason: q.reason, message: q.message, at: q.at }, $setOnInsert: { accountId: q.accountId, date: q.date, shardIndex: q.shardIndex } },
      { upsert: true },
    );
    return r.upsertedCount === 1;
  }

  async clearQuarantine(accountIds: string[], date: LocalDate): Promise<void> {
    if (accountIds.length) await this.quarantine_.deleteMany({ accountId: { $in: accountIds }, date: { $lte: date } });
  }

  async quarantinedIds(date: LocalDate): Promise<string[]> {
    const docs = await this.quarantine_.find({ date: { $lte: date } }, { projection: { accountId: 1 } }).toArray();
    return [...new Set(docs.map((d) => d.accountId))];
  }

  async quarantined(date: LocalDate, limit: number): Promise<{ count: number; accounts: QuarantinedAccount[] }> {
    const count = await this.quarantine_.countDocuments({ date });
    const docs = count ? await this.quarantine_.find({ date }).sort({ at: 1, _id: 1 }).limit(limit).toArray() : [];
    return { count, accounts: docs.map(({ _id, ...q }) => q) };
  }
}
