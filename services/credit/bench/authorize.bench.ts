/**
 * AuthorizePurchase under concurrent load for a fixed time against the real
 * service (gRPC → use case → database), and in the same run the same load
 * against a bare echo server on the same gRPC adapter with a trivial handler.
 * Prints rps, p50/p99 latency of each and the ratio. Also, as a yardstick for the
 * database on this machine, the same load on the database alone: the two writes of an
 * approval (one conditional findOneAndUpdate of a line-sized document by _id, one insert)
 * with the MongoDB driver and no service in between.
 *
 * After the run, overspend is counted from the database: the lines whose open holds (on the line document, and
 * the OPEN approved authorization records) exceed the credit they had (limit − posted balance).
 * The last line is machine-readable, exactly:
 *   RESULT authorize rps=<n> p99_ms=<x> echo_rps=<n> echo_p99_ms=<x> ratio=<rps/echo_rps> p99_ratio=<p99/echo_p99> overspend=<n>
 *
 * Usage: pnpm --filter @whiteslip/credit bench:authorize [seconds=15] [concurrency=16] [lines=500]
 * (500 lines keep a realistic handful of open holds per line; with few lines every line collects hundreds.)
 * Infrastructure: KAFKA_BROKERS + MONGODB_URI if set, else the testkit starts Kafka + a database.
 */
import { credit } from "@whiteslip/contracts";
import { type Document, MongoClient } from "mongodb";
import { createClient, service, startGrpcServer } from "@whiteslip/grpc";
import { benchScope, kafkaEnv, startInfra } from "@whiteslip/testkit";
import { startCredit } from "../src/main";
import { nationalIdCheckChar } from "../src/domain/identity";
import { processCpuSeconds } from "./measure";

const seconds = Number(process.argv[2] ?? 15);
const concurrency = Number(process.argv[3] ?? 16);
const lineCount = Number(process.argv[4] ?? 500);

interface Result {
  /** CPU per completed call, µs: this process (client, servers, service) and the database process (when local). */
  cpu: { nodeUs: number; dbUs: number | null; dbCorePct: number | null };
  rps: number;
  p50: number;
  p99: number;
  count: number;
  errors: number;
}

let dbPid: number | undefined;

