/**
 * The agenda backfill on the real database: accounts stored before sparse end-of-day (no agenda hint, no
 * end-of-day mark, on no agenda) are scheduled when billing starts, so the next run reads them: the legacy
 * book closes its date with the same counts as the same book written as sparse end-of-day writes it. An
 * account whose work is already past is scheduled on the current business date and caught up there. The
 * backfill is idempotent: asked again (even with its done-record removed) it changes nothing.
 */
import { addDays, type LocalDate, ManualClock, zonedInstant } from "@whiteslip/core";
import { testScope } from "@whiteslip/testkit/vitest";
import { MongoClient } from "mongodb";
import { afterAll, describe, expect, it } from "vitest";
import { AGENDA_PREFIX, type AccountDoc, accountsCollection, type MongoAccounts, seedAccounts } from "../src/adapters/mongo-accounts";
import { runEndOfDay } from "../src/app/run-end-of-day";
import { type Account, newAccount, zeroParts } from "../src/domain/account";
import { defaultProduct } from "../src/domain/product";
import { type StartedBilling, startBilling } from "../src/main";

const TZ = "Asia/Shanghai";
const D: LocalDate = "2025-03-10";
const N = 84;
const started: StartedBilling[] = [];

/** The bench's realistic mix in small: statement days spread, a DueSoon, a due missed today, some delinquent. */
function account(i: number): Account {
  const a = newAccount({ id: `bf-${String(i).padStart(3, "0")}`, customerId: `cus-${i}`, productCode: "baitiao-standard", statementDay: 1 + (i % 28), creditLimit: 10_000_00n, businessDate: "2024-12-01" });
  a.eodDate = addDays(D, -1);
  a.cycleStart = "2025-02-11";
  a.cyclePurchases = BigInt(100_00 + (i % 50) * 100);
  a.principalDays = a.cyclePurchases * 90n;
  a.purchases.push({ id: `pur-${i}`, authorizationId: `auth-${i}`, amount: a.cyclePurchases, refunded: 0n, months: 0, postedDate: "2025-02-20" });
  const due = (dueDate: LocalDate, missed: boolean) =>
    a.dues.push({ id: `${a.id}:${addDays(dueDate, -29)}`, kind: "statement", dueDate, amountDue: 300_00n, minimumPayment: 300_00n, unpaid: { ...zeroParts(), principal: 300_00n }, missed, lateFeeCharged: missed, rolled: 0n, statement: { statementDate: addDays(dueDate, -29), periodStart: addDays(dueDate, -60), purchases: 300_00n, installmentPrincipal: 0n, installmentFees: 0n, revolving: 0n, feesAndPenalties: 0n, previousBalance: 0n } });
  if (i % 28 === 1) due(addDays(D, 5), false);
  if (i % 28 === 2) due(addDays(D, -1), false);
  if (i % 11 === 0) {
    due("2025-02-20", true);
    a.dpd = 17;
    a.bucket = "M1";
    a.delinquencyStartDate = "2025-02-21";
  }
  return a;
}

/** Stored as billing stored accounts before sparse end-of-day: the aggregate and an empty outbox, nothing else. */
function legacyDoc(a: Account): AccountDoc {
  const { id, nextActionDate: _n, ...rest } = a;
  return { _id: id, ...rest, pendingEvents: [] };
}

afterAll(async () => {
  for (const s of started.reverse()) await s.stop().catch(() => undefined);
});

