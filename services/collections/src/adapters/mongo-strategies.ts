/**
 * The strategy table in collections' database: collection `strategy_policy`, one document `_id: "current"` with a
 * version number and audit (who/when/why, the kind of change and the version it replaced), seeded from
 * STRATEGIES_FILE / the built-in defaults when absent. Updates are a compare-and-set on `version` (a single-document
 * update, atomic). Every version is also kept in `strategy_history` (`_id` = version: the table and its audit), the
 * audit trail: written right after the compare-and-set, and — should the process die between the two writes —
 * written from the current document by the next refresh of any instance (an idempotent upsert of the same content),
 * so no stored version goes unaudited. The table in force is kept in memory
 * (`inForce`, read by the policy on every case change), replaced on an update by this process and re-read every
 * `refreshMs` so that changes made through another instance apply within that delay. Amounts are stored as decimal
 * strings of fen.
 */
import { every, type Periodic } from "@whiteslip/runtime";
import type { Collection, Db } from "mongodb";
import type {
  StrategyChange,
  StrategyChangeKind,
  StrategyChangeNote,
  StrategyTableRepository,
  StrategyTableVersion,
} from "../app/ports";
import type { Strategy, StrategySet, TreatmentRule } from "../domain/strategy";
import type { PathStep } from "../domain/treatment-path";
import type { Bucket, RiskTier, Treatment } from "../domain/types";

interface RuleDoc {
  buckets: Bucket[];
  tiers?: RiskTier[];
  minBalanceFen?: string;
  maxBalanceFen?: string;
  minDpd?: number;
  treatment: Treatment;
  path?: PathStep[];
}
interface StrategyDoc {
  id: string;
  description: string;
  rules: RuleDoc[];
}
interface StrategyPolicyDoc {
  _id: string;
  champion: StrategyDoc;
  challengers: StrategyDoc[];
  challengerPercent: number;
  version: number;
  updatedAt: Date;
  updatedBy: string;
  /** The audit of this version (absent on documents stored before the audit trail: read as SEED/UPDATE). */
  change?: ChangeDoc;
}
interface ChangeDoc {
  kind: StrategyChangeKind;
  reason: string;
  previousVersion: number;
  promotedStrategyId?: string;
  formerChampionId?: string;
}
/** One version in `strategy_history`. */
interface HistoryDoc extends ChangeDoc {
  _id: number;
  champion: StrategyDoc;
  challengers: StrategyDoc[];
  challengerPercent: number;
  actor: string;
  at: Date;
}

const ruleToDoc = (r: TreatmentRule): RuleDoc => ({
  buckets: [...r.buckets],
  ...(r.tiers ? { tiers: [...r.tiers] } : {}),
  ...(r.minBalanceFen !== undefined ? { minBalanceFen: r.minBalanceFen.toString() } : {}),
  ...(r.maxBalanceFen !== undefined ? { maxBalanceFen: r.maxBalanceFen.toString() } : {}),
  ...(r.minDpd !== undefined ? { minDpd: r.minDpd } : {}),
  treatment: r.treatment,
  ...(r.path?.length ? { path: r.path.map((s) => ({ ...s })) } : {}),
});
const ruleFromDoc = (r: RuleDoc): TreatmentRule => ({
  buckets: r.buckets,
  ...(r.tiers ? { tiers: r.tiers } : {}),
  ...(r.minBalanceFen != null ? { minBalanceFen: BigInt(r.minBalanceFen) } : {}),
  ...(r.maxBalanceFen != null ? { maxBalanceFen: BigInt(r.maxBalanceFen) } : {}),
  ...(r.minDpd != null ? { minDpd: r.minDpd } : {}),
  treatment: r.treatment,
  ...(r.path?.length ? { path: r.path.map((s) => ({ dpd: Number(s.dpd), channel: s.channel, ...(s.template ? { template: s.template } : {}), ...(s.text ? { text: s.text } : {}) })) } : {}),
});
const strategyToDoc = (s: Strategy): StrategyDoc => ({
  id: s.id,
  description: s.description,
  rules: s.rules.map(ruleToDoc),
});
const strategyFromDoc = (s: StrategyDoc): Strategy => ({
  id: s.id,
  description: s.description,
  rules: s.rules.map(ruleFromDoc),
});
const fromDoc = (d: StrategyPolicyDoc): StrategyTableVersion => ({
  table: {
    champion: strategyFromDoc(d.champion),
    // an empty list seeded through $setOnInsert comes back absent from the testkit's FerretDB
    challengers: (d.challengers ?? []).map(strategyFromDoc),
    challengerPercent: d.challengerPercent,
  },
  version: d.version,
  updatedAt: d.updatedAt,
  updatedBy: d.updatedBy,
});