async function load(call: (worker: number, i: number) => Promise<unknown>, durationMs: number): Promise<Result> {
  const latencies: number[] = [];
  const cpu0 = process.cpuUsage();
  const db0 = processCpuSeconds(dbPid);
  let errors = 0;
  const end = performance.now() + durationMs;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      for (let i = 0; performance.now() < end; i++) {
        const t = performance.now();
        try {
          await call(w, i);
          latencies.push(performance.now() - t);
        } catch {
          errors++;
        }
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  const cpu1 = process.cpuUsage(cpu0);
  const db1 = processCpuSeconds(dbPid);
  const n = Math.max(1, latencies.length);
  const dbSeconds = db0 !== null && db1 !== null ? db1 - db0 : null;
  const cpu = { nodeUs: (cpu1.user + cpu1.system) / n, dbUs: dbSeconds === null ? null : (dbSeconds * 1e6) / n, dbCorePct: dbSeconds === null ? null : (100 * dbSeconds) / elapsed };
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? Number.NaN;
  return { cpu, rps: latencies.length / elapsed, p50: q(0.5), p99: q(0.99), count: latencies.length, errors };
}

const fmt = (r: Result) =>
  `${r.rps.toFixed(0).padStart(6)} rps  p50 ${r.p50.toFixed(2).padStart(6)} ms  p99 ${r.p99.toFixed(2).padStart(6)} ms  (${r.count} calls, ${r.errors} errors)` +
  `  CPU/call: node ${r.cpu.nodeUs.toFixed(0)} µs, db ${r.cpu.dbUs === null ? "n/a" : `${r.cpu.dbUs.toFixed(0)} µs (db busy ${r.cpu.dbCorePct!.toFixed(0)}% of a core)`}`;

async function main() {
  const infra = await startInfra();
  dbPid = infra.local?.database.process.child.pid;
  const run = Date.now().toString(36);
  const scope = benchScope("authorize", infra); // its own topics, removed afterwards
  const svc = await startCredit({
    env: {
      ...kafkaEnv(infra),
      MONGODB_URI: infra.mongoUri,
      MONGODB_DB: `credit_bench_${run}`,
      CONSUMER_GROUP: `credit-bench-${run}`,
      GRPC_PORT: "0",
      GRPC_HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      HOLD_SWEEP_INTERVAL_MS: "0",
      RESCORING_INTERVAL_MS: "0",
      TOPIC_PREFIX: scope.topicPrefix,
      // measured in plaintext (the development flag), as the README's figures were; mutual TLS adds the handshake
      GRPC_PLAINTEXT_DEV: "1",
    },
  });
  const echo = await startGrpcServer({
    port: 0,
    host: "127.0.0.1",
    services: [
      service(credit.CreditService, {
        authorizePurchase: async (req) => ({ authorizationId: req.idempotencyKey, decision: credit.AuthorizationDecision.APPROVED, availableFen: req.amountFen }),
      }),
    ],
  });
  const client = createClient(credit.CreditService, `127.0.0.1:${svc.grpcPort}`, { deadlineMs: 10_000 });
  const echoClient = createClient(credit.CreditService, `127.0.0.1:${echo.port}`, { deadlineMs: 10_000 });
  // opening 500 lines scores 500 applications: on a loaded machine one call can take longer than the load's deadline
  const setupClient = createClient(credit.CreditService, `127.0.0.1:${svc.grpcPort}`, { deadlineMs: 120_000 });
  try {
    // lines with the maximum limit (¥50,000): 50,000 authorizations of ¥1 each
    const lines: string[] = new Array(lineCount);
    const setupStart = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let i = next++; i < lineCount; i = next++) {
          const first17 = `3101011990${String(1 + (i % 12)).padStart(2, "0")}${String(10 + (i % 18)).padStart(2, "0")}${String(i % 1000).padStart(3, "0")}`;
          const c = await setupClient.registerCustomer({ name: "bench", nationalId: first17 + nationalIdCheckChar(first17), phone: "+8613800138000", email: "b@example.cn" });
          const a = await setupClient.applyForCredit({
            customerId: c.customerId, monthlyIncomeFen: 5_000_000n, employment: credit.Employment.SALARIED, ordersLast12m: 50,
            spendLast12mFen: 5_000_000n, accountAgeMonths: 100, returnsLast12m: 0, ageYears: 40, statementDay: 1, idempotencyKey: `bench-${run}`,
          });
          lines[i] = a.creditLine!.creditLineId;
        }
      }),
    );
    console.log(`${lineCount} lines opened in ${((performance.now() - setupStart) / 1000).toFixed(1)} s`);
    const request = (w: number, i: number) => ({
      creditLineId: lines[(w + i) % lines.length]!,
      amountFen: 100n,
      merchantScenario: credit.MerchantScenario.PLATFORM_RETAIL,
      merchantId: "m",
      orderId: `o-${run}-${w}-${i}`,
      idempotencyKey: `k-${run}-${w}-${i}`,
    });
    // warm-up
    await load((w, i) => echoClient.authorizePurchase(request(w, -i - 1)), 1_000);
    await load((w, i) => client.authorizePurchase({ ...request(w, i), idempotencyKey: `warm-${run}-${w}-${i}`, orderId: `warm-${w}-${i}` }), 1_000);
    const e = await load((w, i) => echoClient.authorizePurchase(request(w, i)), seconds * 1000);
    const s = await load((w, i) => client.authorizePurchase(request(w, i)), seconds * 1000);
    const db = await databaseAlone(infra.mongoUri, `credit_bench_raw_${run}`, seconds * 1000);
    console.log(`AuthorizePurchase bench: ${seconds}s per target, ${concurrency} concurrent callers, ${lineCount} lines, database ${infra.kind}`);
    console.log(`echo (same gRPC adapter, trivial handler): ${fmt(e)}`);
    console.log(`credit AuthorizePurchase:                  ${fmt(s)}`);
    console.log(`database alone, an approval's two writes:  ${fmt(db)}`);
    const over = await overspend(infra.mongoUri, `credit_bench_${run}`);
    const ratio = s.rps / e.rps;
    const p99Ratio = s.p99 / e.p99;
    console.log(`overspend check: ${over.lines} lines, ${over.openRecords} OPEN approvals, ${over.overspent} lines over their credit`);
    console.log(`targets: ratio ≥ 0.6, p99_ratio ≤ 2.0, overspend 0 → ${ratio >= 0.6 && p99Ratio <= 2 && over.overspent === 0 ? "MET" : "NOT MET"}`);
    console.log(
      `RESULT authorize rps=${s.rps.toFixed(0)} p99_ms=${s.p99.toFixed(2)} echo_rps=${e.rps.toFixed(0)} echo_p99_ms=${e.p99.toFixed(2)} ratio=${ratio.toFixed(3)} p99_ratio=${p99Ratio.toFixed(2)} overspend=${over.overspent}`,
    );
  } finally {
    client.close();
    setupClient.close();
    echoClient.close();
    await echo.stop();
    await svc.stop();
    await scope.cleanUp([`credit_bench_${run}`, `credit_bench_raw_${run}`]);
    await infra.stop();
  }
}

