/**
 * The candidate write paths of a group-committed AuthorizePurchase, on the database alone (no service), K approvals
 * per batch, `inFlight` batches at a time, each batch on K distinct lines of a line-sized document:
 *
 * - per-request: today's pair per approval (conditional findOneAndUpdate + insertOne), 16 concurrent callers;
 * - bulk-update: one bulkWrite of K conditional updateOne (the reservation), one find of the K lines (read-back:
 *   which holds are there, the available after), one insertMany of the K records, one insertOne of the batch intent
 *   (what a sweeper needs to find a reservation whose record never came);
 * - journal: the read of the K lines and of their journal tails, one insertMany of K journal entries (`_id` =
 *   line:seq, the per-line compare-and-set), one insertMany of the K records;
 * - record-journal: the record is the journal entry (unique (line, seq)): the two reads and one insertMany.
 *
 * Usage: tsx bench/write-paths.bench.ts [seconds=8] [K=16] [inFlight=2] [lines=500]
 */
import { type Document, MongoClient } from "mongodb";
import { startInfra } from "@whiteslip/testkit";
import { describeDriven, drive as measure } from "./measure";

const seconds = Number(process.argv[2] ?? 8);
const K = Number(process.argv[3] ?? 16);
const inFlight = Number(process.argv[4] ?? 2);
const lineCount = Number(process.argv[5] ?? 500);

let dbPid: number | undefined;

async function drive(name: string, perCall: number, workers: number, call: (w: number, i: number) => Promise<void>) {
  console.log(describeDriven(name, await measure(seconds, perCall, workers, dbPid, call), workers, perCall, 16));
}

async function main() {
  const infra = await startInfra();
  dbPid = infra.local?.database.process.child.pid;
  const mc = new MongoClient(infra.mongoUri, { maxPoolSize: 20 });
  const dbName = `credit_paths_${Date.now().toString(36)}`;
  const db = mc.db(dbName);
  try {
    const body = () => ({ status: "ACTIVE", restriction: { features: [] }, limitFen: 5_000_000n, availableFen: 5_000_000n, openHoldsFen: 0n, holds: {}, version: 0, journalSeq: 0, filler: "x".repeat(400) });
    const fresh = async (n: string) => {
      const c = db.collection<Document>(n);
      await c.insertMany(Array.from({ length: lineCount }, (_, i) => ({ _id: `l${i}` as never, ...body() })));
      return c;
    };
    const rec = (id: string, line: string) => ({ _id: id as never, creditLineId: line, amountFen: 100n, decision: "APPROVED", status: "OPEN", createdAt: new Date(), expiresAt: new Date(), idempotencyKey: id, orderId: id, merchantId: "m", merchantScenario: "PLATFORM_RETAIL", installmentMonths: 0, declineReason: "", availableFen: 0n });
    const lineOf = (w: number, i: number, k: number) => `l${(w * 7919 + i * K + k) % lineCount}`;
    const distinct = (w: number, i: number) => [...new Set(Array.from({ length: K }, (_, k) => lineOf(w, i, k)))];

    {
      const lines = await fresh("pr_lines");
      const auths = db.collection<Document>("pr_auth");
      await drive("per-request", 1, 16, async (w, i) => {
        const id = `a-${w}-${i}`;
        await lines.findOneAndUpdate(
          { _id: `l${(w + i * 16) % lineCount}` as never, status: "ACTIVE", "restriction.features": { $nin: ["NEW_PURCHASES"] }, availableFen: { $gte: 100n }, [`holds.${id}`]: { $exists: false } },
          { $set: { [`holds.${id}`]: 100n }, $inc: { availableFen: -100n, openHoldsFen: 100n, version: 1 } },
          { returnDocument: "after" },
        );
        await auths.insertOne(rec(id, "l"));
      });
    }
    {
      const lines = await fresh("bu_lines");
      const auths = db.collection<Document>("bu_auth");
      const intents = db.collection<Document>("bu_intents");
      await drive("bulk-update", K, inFlight, async (w, i) => {
        const ls = distinct(w, i);
        const ids = ls.map((l) => `b-${w}-${i}-${l}`);
        await intents.insertOne({ _id: `${w}-${i}` as never, at: new Date(), items: ls.map((l, k) => ({ l, id: ids[k], a: 100n })) });
        await lines.bulkWrite(
          ls.map((l, k) => ({
            updateOne: {
              filter: { _id: l as never, status: "ACTIVE", "restriction.features": { $nin: ["NEW_PURCHASES"] }, availableFen: { $gte: 100n }, [`holds.${ids[k]}`]: { $exists: false } },
              update: { $set: { [`holds.${ids[k]}`]: 100n }, $inc: { availableFen: -100n, openHoldsFen: 100n, version: 1 } },
            },
          })),
          { ordered: false },
        );
        await lines.find({ _id: { $in: ls as never[] } }).toArray();
        await auths.insertMany(ls.map((l, k) => rec(ids[k]!, l)), { ordered: false });
      });
    }
    {
      const lines = await fresh("jo_lines");
      const journal = db.collection<Document>("jo_journal");
      const auths = db.collection<Document>("jo_auth");
      const seq = new Map<string, number>();
      await drive("journal", K, inFlight, async (w, i) => {
        const ls = distinct(w, i);
        await lines.find({ _id: { $in: ls as never[] } }).toArray();
        const next = ls.map((l) => `${l}:${String((seq.get(l) ?? 0) + 1).padStart(10, "0")}`);
        await journal.find({ _id: { $in: next as never[] } }).toArray();
        for (const l of ls) seq.set(l, (seq.get(l) ?? 0) + 1);
        await journal.insertMany(ls.map((l, k) => ({ _id: next[k] as never, line: l, holds: { [`j-${w}-${i}-${l}`]: 100n } })), { ordered: false });
        await auths.insertMany(ls.map((l) => rec(`j-${w}-${i}-${l}`, l)), { ordered: false });
      });
    }
    {
      const lines = await fresh("rj_lines");
      const auths = db.collection<Document>("rj_auth");
      await auths.createIndex({ creditLineId: 1, seq: 1 }, { unique: true });
      const seq = new Map<string, number>();
      await drive("record-journal", K, inFlight, async (w, i) => {
        const ls = distinct(w, i);
        await lines.find({ _id: { $in: ls as never[] } }).toArray();
        await auths.find({ creditLineId: { $in: ls }, seq: { $gt: 0 } }).limit(1).toArray();
        for (const l of ls) seq.set(l, (seq.get(l) ?? 0) + 1);
        await auths.insertMany(ls.map((l) => ({ ...rec(`r-${w}-${i}-${l}`, l), seq: seq.get(l) })), { ordered: false });
      });
    }
  } finally {
    await db.dropDatabase().catch(() => {});
    await mc.close();
    await infra.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
