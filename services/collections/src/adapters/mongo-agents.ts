/** Agents and risk tiers in Mongo. Agent display names are personal data: encrypted at rest. */
import type { PiiCipher } from "@whiteslip/pii";
import { applyOnce, ensureIndexes } from "@whiteslip/store";
import type { Collection, Document, Filter } from "mongodb";

/** A filter on a string `_id` (the driver types `_id` as ObjectId by default). */
function byId(id: string, extra: Document = {}): Filter<Document> {
  return { _id: id, ...extra } as unknown as Filter<Document>;
}

import type { Agent, AgentRepository, RiskTierRepository } from "../app/ports";
import type { RiskTier } from "../domain/types";

/** Agents in the `agents` collection (`_id` = agent id). */
export class MongoAgentRepository implements AgentRepository {
  constructor(
    readonly coll: Collection<Document>,
    private readonly pii: PiiCipher,
  ) {}

  /** Declares the indexes next to the queries they serve. */
  async ensureIndexes(): Promise<void> {
    await ensureIndexes(this.coll, [{ key: { skills: 1 }, serves: "ListAgents by skill" }]);
  }

  async upsert(a: Agent) {
    await this.coll.updateOne(
      byId(a.agentId),
      { $set: { displayName: this.pii.encrypt(a.displayName), skills: a.skills, active: a.active } },
      { upsert: true },
    );
  }

  /** Inserts seed agents that do not exist yet (never overwrites changes made through the API). */
  async seed(agents: Agent[]): Promise<void> {
    for (const a of agents) {
      await this.coll.updateOne(
        byId(a.agentId),
        {
          $setOnInsert: { displayName: this.pii.encrypt(a.displayName), skills: a.skills, active: a.active },
        },
        { upsert: true },
      );
    }
  }

  async get(agentId: string) {
    const d = await this.coll.findOne(byId(agentId));
    return d ? this.fromDoc(d) : null;
  }

  async list() {
    return (await this.coll.find({}).sort({ _id: 1 }).toArray()).map((d) => this.fromDoc(d));
  }

  private fromDoc(d: Document): Agent {
    return {
      agentId: String(d._id),
      displayName: d.displayName ? this.pii.decrypt(d.displayName) : "",
      skills: d.skills ?? [],
      active: d.active !== false,
    };
  }
}

/** Risk tiers learned from credit's events, in `riskTiers` (`_id` = account id). */
export class MongoRiskTierRepository implements RiskTierRepository {
  constructor(readonly coll: Collection<Document>) {}

  async get(accountId: string): Promise<RiskTier> {
    const d = await this.coll.findOne(byId(accountId), { projection: { tier: 1 } });
    return (d?.tier ?? "") as RiskTier;
  }

  async record(accountId: string, tier: RiskTier, eventId: string) {
    return applyOnce(this.coll, byId(accountId), eventId, { $set: { tier } }, { upsert: true });
  }
}