/**
 * Lines whose holds exceed their credit, read from the database after the run: for each line, the larger of the
 * holds on the document and the OPEN approved authorization records of the line, against limit − posted balance.
 * (Both are counted: a hold without a record, or a record without a hold, would be a bug of its own.)
 */
async function overspend(uri: string, dbName: string): Promise<{ lines: number; openRecords: number; overspent: number }> {
  const mc = new MongoClient(uri);
  try {
    const db = mc.db(dbName);
    const big = (v: unknown) => BigInt(String(v ?? 0));
    const recorded = new Map<string, bigint>();
    let openRecords = 0;
    for await (const a of db.collection("authorizations").find({ decision: "APPROVED", status: "OPEN" }, { projection: { creditLineId: 1, amountFen: 1 } })) {
      openRecords++;
      recorded.set(a.creditLineId, (recorded.get(a.creditLineId) ?? 0n) + big(a.amountFen));
    }
    let lines = 0;
    let overspent = 0;
    for await (const l of db.collection("credit_lines").find({}, { projection: { limitFen: 1, postedBalanceFen: 1, holds: 1, openHoldsFen: 1 } })) {
      lines++;
      const credit = big(l.limitFen) - big(l.postedBalanceFen);
      let onDoc = 0n;
      for (const h of Object.values((l.holds ?? {}) as Record<string, unknown>)) onDoc += big(h);
      const held = [onDoc, big(l.openHoldsFen), recorded.get(String(l._id)) ?? 0n].reduce((a, b) => (a > b ? a : b));
      if (held > credit) overspent++;
    }
    return { lines, openRecords, overspent };
  } finally {
    await mc.close();
  }
}

/** The approve path's writes straight to the database: the ceiling any service on this database has. */
async function databaseAlone(uri: string, dbName: string, durationMs: number): Promise<Result> {
  const mc = new MongoClient(uri, { maxPoolSize: Math.max(concurrency, 10) });
  try {
    const db = mc.db(dbName);
    const lines = db.collection<Document>("credit_lines");
    const auths = db.collection<Document>("authorizations");
    const body = { status: "ACTIVE", restriction: { features: [] }, limitFen: 5_000_000n, availableFen: 5_000_000n, openHoldsFen: 0n, holds: {}, version: 0, filler: "x".repeat(400) };
    await lines.insertMany(Array.from({ length: lineCount }, (_, i) => ({ _id: `l${i}` as never, ...body })));
    return await load(async (w, i) => {
      const id = `a-${w}-${i}`;
      const amount = 100n;
      await lines.findOneAndUpdate(
        { _id: `l${(w + i) % lineCount}` as never, status: "ACTIVE", "restriction.features": { $nin: ["NEW_PURCHASES"] }, availableFen: { $gte: amount }, [`holds.${id}`]: { $exists: false } },
        { $set: { [`holds.${id}`]: amount }, $inc: { availableFen: -amount, openHoldsFen: amount, version: 1 } },
        { returnDocument: "after" },
      );
      await auths.insertOne({ _id: id as never, creditLineId: `l${(w + i) % lineCount}`, amountFen: amount, decision: "APPROVED", status: "OPEN", createdAt: new Date(), expiresAt: new Date() });
    }, durationMs);
  } finally {
    await mc.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
