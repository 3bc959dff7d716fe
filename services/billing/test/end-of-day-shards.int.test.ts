/**
 * Sharded end-of-day on the real broker, database and gRPC: a book closed date by date with 4 shards, each
 * shard asked of its own billing replica (4 replicas on one database, each with its own runner, gRPC server,
 * relay and lease — as the Indexed Job's 4 pods ask billing), gives the same accounts, the same run counts and
 * the same portfolio as the same book closed with 1 shard, and its date completes only when all 4 have.
 * (The replicas share this test's process — its clock and event loop — not 4 operating-system processes.)
 */
import { billing } from "@whiteslip/contracts";
import { addDays, type LocalDate, ManualClock, zonedInstant } from "@whiteslip/core";
import { createClient } from "@whiteslip/grpc";
import { testScope } from "@whiteslip/testkit/vitest";
import { afterAll, describe, expect, it } from "vitest";
import type { Account } from "../src/domain/account";
import { endOfDayThrough } from "../src/domain/end-of-day";
import { defaultProduct } from "../src/domain/product";
import { type StartedBilling, startBilling } from "../src/main";

const TZ = "Asia/Shanghai";
const N = 40;
const ids = Array.from({ length: N }, (_, k) => `sh-${String(k).padStart(2, "0")}`);
const DATES: LocalDate[] = ["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-04", "2025-01-05"];
const clock = new ManualClock(zonedInstant("2025-01-01", 10, 0, TZ));
const started: StartedBilling[] = [];
type Client = ReturnType<typeof createClient<typeof billing.BillingService>>;

async function replica(scope: ReturnType<typeof testScope>, db: string): Promise<{ svc: StartedBilling; client: Client }> {
  const svc = await startBilling({ env: { ...scope.serviceEnv("billing"), MONGODB_DB: db, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "error", EOD_PAGE_SIZE: "3" }, clock });
  started.push(svc);
  return { svc, client: createClient(billing.BillingService, `127.0.0.1:${svc.grpcPort}`, { deadlineMs: 30_000 }) };
}

async function seed(c: Client) {
  clock.set(zonedInstant("2025-01-01", 10, 0, TZ));
  for (const [k, id] of ids.entries()) {
    await c.openAccount({ accountId: id, customerId: `cus-${id}`, statementDay: 2 + (k % 4), productCode: "", creditLimitFen: 20_000_00n });
    await c.postPurchase({ accountId: id, authorizationId: `auth-${id}`, amountFen: BigInt(100_00 + 37_00 * k), installmentMonths: k % 3 === 0 ? 3 : 0, idempotencyKey: `buy-${id}` });
  }
}

/** The accounts as of the last date (idle accounts caught up in memory), without versions. */
async function accountsOf(svc: StartedBilling) {
  const docs = await svc.service.context.store.db.collection("accounts", { useBigInt64: true }).find({}, { projection: { pendingEvents: 0, eodMark: 0, eodOutbox: 0 } }).sort({ _id: 1 }).toArray();
  const last = DATES[DATES.length - 1]!;
  return docs.map(({ _id, ...rest }) => {
    const a = { id: String(_id), ...rest } as unknown as Account;
    const x = a.status === "ACTIVE" && a.eodDate < last ? endOfDayThrough(a, last, defaultProduct).account : a;
    return { ...x, version: 0 };
  });
}

const countsOf = (r: billing.EndOfDayRun) => ({
  processed: r.accountsProcessed, statements: r.statementsIssued, dueSoon: r.dueSoonEmitted, overdue: r.overdueEmitted, chargedOff: r.chargedOff, lateFees: r.lateFeesCharged,
});

afterAll(async () => {
  for (const s of started.reverse()) await s.stop().catch(() => undefined);
});

describe("sharded end-of-day", () => {
  it("4 shards on 4 replicas close each date to the result of 1 shard", { timeout: 300_000 }, async () => {
    const refScope = testScope("eod_one");
    const one = await replica(refScope, refScope.database("billing"));
    await seed(one.client);
    const refRuns = new Map<LocalDate, billing.EndOfDayRun>();
    for (const d of DATES) {
      clock.set(zonedInstant(addDays(d, 1), 0, 5, TZ));
      refRuns.set(d, (await one.client.runEndOfDay({ businessDate: d })).run!);
    }

    clock.set(zonedInstant("2025-01-01", 10, 0, TZ)); // the second book starts on the same business date
    const scope = testScope("eod_four");
    const db = scope.database("billing");
    const four = [];
    for (let i = 0; i < 4; i++) four.push(await replica(scope, db));
    await seed(four[0]!.client);
    for (const d of DATES) {
      clock.set(zonedInstant(addDays(d, 1), 0, 5, TZ));
      // every shard asked at once of its own replica, as the Indexed Job's pods do
      const runs = await Promise.all(four.map((r, i) => r.client.runEndOfDay({ businessDate: d, shardIndex: i, shardCount: 4 })));
      const last = (await four[0]!.client.getEndOfDayRun({ businessDate: d })).run!;
      expect(last.status, d).toBe(billing.EndOfDayStatus.COMPLETED);
      expect(last.shardCount).toBe(4);
      expect(last.shards.map((s) => s.status)).toEqual(Array(4).fill(billing.EndOfDayStatus.COMPLETED));
      expect(runs.length).toBe(4);
      expect(countsOf(last), d).toEqual(countsOf(refRuns.get(d)!));
      expect((await four[1]!.client.getBusinessDate({})).businessDate).toBe(addDays(d, 1));
    }
    expect(await accountsOf(four[0]!.svc)).toEqual(await accountsOf(one.svc));
    const stats = async (c: Client) => {
      const s = await c.getPortfolioStats({});
      return { ...s, trend: s.trend.map((t) => ({ ...t })) };
    };
    expect(await stats(four[2]!.client)).toEqual(await stats(one.client));
  });
});
