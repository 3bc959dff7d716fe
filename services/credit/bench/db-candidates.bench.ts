/**
 * Issue 16, second round: where the database's work per approval goes, candidate by candidate, on the database
 * alone (no gRPC, no service), with the service's own repositories where the candidate is today's code.
 *
 * - `line K`: today's group commit of K (intent insert, bulk conditional reservation on the real line document,
 *   read-back of the lines, insertMany of the records) — MongoCreditLines / MongoAuthorizations as built;
 * - `balance K`: the same four round trips on a small per-line balance document holding only what the conditional
 *   reservation reads and writes (status, restricted features, available, open holds, holds, version);
 * - `line 1 (4 rt)` / `line 1 fast`: a batch of one the way it is today and as three round trips (intent,
 *   findOneAndUpdate returning the line after, insertOne of the record);
 * - `records …`: the record insert alone (with and without the expiry index, full and lean record).
 *
 * Lines are opened the way ApplyForCredit opens them and aged with `--history` consumed events (a line that has
 * lived a while carries its applied event ids and audit history in the document every reservation rewrites).
 * Prints approvals/s, per-call latency and the database process's CPU per approval (from /proc).
 *
 * Usage: tsx bench/db-candidates.bench.ts [seconds=6] [K=16] [lines=500] [applied=0] [only=<substring>]
 */
import { type Collection, type Document, Long, MongoClient } from "mongodb";
import { startInfra } from "@whiteslip/testkit";
import { APPLIED_EVENTS_KEPT, MongoAuthorizations, MongoCreditLines, MongoReservationIntents, creditCollections } from "../src/adapters/mongo-repositories";
import type { AuthorizationRecord } from "../src/app/ports";
import { openLine } from "../src/domain/credit-line";
import { describeDriven, drive as measure } from "./measure";

const seconds = Number(process.argv[2] ?? 6);
const K = Number(process.argv[3] ?? 16);
const lineCount = Number(process.argv[4] ?? 500);
const applied = Math.min(APPLIED_EVENTS_KEPT, Number(process.argv[5] ?? 0));
const only = process.argv[6] ?? "";

let dbPid: number | undefined;

async function drive(name: string, perCall: number, workers: number, call: (w: number, i: number) => Promise<void>) {
  if (only && !name.includes(only)) return;
  console.log(describeDriven(name, await measure(seconds, perCall, workers, dbPid, call), workers, perCall));
}

const record = (id: string, line: string, k: number): AuthorizationRecord => ({
  id,
  creditLineId: line,
  idempotencyKey: `key-${id}`,
  amountFen: 100n,
  merchantScenario: "PLATFORM_RETAIL",
  merchantId: "m-1",
  orderId: `order-${id}`,
  installmentMonths: 0,
  decision: "APPROVED",
  declineReason: "",
  availableFen: 4_999_900n - BigInt(k),
  expiresAt: new Date(Date.now() + 7 * 86_400_000),
  createdAt: new Date(),
  status: "OPEN",
});

