/**
 * The strategy table in collections' database: collection `strategy_policy`, one document `_id: "current"` with a
 * version number and audit (who/when), seeded from STRATEGIES_FILE / the built-in defaults when absent. Updates are a
 * compare-and-set on `version` (a single-document update, atomic). The table in force is kept in memory
 * (`inForce`, read by the policy on every case change), replaced on an update by this process and re-read every
 * `refreshMs` so that changes made through another instance apply within that delay. Amounts are stored as decimal
 * strings of fen.
 */
import { every, type Periodic } from "@whiteslip/runtime";
import type { Collection, Db } from "mongodb";
import type { StrategyTableRepository, StrategyTableVersion } from "../app/ports";
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

/** The `strategy_policy` repository with the in-memory table in force. */
export class MongoStrategyTable implements StrategyTableRepository {
  private readonly coll: Collection<StrategyPolicyDoc>;
  private live: StrategyTableVersion;
  private readonly refresher: Periodic;
  constructor(
    db: Db,
    seedTable: StrategySet,
    private readonly refreshMs = 5_000,
    private readonly onError?: (err: unknown) => void,
  ) {
    this.coll = db.collection<StrategyPolicyDoc>("strategy_policy");
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
        },
      },
      { upsert: true },
    );
    await this.refresh();
  }

  /** Re-reads the stored table into memory. */
  async refresh(): Promise<void> {
    const d = await this.coll.findOne({ _id: "current" });
    if (d && d.version >= this.live.version) this.live = fromDoc(d);
  }

  async current(): Promise<StrategyTableVersion> {
    await this.refresh();
    return this.live;
  }

  async replaceIfVersion(
    table: StrategySet,
    expectedVersion: number,
    actor: string,
    now: Date,
  ): Promise<StrategyTableVersion | undefined> {
    const r = await this.coll.updateOne(
      { _id: "current", version: expectedVersion },
      {
        $set: {
          champion: strategyToDoc(table.champion),
          challengers: table.challengers.map(strategyToDoc),
          challengerPercent: table.challengerPercent,
          version: expectedVersion + 1,
          updatedAt: now,
          updatedBy: actor,
        },
      },
    );
    if (r.matchedCount === 0) return undefined;
    this.live = { table, version: expectedVersion + 1, updatedAt: now, updatedBy: actor };
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