describe("agenda backfill", () => {
  it("schedules accounts stored before sparse end-of-day, once, so the next run reads them", { timeout: 180_000 }, async () => {
    const scope = testScope("agenda_backfill");
    const clock = new ManualClock(zonedInstant(D, 10, 0, TZ));
    const start = async (db: string) => {
      const svc = await startBilling({ env: { ...scope.serviceEnv("billing"), MONGODB_DB: db, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "error", EOD_PAGE_SIZE: "20" }, clock });
      started.push(svc);
      return svc;
    };
    const legacyDb = scope.database("billing_legacy");
    const refDb = scope.database("billing_ref");
    const accounts = Array.from({ length: N }, (_, i) => account(i));
    // one more legacy account, its last end-of-day D−3 (two days behind)
    const behind = account(88); // delinquent: work every day, so its hint (D−2) is past
    behind.id = "bf-behind";
    behind.eodDate = addDays(D, -3);

    const ref = await start(refDb);
    await seedAccounts(ref.service.context.store.db, accounts.map((a) => structuredClone(a)), defaultProduct);

    // the legacy documents are written before billing first starts on that database: the backfill runs at start
    const mongo = new MongoClient(scope.serviceEnv("billing").MONGODB_URI!);
    await mongo.connect();
    try {
      const raw = accountsCollection(mongo.db(legacyDb));
      await raw.insertMany([...accounts, behind].map((a) => legacyDoc(structuredClone(a))));
      const legacy = await start(legacyDb);

      const docs = await raw.find({}).toArray();
      expect(docs.filter((d) => d.status === "ACTIVE" && (!d.nextActionDate || !d.eodMark)).map((d) => d._id)).toEqual([]);
      const onAgenda = new Set((await mongo.db(legacyDb).collection<{ ids: string[] }>(`${AGENDA_PREFIX}${D}`).find({}).toArray()).flatMap((d) => d.ids));
      expect(onAgenda.has("bf-behind")).toBe(true);
      const refOnAgenda = new Set((await mongo.db(refDb).collection<{ ids: string[] }>(`${AGENDA_PREFIX}${D}`).find({}).toArray()).flatMap((d) => d.ids));
      expect(refOnAgenda.size).toBeGreaterThan(0);
      expect([...onAgenda].filter((id) => id !== "bf-behind").sort()).toEqual([...refOnAgenda].sort());
      expect((await mongo.db(legacyDb).collection("state").findOne({ _id: "agenda-backfill" as never }))?.accounts).toBe(N + 1);

      // Idempotent: again, and again with its done-record removed — nothing changes, nothing more on the agenda.
      const agendaDocs = await mongo.db(legacyDb).collection(`${AGENDA_PREFIX}${D}`).countDocuments();
      const repo = legacy.deps.accounts as MongoAccounts;
      const productOf = (code: string) => (code === defaultProduct.code ? defaultProduct : undefined);
      expect(await repo.backfillAgenda(D, productOf)).toBe(0);
      await mongo.db(legacyDb).collection("state").deleteOne({ _id: "agenda-backfill" as never });
      expect(await repo.backfillAgenda(D, productOf)).toBe(0);
      expect(await mongo.db(legacyDb).collection(`${AGENDA_PREFIX}${D}`).countDocuments()).toBe(agendaDocs);
      expect((await raw.find({}).toArray()).map((d) => [d._id, d.version, d.nextActionDate])).toEqual(docs.map((d) => [d._id, d.version, d.nextActionDate]));

      // The next run reads them: the same counts as the book written by sparse end-of-day, plus the account behind.
      clock.set(zonedInstant(addDays(D, 1), 0, 30, TZ));
      const l = (await runEndOfDay(legacy.deps, { businessDate: D, shardIndex: 0, shardCount: 1 })).shards[0]!;
      const r = (await runEndOfDay(ref.deps, { businessDate: D, shardIndex: 0, shardCount: 1 })).shards[0]!;
      expect(r.processed).toBeGreaterThan(0);
      expect(r.counts.statementsIssued + r.counts.dueSoon + r.counts.overdue).toBeGreaterThan(0);
      expect(l.processed).toBe(r.processed + 1);
      expect((await raw.findOne({ _id: "bf-behind" }))?.eodDate).toBe(D);
      const ids = (await raw.find({ eodDate: D }, { projection: { _id: 1 } }).toArray()).map((d) => d._id).filter((id) => id !== "bf-behind").sort();
      const refIds = (await accountsCollection(mongo.db(refDb)).find({ eodDate: D }, { projection: { _id: 1 } }).toArray()).map((d) => d._id).sort();
      expect(ids).toEqual(refIds);
    } finally {
      await mongo.close();
    }
  });
});
