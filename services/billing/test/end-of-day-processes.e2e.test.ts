/**
 * Sharded end-of-day across operating-system processes, as the Indexed Job runs it: 4 billing processes
 * (compiled, mutual TLS, one shared database and clock file) and, for each date, 4 processes of the compiled
 * ops CLI (`node packages/ops/dist/cli.js eod --shard-index i --shard-count 4`, the Job's entrypoint), CLI i
 * asking billing i. Each billing process works exactly its own shard (from its log), and the book ends as
 * the same book closed with 1 shard in-process: accounts, run counts and the portfolio of every date.
 */
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { addDays, type LocalDate, ManualClock, zonedInstant } from "@whiteslip/core";
import { ensureLocalPki } from "@whiteslip/identity";
import { setFileClock } from "@whiteslip/runtime";
import { freePorts } from "@whiteslip/testkit";
import { testScope } from "@whiteslip/testkit/vitest";
import { MongoClient } from "mongodb";
import { afterAll, describe, expect, it } from "vitest";
import { builtFile, ensureBuilt } from "../../../packages/platform/src/build";
import { ROOT, type ServiceProcess, startServiceProcess, tlsEnv } from "../../../packages/platform/src/processes";
import { type AccountDoc, accountsCollection, seedAccounts } from "../src/adapters/mongo-accounts";
import { MongoEodRuns } from "../src/adapters/mongo-eod";
import { runEndOfDay, totalsOf } from "../src/app/run-end-of-day";
import { type Account, newAccount, zeroParts } from "../src/domain/account";
import { endOfDayThrough } from "../src/domain/end-of-day";
import { defaultProduct } from "../src/domain/product";
import { type StartedBilling, startBilling } from "../src/main";

const run = promisify(execFile);
const TZ = "Asia/Shanghai";
const D: LocalDate = "2025-03-10";
const DATES: LocalDate[] = [D, addDays(D, 1), addDays(D, 2)];
const N = 600;
const procs: ServiceProcess[] = [];
const inProcess: StartedBilling[] = [];

/** The bench's realistic mix: statement days spread, DueSoon, dues missed, some delinquent. */
function account(i: number): Account {
  const a = newAccount({ id: `px-${String(i).padStart(4, "0")}`, customerId: `cus-${i}`, productCode: "baitiao-standard", statementDay: 1 + (i % 28), creditLimit: 10_000_00n, businessDate: "2024-12-01" });
  a.eodDate = addDays(D, -1);
  a.cycleStart = "2025-02-11";
  a.cyclePurchases = BigInt(100_00 + (i % 50) * 100);
  a.principalDays = a.cyclePurchases * 90n;
  a.purchases.push({ id: `pur-${i}`, authorizationId: `auth-${i}`, amount: a.cyclePurchases, refunded: 0n, months: 0, postedDate: "2025-02-20" });
  const due = (dueDate: LocalDate, missed: boolean) =>
    a.dues.push({ id: `${a.id}:${addDays(dueDate, -29)}`, kind: "statement", dueDate, amountDue: 300_00n, minimumPayment: 300_00n, unpaid: { ...zeroParts(), principal: 300_00n }, missed, lateFeeCharged: missed, rolled: 0n, statement: { statementDate: addDays(dueDate, -29), periodStart: addDays(dueDate, -60), purchases: 300_00n, installmentPrincipal: 0n, installmentFees: 0n, revolving: 0n, feesAndPenalties: 0n, previousBalance: 0n } });
  if (i % 7 === 1) due(addDays(D, 5 + (i % 3)), false);
  if (i % 7 === 2) due(addDays(D, -1 + (i % 3)), false);
  if (i % 9 === 0) {
    due("2025-02-20", true);
    a.dpd = 17;
    a.bucket = "M1";
    a.delinquencyStartDate = "2025-02-21";
  }
  return a;
}

/** The accounts as of the last date (idle ones caught up in memory), without bookkeeping. */
async function accountsOf(mongo: MongoClient, db: string) {
  const last = DATES[DATES.length - 1]!;
  const docs = await accountsCollection(mongo.db(db)).find({}, { projection: { pendingEvents: 0, eodMark: 0, eodOutbox: 0 } }).sort({ _id: 1 }).toArray();
  return docs.map(({ _id, ...rest }: AccountDoc) => {
    const a = { id: String(_id), ...rest } as unknown as Account;
    return a.status === "ACTIVE" && a.eodDate < last ? endOfDayThrough(a, last, defaultProduct).account : a;
  });
}

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop().catch(() => undefined)));
  for (const s of inProcess) await s.stop().catch(() => undefined);
});

