/** The business-date state document and the end-of-day run records per (date, shard), in Mongo. */
import { addDays, type LocalDate } from "@whiteslip/core";
import { ensureIndexes } from "@whiteslip/store";
import type { Collection, Db, Document } from "mongodb";
import type { BusinessDate, BusinessDateRepository, DateRun, EodRunRepository, PageDelta, RunStatus, Shard, ShardRun } from "../app/ports";
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
}

/** EodRunRepository: `eod_runs` (one document per date) and `eod_shards` (one per date and shard). */
export class MongoEodRuns implements EodRunRepository {
  private readonly runs: Collection<Document>;
  private readonly shards: Collection<ShardDoc>;
  constructor(db: Db) {
    this.runs = db.collection("eod_runs", { useBigInt64: true, ignoreUndefined: true });
    this.shards = db.collection<ShardDoc>("eod_shards", { useBigInt64: true, ignoreUndefined: true });
  }

  /** Declares the indexes next to the queries they serve. */
  async ensureIndexes(): Promise<void> {
    await ensureIndexes(this.shards, [{ key: { date: 1, index: 1 }, serves: "get(date), list(from, to): the shards of a date" }]);
  }

  private static shardId(date: LocalDate, s: { index: number }): string {
    return `${date}#${s.index}`;
  }

  private toRun(d: Document, shards: ShardDoc[]): DateRun {
    return {
      date: d._id,
      shardCount: d.shardCount,
      status: d.status === "COMPLETED" ? "COMPLETED" : shards.some((s) => s.status === "FAILED") ? "FAILED" : "RUNNING",
      startedAt: d.startedAt,
      ...(d.completedAt ? { completedAt: d.completedAt } : {}),
      shards: shards
        .map(({ _id, date: _d, ...s }) => ({ ...s, stats: { ...emptyAgg(), ...s.stats } }) as ShardRun)
        .sort((a, b) => a.index - b.index),
    };
  }

  async get(date: LocalDate): Promise<DateRun | null> {
    const d = await this.runs.findOne({ _id: date as never });
    if (!d) return null;
    return this.toRun(d, await this.shards.find({ date }).toArray());
  }

  async createIfAbsent(date: LocalDate, shardCount: number, startedAt: Date): Promise<DateRun> {
    await this.runs.updateOne({ _id: date as never }, { $setOnInsert: { shardCount, status: "RUNNING", startedAt } }, { upsert: true });
    return (await this.get(date))!;
  }

  async startShard(date: LocalDate, s: Shard, total: number, startedAt: Date): Promise<void> {
    await this.shards.updateOne(
      { _id: MongoEodRuns.shardId(date, s) },
      {
        $set: { status: "RUNNING", total },
        $setOnInsert: { date, index: s.index, processed: 0, counts: { statementsIssued: 0, dueSoon: 0, overdue: 0, chargedOff: 0, lateFees: 0 }, stats: { buckets: {}, roll: {}, chargedOffFen: 0n, inflows: {} }, startedAt },
      },
      { upsert: true },
    );
  }

  async addPage(date: LocalDate, s: Shard, d: PageDelta): Promise<void> {
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
    await this.shards.updateOne({ _id: MongoEodRuns.shardId(date, s) }, { $inc: inc });
  }

  async finishShard(date: LocalDate, s: Shard, status: RunStatus, at: Date, error?: string): Promise<void> {
    const set: Document = { status };
    if (status === "COMPLETED") set.completedAt = at;
    if (error) set.error = error;
    await this.shards.updateOne({ _id: MongoEodRuns.shardId(date, s) }, status === "COMPLETED" ? { $set: set, $unset: { error: "" } } : { $set: set });
  }

  async complete(date: LocalDate, at: Date): Promise<void> {
    await this.runs.updateOne({ _id: date as never }, { $set: { status: "COMPLETED", completedAt: at } });
  }

  async list(from: LocalDate, to: LocalDate): Promise<DateRun[]> {
    const runs = await this.runs.find({ _id: { $gte: from, $lte: to } as never }).toArray();
    const shards = await this.shards.find({ date: { $gte: from, $lte: to } }).toArray();
    return runs.map((r) => this.toRun(r, shards.filter((s) => s.date === String(r._id))));
  }
}
