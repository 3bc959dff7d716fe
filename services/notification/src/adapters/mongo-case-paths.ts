/**
 * Accounts whose collection case runs a treatment path (collection `case_paths`, one document per account): the
 * time of the latest step notification was asked to send. While it is later than the account's latest cure, the
 * case path owns the account's overdue messages and the global cadence stays quiet (see app/handle-case-step.ts).
 */
import type { Db, Collection } from "mongodb";
import type { CasePathRepository } from "../app/handle-case-step";
import { findByIds } from "./by-id";

interface CasePathDoc {
  _id: string;
  lastStepAt: Date;
}

/** `case_paths` in notification's database. */
export class MongoCasePathRepository implements CasePathRepository {
  readonly coll: Collection<CasePathDoc>;
  constructor(db: Db) {
    this.coll = db.collection<CasePathDoc>("case_paths");
  }
  async lastStepAt(accountId: string): Promise<Date | null> {
    const d = await this.coll.findOne({ _id: accountId });
    return d?.lastStepAt ?? null;
  }
  async lastStepAtMany(accountIds: string[]): Promise<Map<string, Date>> {
    if (accountIds.length === 0) return new Map();
    return new Map((await findByIds(this.coll, accountIds)).map((d) => [d._id, d.lastStepAt]));
  }
  async recordStep(accountId: string, at: Date): Promise<void> {
    // $max: a redelivered or older step changes nothing; a first upsert racing another retries as an update
    for (let attempt = 1; ; attempt++) {
      try {
        await this.coll.updateOne({ _id: accountId }, { $max: { lastStepAt: at } }, { upsert: true });
        return;
      } catch (err) {
        if ((err as { code?: number }).code !== 11000 || attempt >= 3) throw err;
      }
    }
  }
}