const changeDoc = (note: StrategyChangeNote, previousVersion: number): ChangeDoc => ({
  kind: note.kind,
  reason: note.reason,
  previousVersion,
  ...(note.promotedStrategyId ? { promotedStrategyId: note.promotedStrategyId } : {}),
  ...(note.formerChampionId ? { formerChampionId: note.formerChampionId } : {}),
});
/** The history row of the current document (documents from before the audit trail get a SEED/UPDATE note). */
const historyOf = (d: StrategyPolicyDoc): HistoryDoc => ({
  _id: d.version,
  ...(d.change ?? { kind: d.updatedBy === "seed" ? "SEED" : "UPDATE", reason: "", previousVersion: d.version - 1 }),
  champion: d.champion,
  challengers: d.challengers ?? [],
  challengerPercent: d.challengerPercent,
  actor: d.updatedBy,
  at: d.updatedAt,
});
const changeFromHistory = (h: HistoryDoc): StrategyChange => ({
  version: h._id,
  previousVersion: h.previousVersion,
  kind: h.kind,
  actor: h.actor,
  at: h.at,
  reason: h.reason,
  ...(h.promotedStrategyId ? { promotedStrategyId: h.promotedStrategyId } : {}),
  ...(h.formerChampionId ? { formerChampionId: h.formerChampionId } : {}),
  table: {
    champion: strategyFromDoc(h.champion),
    challengers: (h.challengers ?? []).map(strategyFromDoc),
    challengerPercent: h.challengerPercent,
  },
});

/** The `strategy_policy` repository with the in-memory table in force, and its `strategy_history` audit trail. */
export class MongoStrategyTable implements StrategyTableRepository {
  private readonly coll: Collection<StrategyPolicyDoc>;
  private readonly history: Collection<HistoryDoc>;
  /** The highest version known to be in `strategy_history` (so a refresh checks it once per version). */
  private recorded = 0;
  private live: StrategyTableVersion;
  private readonly refresher: Periodic;
  constructor(
    db: Db,
    seedTable: StrategySet,
    private readonly refreshMs = 5_000,
    private readonly onError?: (err: unknown) => void,
  ) {
    this.coll = db.collection<StrategyPolicyDoc>("strategy_policy");
    this.history = db.collection<HistoryDoc>("strategy_history");
    this.live = { table: seedTable, version: 0, updatedAt: new Date(0), updatedBy: "seed" };
    // the platform's one scheduler; a failed refresh keeps the last table and is reported through onError
    this.refresher = every({ name: "strategy table refresh", intervalMs: refreshMs }, () => this.refresh().catch((e: unknown) => this.onError?.(e)));
  }

  /** The table in force (what case handling uses). */
  get inForce(): StrategySet {
    return this.live.table;
  }

  /** Inserts the seed table as version 1 when there is none, then loads the stored table. */
  async seed(now: Date): Promise<void> {
    const t = this.live.table;
    await this.coll.updateOne(
      { _id: "current" },
      {
        $setOnInsert: {
          champion: strategyToDoc(t.champion),
          challengers: t.challengers.map(strategyToDoc),
          challengerPercent: t.challengerPercent,
          version: 1,
          updatedAt: now,
          updatedBy: "seed",
          change: { kind: "SEED", reason: "seeded from configuration", previousVersion: 0 },
        },
      },
      { upsert: true },
    );
    await this.refresh();
  }

  /** Re-reads the stored table into memory, and records its version in the audit trail if a writer died first. */
  async refresh(): Promise<void> {
    const d = await this.coll.findOne({ _id: "current" });
    if (!d) return;
    if (d.version >= this.live.version) this.live = fromDoc(d);
    if (d.version > this.recorded) await this.record(d);
  }

  /** Upserts the history row of a current document (same content whoever writes it, so a race is harmless). */
  private async record(d: StrategyPolicyDoc): Promise<void> {
    const { _id, ...row } = historyOf(d);
    await this.history.updateOne({ _id }, { $setOnInsert: row }, { upsert: true });
    this.recorded = Math.max(this.recorded, d.version);
  }

  async changes(beforeVersion: number, limit: number): Promise<StrategyChange[]> {
    const rows = await this.history
      .find(beforeVersion > 0 ? { _id: { $lt: beforeVersion } } : {})
      .sort({ _id: -1 })
      .limit(limit)
      .toArray();
    return rows.map(changeFromHistory);
  }

  async current(): Promise<StrategyTableVersion> {
    await this.refresh();
    return this.live;
  }

  async replaceIfVersion(
    table: StrategySet,
    expectedVersion: number,
    note: StrategyChangeNote,
    now: Date,
  ): Promise<StrategyTableVersion | undefined> {
    const next: Omit<StrategyPolicyDoc, "_id"> = {
      champion: strategyToDoc(table.champion),
      challengers: table.challengers.map(strategyToDoc),
      challengerPercent: table.challengerPercent,
      version: expectedVersion + 1,
      updatedAt: now,
      updatedBy: note.actor,
      change: changeDoc(note, expectedVersion),
    };
    const r = await this.coll.updateOne({ _id: "current", version: expectedVersion }, { $set: next });
    if (r.matchedCount === 0) return undefined;
    this.live = { table, version: expectedVersion + 1, updatedAt: now, updatedBy: note.actor };
    // the audit row; if this write fails, the next refresh (here or on another instance) writes it
    await this.record({ _id: "current", ...next }).catch((e: unknown) => this.onError?.(e));
    return this.live;
  }

  /** Starts the periodic refresh (a background task of the service). */
  start(): void {
    this.refresher.start();
  }

  /** Stops the periodic refresh (waits for a refresh in flight). */
  async stop(): Promise<void> {
    await this.refresher.stop();
  }
}
