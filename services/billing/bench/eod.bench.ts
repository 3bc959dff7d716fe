/**
 * bench:eod [book] — end-of-day over a book of N accounts (default 100 000; `pnpm bench:eod 20000`)
 * on the real infrastructure (startInfra), with a realistic mix: 1/28 of the accounts have their
 * statement day today, 1/28 a due date 5 days ahead (DueSoon), 1/28 a due date that passed yesterday
 * unpaid (the due is missed today), ~3 % are already delinquent. Prints the book, the accounts touched,
 * the seconds until every event is published, touched/s, events/s, and the raw ceilings of the same
 * infrastructure measured in the same run (bulk-write docs/s with same-size documents, kafkajs produce
 * msgs/s with same-size messages), the max RSS of this process (billing runs in it), and one line
 * `RESULT eod book=<n> touched=<n> seconds=<s> ratio=<touched/s ÷ raw bulk-write docs/s> rss_mib=<n>`.
 */
import { Topics } from "@whiteslip/contracts";
import { addDays, type LocalDate, ManualClock, zonedInstant } from "@whiteslip/core";
import { benchScope, freshDatabaseName, kafkaClientConfig, kafkaEnv, startInfra } from "@whiteslip/testkit";
import { Kafka, logLevel } from "kafkajs";
import { readdirSync, readFileSync } from "node:fs";
import { markOutboxMigrated } from "@whiteslip/store";
import { MongoClient } from "mongodb";
import { accountsCollection, type MongoAccounts, seedAccounts } from "../src/adapters/mongo-accounts";
import { runEndOfDay } from "../src/app/run-end-of-day";
import { type Account, newAccount, zeroParts } from "../src/domain/account";
import { defaultProduct } from "../src/domain/product";
import { startBilling } from "../src/main";

const N = Number(process.argv[2] ?? 100_000);
const D: LocalDate = "2025-03-10";
const TZ = "Asia/Shanghai";

function account(i: number): Account {
  const a = newAccount({ id: `bench-${String(i).padStart(8, "0")}`, customerId: `cus-${i}`, productCode: "baitiao-standard", statementDay: 1 + (i % 28), creditLimit: 10_000_00n, businessDate: "2024-12-01" });
  a.eodDate = addDays(D, -1);
  a.cycleStart = "2025-02-11";
  a.cyclePurchases = BigInt(100_00 + (i % 500) * 100);
  a.principalDays = a.cyclePurchases * 90n;
  a.purchases.push({ id: `pur-${i}`, authorizationId: `auth-${i}`, amount: a.cyclePurchases, refunded: 0n, months: 0, postedDate: "2025-02-20" });
  const due = (dueDate: LocalDate, missed: boolean) =>
    a.dues.push({ id: `${a.id}:${addDays(dueDate, -29)}`, kind: "statement", dueDate, amountDue: 300_00n, minimumPayment: 300_00n, unpaid: { ...zeroParts(), principal: 300_00n }, missed, lateFeeCharged: missed, rolled: 0n, statement: { statementDate: addDays(dueDate, -29), periodStart: addDays(dueDate, -60), purchases: 300_00n, installmentPrincipal: 0n, installmentFees: 0n, revolving: 0n, feesAndPenalties: 0n, previousBalance: 0n } });
  if (i % 28 === 1) due(addDays(D, 5), false); // DueSoon today
  if (i % 28 === 2) due(addDays(D, -1), false); // due yesterday, unpaid: missed today
  if (i % 33 === 0) {
    due("2025-02-20", true); // 18 DPD
    a.dpd = 17;
    a.bucket = "M1";
    a.delinquencyStartDate = "2025-02-21";
  }
  return a;
}

const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);

/**
 * The CPU seconds (user + system) of this run's FerretDB and Kafka processes: found by the infrastructure's own
 * directory in their command lines (other runs on the machine have theirs), read from /proc/<pid>/stat.
 */