async function main() {
  const infra = await startInfra();
  dbPid = infra.local?.database.process.child.pid;
  const mc = new MongoClient(infra.mongoUri, { maxPoolSize: 20 });
  const dbName = `credit_candidates_${Date.now().toString(36)}`;
  const db = mc.db(dbName);
  console.log(`db candidates: ${seconds}s each, K=${K}, ${lineCount} lines, ${applied} applied event ids per line, database ${infra.kind}`);
  try {
    let round = 0;
    /** Real line documents (ApplyForCredit's shape), aged with applied event ids and audit entries. */
    const realLines = async () => {
      const c = await creditCollections(mc.db(`${dbName}_${round++}`));
      const lines = new MongoCreditLines(c.lines);
      for (let i = 0; i < lineCount; i++) {
        await lines.insert(
          openLine({ id: `l${i}`, customerId: `c${i}`, applicationId: `a${i}`, productCode: "WHITESLIP_STANDARD", statementDay: 1, modelVersion: "scorecard-v1", monthlyIncomeFen: 5_000_000n, score: 700, tier: "B", limitFen: 5_000_000n, at: new Date() }),
        );
      }
      await c.lines.updateMany({}, { $set: { pendingEvents: [] } }); // the relay has published CreditLineOpened
      if (applied > 0) await c.lines.updateMany({}, { $set: { appliedEvents: Array.from({ length: applied }, (_, k) => `0193a1b2-c3d4-7e5f-8a9b-${String(k).padStart(12, "0")}`) } });
      return { c, lines, auths: new MongoAuthorizations(c.authorizations), intents: new MongoReservationIntents(c.intents) };
    };
    const lineOf = (w: number, i: number, k: number, per: number) => `l${(w * 7919 + i * per + k) % lineCount}`;
    const batchLines = (w: number, i: number, per: number) => [...new Set(Array.from({ length: per }, (_, k) => lineOf(w, i, k, per)))];
    const intentOf = (ids: string[], ls: string[], tag: string) => ({
      id: `ri_${tag}`,
      at: new Date(),
      items: ids.map((id, k) => {
        const { decision: _d, declineReason: _r, availableFen: _a, expiresAt: _e, status: _s, ...item } = record(id, ls[k]!, k);
        return item;
      }),
    });

    // today's batch (K) and today's batch of one, through the service's repositories
    for (const [name, per, workers] of [[`line ${K}`, K, 1], ["line 1 (4 rt)", 1, 4]] as const) {
      if (only && !name.includes(only)) continue;
      const r = await realLines();
      await drive(name, per, workers, async (w, i) => {
        const ls = batchLines(w, i, per);
        const ids = ls.map((l) => `au_${w}_${i}_${l}`);
        await r.intents.insert(intentOf(ids, ls, `${w}_${i}`));
        await r.lines.reserveMany(ls.map((l, k) => ({ lineId: l, authorizationId: ids[k]!, hold: { amountFen: 100n }, blockedBy: ["NEW_PURCHASES"] })));
        await r.lines.getMany(ls);
        await r.auths.insertManyIfAbsent(ls.map((l, k) => record(ids[k]!, l, k)));
      });
    }
    // a batch of one in three round trips: the reservation answers its own outcome
    {
      const name = "line 1 fast (3 rt)";
      if (!only || name.includes(only)) {
        const r = await realLines();
        await drive(name, 1, 4, async (w, i) => {
          const l = lineOf(w, i, 0, 1);
          const id = `au_${w}_${i}_${l}`;
          await r.intents.insert(intentOf([id], [l], `${w}_${i}`));
          await r.c.lines.findOneAndUpdate(
            { _id: l as never, status: "ACTIVE", "restriction.features": { $nin: ["NEW_PURCHASES"] }, availableFen: { $gte: 100n }, [`holds.${id}`]: { $exists: false } },
            { $set: { [`holds.${id}`]: Long.fromBigInt(100n) }, $inc: { availableFen: -100n, openHoldsFen: 100n, version: 1 } },
            { returnDocument: "after" }, // FerretDB v1: findAndModify takes no projection
          );
          await r.auths.insertIfAbsent(record(id, l, 0));
        });
      }
    }
    // the line's state known in the process (its version): no read at all, the reservation conditional on the version
    for (const [name, per, workers] of [[`line ${K} cached (3 rt)`, K, 1], ["line 1 cached (3 rt)", 1, 4]] as const) {
      if (only && !name.includes(only)) continue;
      const r = await realLines();
      const version = new Map<string, number>();
      let missed = 0;
      await drive(name, per, workers, async (w, i) => {
        const ls = batchLines(w, i, per);
        const ids = ls.map((l) => `au_${w}_${i}_${l}`);
        await r.intents.insert(intentOf(ids, ls, `${w}_${i}`));
        const res = await r.c.lines.bulkWrite(
          ls.map((l, k) => ({
            updateOne: {
              filter: { _id: l as never, version: version.get(l) ?? 0 },
              update: { $set: { [`holds.${ids[k]}`]: Long.fromBigInt(100n) }, $inc: { availableFen: -100n, openHoldsFen: 100n, version: 1 } },
            },
          })),
          { ordered: false },
        );
        if (res.matchedCount !== ls.length) missed++;
        for (const l of ls) version.set(l, (version.get(l) ?? 0) + 1);
        await r.auths.insertManyIfAbsent(ls.map((l, k) => record(ids[k]!, l, k)));
      });
      if (missed > 0) console.log(`  (${missed} batches missed a version)`);
    }
    // a small balance document per line: only what the conditional reservation reads and writes
    const balances = async () => {
      const c = db.collection<Document>(`balances_${round++}`);
      await c.insertMany(Array.from({ length: lineCount }, (_, i) => ({ _id: `l${i}` as never, status: "ACTIVE", features: [], availableFen: 5_000_000n, openHoldsFen: 0n, holds: {}, version: 0 })));
      const a = await creditCollections(mc.db(`${dbName}_${round++}`));
      return { c, auths: new MongoAuthorizations(a.authorizations), intents: new MongoReservationIntents(a.intents) };
    };
    const reserveOn = (c: Collection<Document>, ls: string[], ids: string[]) =>
      c.bulkWrite(
        ls.map((l, k) => ({
          updateOne: {
            filter: { _id: l as never, status: "ACTIVE", features: { $nin: ["NEW_PURCHASES"] }, availableFen: { $gte: 100n }, [`holds.${ids[k]}`]: { $exists: false } },
            update: { $set: { [`holds.${ids[k]}`]: Long.fromBigInt(100n) }, $inc: { availableFen: -100n, openHoldsFen: 100n, version: 1 } },
          },
        })),
        { ordered: false },
      );
    for (const [name, per, workers] of [[`balance ${K}`, K, 1], ["balance 1 fast (3 rt)", 1, 4]] as const) {
      if (only && !name.includes(only)) continue;
      const b = await balances();
      await drive(name, per, workers, async (w, i) => {
        const ls = batchLines(w, i, per);
        const ids = ls.map((l) => `au_${w}_${i}_${l}`);
        await b.intents.insert(intentOf(ids, ls, `${w}_${i}`));
        if (per === 1) {
          await b.c.findOneAndUpdate(
            { _id: ls[0] as never, status: "ACTIVE", features: { $nin: ["NEW_PURCHASES"] }, availableFen: { $gte: 100n }, [`holds.${ids[0]}`]: { $exists: false } },
            { $set: { [`holds.${ids[0]}`]: Long.fromBigInt(100n) }, $inc: { availableFen: -100n, openHoldsFen: 100n, version: 1 } },
            { returnDocument: "after" },
          );
        } else {
          await reserveOn(b.c, ls, ids);
          await b.c.find({ _id: { $in: ls as never[] } }).toArray();
        }
        await b.auths.insertManyIfAbsent(ls.map((l, k) => record(ids[k]!, l, k)));
      });
    }
    // the parts alone, K per call: the reservation on each document shape, the read-back, the record insert
    {
      const r = await realLines();
      await drive(`part: reserve line ×${K}`, K, 1, async (w, i) => {
        const ls = batchLines(w, i, K);
        await r.lines.reserveMany(ls.map((l) => ({ lineId: l, authorizationId: `au_${w}_${i}_${l}`, hold: { amountFen: 100n }, blockedBy: ["NEW_PURCHASES"] })));
      });
      await drive(`part: read lines ×${K}`, K, 1, async (w, i) => {
        await r.lines.getMany(batchLines(w, i, K));
      });
      const b = await balances();
      await drive(`part: reserve balance ×${K}`, K, 1, async (w, i) => {
        const ls = batchLines(w, i, K);
        await reserveOn(b.c, ls, ls.map((l) => `au_${w}_${i}_${l}`));
      });
      await drive(`part: read balances ×${K}`, K, 1, async (w, i) => {
        await b.c.find({ _id: { $in: batchLines(w, i, K) as never[] } }).toArray();
      });
      await drive(`part: records ×${K} (index)`, K, 1, async (w, i) => {
        await r.auths.insertManyIfAbsent(batchLines(w, i, K).map((l, k) => record(`au_${w}_${i}_${l}`, l, k)));
      });
      const bare = new MongoAuthorizations(db.collection(`auth_noindex_${round++}`));
      await drive(`part: records ×${K} (no index)`, K, 1, async (w, i) => {
        await bare.insertManyIfAbsent(batchLines(w, i, K).map((l, k) => record(`au_${w}_${i}_${l}`, l, k)));
      });
      const lean = db.collection<Document>(`auth_lean_${round++}`);
      await drive(`part: lean records ×${K}`, K, 1, async (w, i) => {
        await lean.insertMany(batchLines(w, i, K).map((l) => ({ _id: `au_${w}_${i}_${l}` as never, l, a: 100n, o: `order-${w}-${i}` })), { ordered: false });
      });
      const intents = new MongoReservationIntents(db.collection(`intents_${round++}`));
      await drive("part: intent of K", K, 1, async (w, i) => {
        const ls = batchLines(w, i, K);
        await intents.insert(intentOf(ls.map((l) => `au_${w}_${i}_${l}`), ls, `${w}_${i}`));
      });
      const doc = await r.c.lines.findOne({ _id: "l1" as never });
      console.log(`a line document after the run: ${JSON.stringify(doc).length} bytes as JSON, ${Object.keys(doc?.holds ?? {}).length} holds`);
    }
  } finally {
    const all = await mc.db().admin().listDatabases();
    for (const d of all.databases) if (d.name.startsWith(dbName)) await mc.db(d.name).dropDatabase().catch(() => {});
    await mc.close();
    await infra.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