describe("sharded end-of-day in 4 processes", () => {
  it("4 billing processes, each asked by its own compiled ops CLI process, close each date to the result of 1 shard", { timeout: 600_000 }, async () => {
    const scope = testScope("eod_procs");
    const dir = mkdtempSync(join(tmpdir(), "whiteslip-eod-procs-"));
    const pki = await ensureLocalPki({ dir: join(dir, "pki") });
    const clockFile = join(dir, "clock.json");
    setFileClock(clockFile, zonedInstant(D, 10, 0, TZ));
    const dbOne = scope.database("billing_one");
    const dbFour = scope.database("billing_four");
    const mongo = new MongoClient(scope.mongoUri);
    await mongo.connect();
    try {
      const book = Array.from({ length: N }, (_, i) => account(i));
      await seedAccounts(mongo.db(dbOne), structuredClone(book), defaultProduct);
      await seedAccounts(mongo.db(dbFour), structuredClone(book), defaultProduct);

      // The reference: 1 shard, in-process.
      const clock = new ManualClock(zonedInstant(D, 10, 0, TZ));
      const one = await startBilling({ env: { ...scope.serviceEnv("billing"), MONGODB_DB: dbOne, LOG_LEVEL: "error", EOD_PAGE_SIZE: "25" }, clock });
      inProcess.push(one);
      for (const d of DATES) {
        clock.set(zonedInstant(addDays(d, 1), 0, 30, TZ));
        await runEndOfDay(one.deps, { businessDate: d, shardIndex: 0, shardCount: 1 });
      }

      // 4 billing processes on one database and one clock.
      const { GRPC_PORT: _p, GRPC_PLAINTEXT_DEV: _t, ...base } = scope.serviceEnv("billing");
      const env = { ...base, MONGODB_DB: dbFour, CLOCK_FILE: clockFile, LOG_LEVEL: "info", EOD_PAGE_SIZE: "25" };
      const ports = await freePorts(4);
      const lines: string[][] = ports.map(() => []);
      for (const [i, port] of ports.entries()) {
        procs.push(await startServiceProcess("billing", { env, pki, ports: { billing: port }, onLine: (_s, line) => lines[i]!.push(line), readyTimeoutMs: 240_000 }));
      }
      expect(new Set(procs.map((p) => p.child.pid)).size).toBe(4);
      await ensureBuilt({ names: ["ops"] });
      const runs = new MongoEodRuns(mongo.db(dbFour));
      for (const d of DATES) {
        setFileClock(clockFile, zonedInstant(addDays(d, 1), 0, 30, TZ));
        const cli = ports.map((port, i) =>
          run(process.execPath, [builtFile("ops"), "eod", "--shard-index", String(i), "--shard-count", "4"], {
            cwd: ROOT,
            env: { ...process.env, ...tlsEnv(pki, "eod"), BILLING_ADDR: `127.0.0.1:${port}`, EOD_SHARD_COUNT: "", JOB_COMPLETION_INDEX: "" },
            timeout: 240_000,
          }),
        );
        const outs = await Promise.all(cli); // each exits 0 (execFile rejects otherwise)
        expect(outs.length).toBe(4);
        const four = (await runs.get(d))!;
        const ref = (await one.deps.runs.get(d))!;
        expect(four.status, d).toBe("COMPLETED");
        expect(four.shardCount).toBe(4);
        expect(four.shards.map((s) => s.status)).toEqual(Array(4).fill("COMPLETED"));
        const { shardsCompleted: _a, ...t4 } = totalsOf(four);
        const { shardsCompleted: _b, ...t1 } = totalsOf(ref);
        expect({ processed: t4.processed, counts: t4.counts }, d).toEqual({ processed: t1.processed, counts: t1.counts });
        expect(t1.processed).toBeGreaterThan(0);
        expect(four.portfolio, d).toEqual(ref.portfolio);
      }
      // Each process worked its own shard and no other (the lease owner of each acquisition, from the logs).
      for (const [i, ls] of lines.entries()) {
        const acquired = ls.flatMap((l) => {
          try {
            const o = JSON.parse(l) as { msg?: string; shard?: number; businessDate?: string };
            return o.msg === "end-of-day shard acquired" ? [`${o.businessDate}#${o.shard}`] : [];
          } catch {
            return [];
          }
        });
        expect(acquired.sort(), `billing process ${i}`).toEqual(DATES.map((d) => `${d}#${i}`));
      }
      expect(await accountsOf(mongo, dbFour)).toEqual(await accountsOf(mongo, dbOne));
    } finally {
      await mongo.close();
    }
  });
});