function infraCpu(mongoUri: string): () => Record<string, number> {
  const port = new URL(mongoUri).port;
  const cmd = (pid: string) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
    } catch {
      return "";
    }
  };
  const pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  const ferret = pids.find((p) => cmd(p).includes(`--listen-addr=127.0.0.1:${port}`));
  const dir = ferret ? /(\/tmp\/whiteslip-infra-[^/]+)\//.exec(cmd(ferret))?.[1] : undefined;
  const kafka = dir ? pids.filter((p) => p !== ferret && cmd(p).includes(dir) && cmd(p).includes("java")) : [];
  const seconds = (pid: string) => {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      return (Number(f[11]) + Number(f[12])) / 100; // utime, stime (fields 14, 15) in clock ticks of 1/100 s
    } catch {
      return 0;
    }
  };
  return () => ({ ferretdb: ferret ? seconds(ferret) : Number.NaN, kafka: kafka.reduce((n, p) => n + seconds(p), 0) });
}

async function main() {
  const started = Date.now();
  const infra = await startInfra({ log: () => {} });
  console.log(`infra: ${infra.describe}; N = ${N}`);
  const db = freshDatabaseName("bench_eod");
  // its own topics: the services' events and the raw-produce ceiling never touch the platform's topics
  const scope = benchScope("eod", infra);
  const clock = new ManualClock(zonedInstant(D, 10, 0, TZ));
  const mongo = new MongoClient(infra.mongoUri);
  await mongo.connect();
  // Seed before billing starts (as a book billing has run for a while: nothing for its relay to do), in
  // unordered bulk inserts: each account as steady state has it, with its agenda hint and agenda entry, and
  // the mark of its last end-of-day.
  const t0 = Date.now();
  const SEED_BATCH = 5000;
  for (let i = 0; i < N; i += SEED_BATCH) {
    await seedAccounts(mongo.db(db), Array.from({ length: Math.min(SEED_BATCH, N - i) }, (_, k) => account(i + k)), defaultProduct);
    if (process.env.BENCH_VERBOSE && (i / SEED_BATCH) % 20 === 0) console.error(`seeded ${i + SEED_BATCH} at ${Date.now() - t0} ms`);
  }
  // As a book this version of the relay has run on: its marker index exists and no one-off scan for unmarked
  // events is due (the seeded accounts hold no events). The one-off scan is a first start after the upgrade's cost.
  await markOutboxMigrated(accountsCollection(mongo.db(db)) as never);
  const seedMs = Date.now() - t0;
  console.log(`seeded ${N} accounts in ${seedMs} ms (${rate(N, seedMs)} accounts/s, before billing started; outbox marker index built, book marked migrated)`);
  const svc = await startBilling({ env: { ...kafkaEnv(infra), MONGODB_URI: infra.mongoUri, MONGODB_DB: db, GRPC_PORT: "0", LOG_LEVEL: "warn", CONSUMER_GROUP: `bench-${db}`, TOPIC_PREFIX: scope.topicPrefix, GRPC_PLAINTEXT_DEV: "1" }, clock, hooks: { afterPage: (page) => { if (process.env.BENCH_VERBOSE) console.error(`page ${page} at ${Date.now() - started} ms`); } } });
  try {
    const coll = accountsCollection(mongo.db(db));
    if (process.env.BENCH_RELAY_SWEEP === "off") {
      // Diagnostic only (not billing as deployed): the relay's periodic safety-net scans of the book stopped, to
      // measure what they cost end-of-day; the start-up scan already under way is let finish (or time out).
      const relay = svc.service.relay as unknown as { opts: { sweepIntervalMs?: number }; running?: Promise<unknown> };
      relay.opts.sweepIntervalMs = Number.POSITIVE_INFINITY;
      const t6 = Date.now();
      while (relay.running) await relay.running.catch(() => undefined);
      console.log(`BENCH_RELAY_SWEEP=off: the relay's periodic scans stopped (its start-up scan ended after ${Date.now() - t6} ms)`);
    }
    // The outbox relay's safety net runs during end-of-day as in production (at start, then every 30 s). It reads
    // the documents marked `outbox: "pending"` (an index; on FerretDB ws6 the pushdown serves it, on ws5 the
    // equality still decodes every document). Its sweeps are timed here (calls, ms), for the profile.
    const relayIn = svc.service.relay as unknown as { sweepMarked: (c: unknown) => Promise<number> };
    const sweeps = { n: 0, ms: 0, events: 0 };
    const sweepMarked = relayIn.sweepMarked.bind(relayIn);
    relayIn.sweepMarked = async (c: unknown) => {
      const t = Date.now();
      try {
        const n = await sweepMarked(c);
        sweeps.events += n;
        return n;
      } finally {
        sweeps.n++;
        sweeps.ms += Date.now() - t;
      }
    };
    await svc.deps.businessDates.get(D);

    // Raw ceiling: bulk write of same-size documents.
    const sample = await coll.findOne({ _id: "bench-00000001" });
    const docBytes = JSON.stringify(sample, (_k, v) => (typeof v === "bigint" ? v.toString() : v)).length;
    // Measured just before end-of-day (the machine is shared: the two figures should see the same load).
    // Up to 50 000 documents (not the whole book, which would double the seeding at 1M).
    const raw = mongo.db(db).collection<{ _id: string; eodDate: string; blob: string }>("raw_ceiling");
    const rawN = Math.min(N, 50_000);
    const rawId = (i: number) => `raw-${String(i).padStart(8, "0")}`;
    for (let i = 0; i < rawN; i += 2000)
      await raw.insertMany(Array.from({ length: Math.min(2000, rawN - i) }, (_, k) => ({ _id: rawId(i + k), eodDate: "2025-03-09", blob: "x".repeat(docBytes) })), { ordered: false });
    const t2 = Date.now();
    for (let i = 0; i < rawN; i += 1000)
      await raw.bulkWrite(
        Array.from({ length: Math.min(1000, rawN - i) }, (_, k) => ({ updateOne: { filter: { _id: rawId(i + k), eodDate: { $lt: D } }, update: { $set: { eodDate: D, blob: "y".repeat(docBytes) } } } })),
        { ordered: false },
      );
    const bulkMs = Date.now() - t2;
    const bulkRate = rate(rawN, bulkMs);
    console.log(`raw bulkWrite ceiling: ${rawN} updates of ~${docBytes} B docs in ${bulkMs} ms → ${bulkRate} docs/s`);

    // Where end-of-day's time goes: the repository's calls, timed (summed over the run).
    const phases = new Map<string, { n: number; ms: number }>();
    const acc = svc.deps.accounts as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    for (const m of ["countScheduled", "eodPage", "applyEodPage", "publishPending", "getManyForEod"]) {
      const f = acc[m]!.bind(acc);
      acc[m] = async (...a: unknown[]) => {
        const t = Date.now();
        try {
          return await f(...a);
        } finally {
          const p = phases.get(m) ?? phases.set(m, { n: 0, ms: 0 }).get(m)!;
          p.n++;
          p.ms += Date.now() - t;
        }
      };
    }

    // End-of-day.
    clock.set(zonedInstant(addDays(D, 1), 0, 30, TZ));
    // RSS while end-of-day runs, sampled (the process's max RSS also holds the seeding's peak).
    let rssPeak = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    }, 100);
    // "Published" = on the broker: the high watermarks of the end-of-day topics reach the run's event count. (Not
    // the relay's flush(), whose safety-net scan reads the whole book on FerretDB — the relay's normal path reads
    // the documents the writes announced.)
    const watch = new Kafka({ ...kafkaClientConfig(infra), clientId: "bench-watch", logLevel: logLevel.NOTHING }).admin();
    await watch.connect();
    const eodTopics = [Topics.StatementIssued, Topics.DueSoon, Topics.Overdue, Topics.ChargedOff].map((t) => `${scope.topicPrefix}${t.topic}`);
    const onBroker = async () => {
      let n = 0;
      for (const t of eodTopics) for (const o of await watch.fetchTopicOffsets(t).catch(() => [])) n += Number(o.high);
      return n;
    };
    const before = await onBroker();
    const cpu = infraCpu(infra.mongoUri);
    const cpu0 = cpu();
    const self0 = process.cpuUsage();
    const sweeps0 = { ...sweeps };
    const t1 = Date.now();
    const run = await runEndOfDay(svc.deps, { businessDate: D, shardIndex: 0, shardCount: 1 });
    const eodMs = Date.now() - t1;
    const expected = run.shards.reduce((n, x) => n + x.counts.statementsIssued + x.counts.dueSoon + x.counts.overdue + x.counts.chargedOff, 0);
    while ((await onBroker()) - before < expected) await new Promise((r) => setTimeout(r, 100));
    const allMs = Date.now() - t1;
    const selfCpu = process.cpuUsage(self0);
    const cpu1 = cpu();
    await watch.disconnect();
    clearInterval(sampler);
    const rssMib = Math.round(Math.max(rssPeak, process.memoryUsage().rss) / 2 ** 20);
    const s = run.shards[0]!;
    const touched = s.processed;
    const events = s.counts.statementsIssued + s.counts.dueSoon + s.counts.overdue + s.counts.chargedOff;
    console.log(`book: ${N} accounts; touched: ${touched} (${((touched / N) * 100).toFixed(1)} %)`);
    console.log(`end-of-day ${D}: ${touched} accounts in ${eodMs} ms; every event published at ${allMs} ms → ${rate(touched, allMs)} touched/s`);
    console.log(`  events: ${events} (statements ${s.counts.statementsIssued}, DueSoon ${s.counts.dueSoon}, Overdue ${s.counts.overdue}, late fees ${s.counts.lateFees}) → ${rate(events, allMs)} events/s end to end`);
    console.log(`  where the time went (calls, total ms): ${[...phases].map(([m, p]) => `${m} ${p.n}× ${p.ms}`).join(", ")}; page writes (ms): ${JSON.stringify((svc.deps.accounts as MongoAccounts).pageWriteMs)}`);
    const share = (s: number) => `${s.toFixed(1)} s (${((s / (allMs / 1000)) * 100).toFixed(0)} % of one core)`;
    console.log(
      `  CPU during end-of-day (${(allMs / 1000).toFixed(1)} s wall, 2 cores): billing ${share((selfCpu.user + selfCpu.system) / 1e6)}, FerretDB ${share(cpu1.ferretdb! - cpu0.ferretdb!)}, Kafka ${share(cpu1.kafka! - cpu0.kafka!)}; load average ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`,
    );
    console.log(`  relay sweeps during end-of-day: ${sweeps.n - sweeps0.n}× ${sweeps.ms - sweeps0.ms} ms, ${sweeps.events - sweeps0.events} events found by them`);
    console.log(`  RSS during end-of-day (billing runs in this process): max ${rssMib} MiB; max RSS of the whole process, seeding included: ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`);

    // Raw ceiling: kafkajs produce of same-size messages.
    const kafka = new Kafka({ ...kafkaClientConfig(infra), clientId: "bench", logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const topic = scope.topic("raw-produce");
    const kafkaAdmin = kafka.admin();
    await kafkaAdmin.connect();
    await kafkaAdmin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    await kafkaAdmin.disconnect();
    const msgs = Math.max(events, 10_000);
    const value = Buffer.alloc(260, 1);
    const t3 = Date.now();
    for (let i = 0; i < msgs; i += 500)
      await producer.send({ topic, acks: -1, messages: Array.from({ length: Math.min(500, msgs - i) }, (_, k) => ({ key: `raw-${i + k}`, value, headers: { ce_id: `raw-${i + k}`, ce_type: "bench.Raw" } })) });
    const prodMs = Date.now() - t3;
    await producer.disconnect();
    const prodRate = rate(msgs, prodMs);
    console.log(`raw produce ceiling: ${msgs} msgs of ~260 B in ${prodMs} ms → ${prodRate} msgs/s`);
    const ratio = allMs > 0 ? touched / (allMs / 1000) / bulkRate : 0;
    console.log(`ratios: touched/s ÷ bulkWrite docs/s = ${ratio.toFixed(2)}; events/s ÷ produce msgs/s = ${(rate(events, allMs) / prodRate).toFixed(2)}`);
    console.log(`RESULT eod book=${N} touched=${touched} seconds=${(allMs / 1000).toFixed(1)} ratio=${ratio.toFixed(2)} rss_mib=${rssMib}`);
  } finally {
    await mongo.close();
    await svc.stop();
    await scope.cleanUp([db]);
    await infra.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
