/**
 * End-of-day you can trust in production, on the real broker, database and gRPC, against a fault-free run
 * of the same book (same ids, same dates) in a database and topic prefix of its own:
 * - D closes only from the end of D in Shanghai plus the cutoff (exact boundary); a second call and a
 *   Job retry right after completion change nothing; D+1 is refused until D+1 has ended;
 * - an owner that dies between a page's writes and its count (no release, no more heartbeats) is taken
 *   over by another replica, whose completion recounts the stats from what was committed;
 * - a replica stopped as SIGTERM stops it hands its lease back and another one continues at once;
 * - a poison account (product no longer configured) and an int64 overflow are quarantined while the
 *   rest of the book completes, listed by GetEndOfDayRun, retried by a re-run of D and by the next date,
 *   and cleared once fixed.
 * At the end the faulty book's accounts (ledger, statements, delinquency) and its events by ce_id equal
 * the fault-free book's.
 */
import { billing, topicsProducedBy } from "@whiteslip/contracts";
import { addDays, type LocalDate, ManualClock, zonedInstant } from "@whiteslip/core";
import { createClient, type GrpcError } from "@whiteslip/grpc";
import { kafkaClientConfig, type TestScope, testInfra, testScope, uniqueName } from "@whiteslip/testkit/vitest";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EodHooks } from "../src/app/ports";
import { recountShard } from "../src/app/run-end-of-day";
import type { Account } from "../src/domain/account";
import { endOfDayThrough } from "../src/domain/end-of-day";
import { defaultProduct } from "../src/domain/product";
import { type StartedBilling, startBilling } from "../src/main";

const TZ = "Asia/Shanghai";
const N = 24;
const ids = Array.from({ length: N }, (_, k) => `acc-${String(k).padStart(2, "0")}`);
const POISON = ids[7]!;
const OVERFLOW = ids[11]!;
const DATES: LocalDate[] = ["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-04", "2025-01-05", "2025-01-06"];
const clock = new ManualClock(zonedInstant("2025-01-01", 10, 0, TZ));

type Client = ReturnType<typeof createClient<typeof billing.BillingService>>;
interface Book {
  scope: TestScope;
  db: string;
  prefix: string;
  seen: Map<string, number>;
}
/** Two books, each in a scope of its own (database, topic prefix): the fault-free one and the faulty one. */
const book = (tag: string): Book => {
  const scope = testScope(tag);
  return { scope, db: scope.database("billing"), prefix: scope.topicPrefix, seen: new Map() };
};
const ref = book("eod_ref");
const flt = book("eod_flt");
const started: StartedBilling[] = [];
const offsets = new Map<string, number>();
let consumer: ReturnType<Kafka["consumer"]>;
let kafka: Kafka;

async function start(b: Book, extra: Record<string, string> = {}, hooks?: EodHooks): Promise<{ svc: StartedBilling; client: Client }> {
  const svc = await startBilling({
    env: {
      ...b.scope.serviceEnv("billing"),
      MONGODB_DB: b.db, // the replicas of one book share its database
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "error",
      EOD_PAGE_SIZE: "5",
      EOD_LEASE_MS: "1500",
      EOD_SUPERVISE_INTERVAL_MS: "200",
      ...extra,
    },
    clock,
    ...(hooks ? { hooks } : {}),
  });
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

/** Moves the clock past the end of `date` (00:05 the next day) and closes it. */
async function closeDay(c: Client, date: LocalDate) {
  clock.set(zonedInstant(addDays(date, 1), 0, 5, TZ));
  return (await c.runEndOfDay({ businessDate: date })).run!;
}

/** Polls GetEndOfDayRun until the run completes (the positive barrier of the fault scenarios). */
async function completed(c: Client, date: LocalDate, ms = 30_000): Promise<billing.EndOfDayRun> {
  const until = Date.now() + ms;
  for (;;) {
    const r = (await c.getEndOfDayRun({ businessDate: date })).run!;
    if (r.status === billing.EndOfDayStatus.COMPLETED) return r;
    if (r.status === billing.EndOfDayStatus.FAILED) throw new Error(`end-of-day ${date} failed: ${r.error}`);
    if (Date.now() > until) throw new Error(`end-of-day ${date} did not complete within ${ms} ms: ${JSON.stringify(r.shards.map((s) => ({ owner: s.owner, processed: String(s.accountsProcessed) })))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const failure = async (p: Promise<unknown>) => (await p.then(() => { throw new Error("expected a failure"); }, (e: GrpcError) => e)) as GrpcError;
/** The counts of a run, without times and owners. */
const countsOf = (r: billing.EndOfDayRun) => ({
  total: r.accountsTotal, processed: r.accountsProcessed, statements: r.statementsIssued, dueSoon: r.dueSoonEmitted,
  overdue: r.overdueEmitted, chargedOff: r.chargedOff, lateFees: r.lateFeesCharged,
});

/** Every account of a book as stored, without its outbox and the end-of-day's bookkeeping mark. */
/**
 * The accounts as of the last date: sparse end-of-day leaves an account idle since its last action (caught
 * up in closed form when next read), so each is brought to the last date in memory; versions count writes.
 */
async function accountsOf(svc: StartedBilling) {
  const docs = await svc.service.context.store.db.collection("accounts", { useBigInt64: true }).find({}, { projection: { pendingEvents: 0, eodMark: 0, eodOutbox: 0 } }).sort({ _id: 1 }).toArray();
  const last = DATES[DATES.length - 1]!;
  return docs.map(({ _id, ...rest }) => {
    const a = { id: String(_id), ...rest } as unknown as Account;
    const x = a.status === "ACTIVE" && a.eodDate < last ? endOfDayThrough(a, last, defaultProduct).account : a;
    return { ...x, version: 0 };
  });
}

/** What billing writes (it creates those topics at start; the others are no concern of this test). */
const BILLING_TOPICS = topicsProducedBy("billing");

/** Waits until the test consumer has read every partition of every topic up to its high watermark. */
async function drained() {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const until = Date.now() + 30_000;
    for (const b of [ref, flt])
      for (const t of BILLING_TOPICS) {
        const topic = b.prefix + t;
        for (const p of await admin.fetchTopicOffsets(topic)) {
          const high = Number(p.high);
          while ((offsets.get(`${topic}:${p.partition}`) ?? -1) < high - 1) {
            if (Date.now() > until) throw new Error(`consumer behind on ${topic}:${p.partition}`);
            await new Promise((r) => setTimeout(r, 50));
          }
        }
      }
  } finally {
    await admin.disconnect();
  }
}

beforeAll(async () => {
  const infra = testInfra();
  kafka = new Kafka({ ...kafkaClientConfig(infra), clientId: uniqueName("eod-lease"), logLevel: logLevel.NOTHING });
}, 60_000);

afterAll(async () => {
  await consumer?.disconnect();
  for (const s of started.reverse()) await s.stop().catch(() => undefined);
});

describe("end-of-day: cutoff, lease, resume, quarantine", () => {
  it("matches a fault-free run through early-close refusals, a dead owner, a SIGTERM hand-back and quarantined accounts", { timeout: 240_000 }, async () => {
    // The fault-free book.
    const R = await start(ref);
    await seed(R.client);
    const refRuns = new Map<LocalDate, billing.EndOfDayRun>();
    for (const d of DATES) refRuns.set(d, await closeDay(R.client, d));

    clock.set(zonedInstant("2025-01-01", 10, 0, TZ));
    // The faulty book: replicas A (dies on 2025-01-03 between a page's writes and its count) and B.
    let dieOn: LocalDate | undefined = "2025-01-03";
    const A = await start(flt, {}, {
      beforeCount: (page, date) => {
        if (date !== dieOn || page !== 2) return;
        dieOn = undefined;
        return "abandon";
      },
    });
    const B = await start(flt);
    await seed(A.client);
    consumer = kafka.consumer({ groupId: uniqueName("eod-lease-test") });
    await consumer.connect();
    await consumer.subscribe({ topics: [ref, flt].flatMap((b) => BILLING_TOPICS.map((t) => b.prefix + t)), fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const book = topic.startsWith(ref.prefix) ? ref : flt;
        const id = String(message.headers?.ce_id);
        book.seen.set(id, (book.seen.get(id) ?? 0) + 1);
        offsets.set(`${topic}:${partition}`, Number(message.offset));
      },
    });

    // 1. Cutoff: 2025-01-01 ends at 16:00Z; with the 3-minute cutoff it may close from 16:03:00.000Z exactly.
    clock.set("2025-01-01T16:02:59.999Z");
    const early = await failure(A.client.runEndOfDay({ businessDate: "2025-01-01" }));
    expect(early).toMatchObject({ codeName: "FAILED_PRECONDITION", reason: "EOD_DAY_NOT_ENDED", metadata: { notBefore: "2025-01-01T16:03:00.000Z" } });
    expect(early.message).toContain("not before 2025-01-02 00:03 Asia/Shanghai");
    expect((await A.client.getBusinessDate({})).endOfDayNotBefore).toMatchObject({ seconds: BigInt(Date.parse("2025-01-01T16:03:00Z") / 1000) });
    expect((await failure(A.client.getEndOfDayRun({ businessDate: "2025-01-01" }))).codeName).toBe("NOT_FOUND");
    clock.set("2025-01-01T16:03:00.000Z");
    const first = (await A.client.runEndOfDay({ businessDate: "2025-01-01" })).run!;
    expect(first.status).toBe(billing.EndOfDayStatus.COMPLETED);
    // A second call and a Job retry a minute later: the same run, nothing new; D+1 has not ended.
    clock.set("2025-01-01T16:04:00.000Z");
    expect((await B.client.runEndOfDay({ businessDate: "2025-01-01" })).run).toEqual(first);
    expect((await A.client.runEndOfDay({ businessDate: "2025-01-01", async: true })).run).toEqual(first);
    const next = await failure(B.client.runEndOfDay({ businessDate: "2025-01-02" }));
    expect(next).toMatchObject({ codeName: "FAILED_PRECONDITION", reason: "EOD_DAY_NOT_ENDED", metadata: { notBefore: "2025-01-02T16:03:00.000Z" } });
    expect((await failure(B.client.getEndOfDayRun({ businessDate: "2025-01-02" }))).codeName).toBe("NOT_FOUND");
    expect((await B.client.getBusinessDate({})).businessDate).toBe("2025-01-02");
    await closeDay(A.client, "2025-01-02");

    // 2. A dies on 2025-01-03 after writing its second page and before counting it; its lease runs out and a
    //    supervisor (B's or a fresh one of A's) takes the shard over and finishes it.
    clock.set(zonedInstant("2025-01-04", 0, 5, TZ));
    const begun = (await A.client.runEndOfDay({ businessDate: "2025-01-03", async: true })).run!;
    expect(begun.status).toBe(billing.EndOfDayStatus.RUNNING);
    const d3 = await completed(B.client, "2025-01-03");
    expect(dieOn).toBeUndefined(); // it did die
    expect(d3.shards[0]!.takeovers).toBe(1);
    // Stats derived from what was committed: equal to a recount and to the fault-free run.
    const recount = await recountShard(B.svc.deps, "2025-01-03", { index: 0, count: 1 });
    expect(BigInt(recount.processed)).toBe(d3.accountsProcessed);
    expect(BigInt(recount.counts.statementsIssued)).toBe(d3.statementsIssued);
    expect(countsOf(d3)).toEqual(countsOf(refRuns.get("2025-01-03")!));
    const refStats = (await R.svc.deps.runs.get("2025-01-03"))!.shards[0]!;
    const fltStats = (await B.svc.deps.runs.get("2025-01-03"))!.shards[0]!;
    expect(fltStats.stats).toEqual(refStats.stats);
    expect(fltStats.counts).toEqual(refStats.counts);

    // 3. SIGTERM hand-back: C holds 2025-01-04 with a long lease, is stopped mid-run, hands the lease back,
    //    and B continues at once — long before C's lease could have expired.
    let reached!: () => void;
    const atPage = new Promise<void>((r) => { reached = r; });
    let gate!: () => void;
    const held = new Promise<void>((r) => { gate = r; });
    const C = await start(flt, { EOD_LEASE_MS: "120000" }, {
      afterPage: async (page, date) => {
        if (date !== "2025-01-04" || page !== 1) return;
        reached();
        await held;
      },
    });
    clock.set(zonedInstant("2025-01-05", 0, 5, TZ));
    // B's supervisor may not take a live lease: only C can be the owner here.
    await C.client.runEndOfDay({ businessDate: "2025-01-04", async: true });
    await atPage;
    const whileHeld = (await B.client.getEndOfDayRun({ businessDate: "2025-01-04" })).run!.shards[0]!;
    expect(whileHeld.owner).toBe(C.svc.eod.workerId);
    const leaseEnd = Number(whileHeld.leaseExpiresAt!.seconds) * 1000;
    const stopping = C.svc.stop(); // what runMain does on SIGTERM
    gate();
    await stopping;
    const handedBack = (await B.client.getEndOfDayRun({ businessDate: "2025-01-04" })).run!;
    expect(handedBack.status === billing.EndOfDayStatus.COMPLETED || handedBack.shards[0]!.owner !== C.svc.eod.workerId).toBe(true);
    const d4 = await completed(B.client, "2025-01-04");
    expect(Date.now()).toBeLessThan(leaseEnd);
    expect(d4.shards[0]!.takeovers).toBe(0); // handed back, not expired
    expect(countsOf(d4)).toEqual(countsOf(refRuns.get("2025-01-04")!));

    // 4. Quarantine: one account's product is no longer configured, another's figures overflow int64.
    const accounts = B.svc.service.context.store.db.collection("accounts", { useBigInt64: true });
    const original = await accounts.findOne({ _id: OVERFLOW as never });
    const poisoned = await accounts.findOne({ _id: POISON as never });
    await accounts.updateOne({ _id: POISON as never }, { $set: { productCode: "retired" } });
    await accounts.updateOne({ _id: OVERFLOW as never }, { $set: { principalDays: 2n ** 63n - 1n } });
    const d5 = await closeDay(B.client, "2025-01-05");
    expect(d5.status).toBe(billing.EndOfDayStatus.COMPLETED);
    // sparse: the accounts with work on 01-05 (statement day 5, both poisoned accounts among them) but the two held out
    const ref5 = refRuns.get("2025-01-05")!;
    expect(d5.accountsProcessed).toBe(ref5.accountsProcessed - 2n);
    expect(d5.accountsQuarantined).toBe(2n);
    expect(d5.quarantinedAccounts.map((q) => [q.accountId, q.reason, q.businessDate]).sort()).toEqual([
      [POISON, "PRODUCT_UNKNOWN", "2025-01-05"],
      [OVERFLOW, "INT64_OVERFLOW", "2025-01-05"],
    ].sort());
    expect(d5.quarantinedAccounts.find((q) => q.accountId === POISON)!.message).toContain("retired");
    expect((await B.client.getBusinessDate({})).businessDate).toBe("2025-01-06");
    // The overflow is repaired; a re-run of the completed date retries its quarantined accounts.
    await accounts.updateOne({ _id: OVERFLOW as never }, { $set: { principalDays: original!.principalDays } });
    const rerun = (await B.client.runEndOfDay({ businessDate: "2025-01-05" })).run!;
    expect(rerun.quarantinedAccounts.map((q) => q.accountId)).toEqual([POISON]);
    expect(rerun.accountsProcessed).toBe(ref5.accountsProcessed - 1n);
    // The product is back; the next date catches the poison account up through 2025-01-05 and 2025-01-06.
    await accounts.updateOne({ _id: POISON as never }, { $set: { productCode: poisoned!.productCode } });
    const d6 = await closeDay(B.client, "2025-01-06");
    expect(d6.accountsQuarantined).toBe(0n);
    expect((await B.client.getEndOfDayRun({ businessDate: "2025-01-05" })).run!.accountsQuarantined).toBe(0n);
    // The caught-up day counts in the run that committed it: over 01-05 + 01-06 the effects add up.
    const sum = (a: billing.EndOfDayRun, b: billing.EndOfDayRun) => ({ ...countsOf(a), total: 0n, processed: 0n, statements: a.statementsIssued + b.statementsIssued, dueSoon: a.dueSoonEmitted + b.dueSoonEmitted, overdue: a.overdueEmitted + b.overdueEmitted, lateFees: a.lateFeesCharged + b.lateFeesCharged, chargedOff: a.chargedOff + b.chargedOff });
    const rerun5 = (await B.client.getEndOfDayRun({ businessDate: "2025-01-05" })).run!;
    expect(sum(rerun5, d6)).toEqual(sum(refRuns.get("2025-01-05")!, refRuns.get("2025-01-06")!));
    expect(d6.accountsProcessed).toBe(refRuns.get("2025-01-06")!.accountsProcessed + 1n); // and the poison account, caught up

    // 5. The faulty book equals the fault-free one: accounts (ledger, statements, delinquency) and events by ce_id.
    expect(await accountsOf(B.svc)).toEqual(await accountsOf(R.svc));
    await R.svc.service.relay.flush();
    await B.svc.service.relay.flush();
    await A.svc.service.relay.flush();
    await drained();
    expect(ref.seen.size).toBeGreaterThan(N * 2);
    expect([...flt.seen.keys()].sort()).toEqual([...ref.seen.keys()].sort());
  });
});
