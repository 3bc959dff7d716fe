/**
 * bench:notify — notification's consumption and dispatch of a due wave (default 40,000 DueSoon and Overdue
 * events, a 1,000,000-account book's day; `pnpm bench:notify 10000`) on the real infrastructure: the local broker
 * and database (startInfra), the platform's SMTP and HTTP provider sandboxes, and notification as its own process
 * (its max RSS is its own).
 *
 * 1. Customers seeded in notification's database (contact points encrypted with the service's keyring): one
 *    account per customer, except that every fourth customer of the first 10 % holds four accounts (caps bite),
 *    10 % opted out of reminder SMS (preferences), 5 % live in Europe/London. The platform clock (CLOCK_FILE) is
 *    01:00 in Asia/Shanghai on the day after D, as when end-of-day has just published D's facts.
 * 2. The wave is published as fast as kafkajs takes it while notification runs, each event stamped with the time
 *    it was handed to the producer; notification plans (decides) and stores every message — deferred to 08:00 by
 *    the quiet hours. Consumption: events ÷ (last fact decided − first event time); decision lag per fact: when its
 *    messages were stored and scheduled (its processed marker's `processedAt`, the messages' `createdAt`) − its
 *    event time (p50/p99). The markers are read by `_id`, as every read of the bench's own is (no scans).
 * 3. The clock moves to 08:00: the wave is due. Dispatch until the due queue is empty (or DISPATCH_WINDOW_S,
 *    default 600 s): deliveries at the sinks ÷ that time; the busiest second per channel against its rate limit. London's
 *    (17:00 there when the wave arrives) are due at once.
 * 4. Raw consume: a plain kafkajs consumer (new group, eachBatch, nothing done per message) reads the same topics
 *    from the beginning in the same run.
 * 5. Rules: no send inside the recipient's quiet hours, no customer over the daily cap, no reminder SMS to a customer
 *    who opted out — checked on what reached the sinks and on the stored messages.
 *
 * 6. The database alone: 10,000 message-shaped documents inserted unordered, 1,000 per command (docs/s), set against the
 *    documents the consumer writes per fact — the ceiling the store puts on consumption here.
 *
 * Ends with `RESULT notify events=<n> seconds=<s> ratio=<consumed/s ÷ raw consume msgs/s> lag_p99_ms=<n> rss_mib=<n>`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { EventBus, encodeEvent, type OutgoingEvent } from "@whiteslip/bus";
import { billing, Topics } from "@whiteslip/contracts";
import { addDays, dateInZone, zonedInstant } from "@whiteslip/core";
import { generateKeyring, PiiCipher } from "@whiteslip/pii";
import { type SandboxMessage, serviceCommand, startProviderSandbox } from "@whiteslip/platform";
import { setFileClock } from "@whiteslip/runtime";
import { benchScope, freshDatabaseName, kafkaClientConfig, kafkaEnv, kafkaSasl, startInfra } from "@whiteslip/testkit";
import { Kafka, logLevel } from "kafkajs";
import { MongoClient } from "mongodb";
import { findByIds } from "../src/adapters/by-id";
import { MongoMessageRepository } from "../src/adapters/mongo-repositories";

const N = Number(process.argv[2] ?? 40_000);
const ROOT = resolve(import.meta.dirname, "../../..");
const TZ = "Asia/Shanghai";
const D = "2027-03-10";
/** Provider rate limits the dispatcher must stay within (per second, per channel). */
const RATE = { SMS: 400, EMAIL: 200 } as const;
/** Low, so that the customers with several overdue accounts meet it inside the wave (dispatched concurrently). */
const CAP_PER_DAY = 1;
/** End-of-day has just closed D: the wave arrives at 01:00 of D+1, inside the quiet hours (21:00–08:00). */
const START = zonedInstant(addDays(D, 1), 1, 0, TZ);
/** The quiet hours end: the wave is due. */
const WINDOW_OPENS = zonedInstant(addDays(D, 1), 8, 0, TZ);

let childRef: ChildProcess | undefined;
const rate = (n: number, ms: number) => (ms > 0 ? (n / ms) * 1000 : 0);
const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

/** The wave's shape: who gets which fact. */
function customerOf(i: number): string {
  return i < N / 10 ? `bench-c-${Math.floor(i / 4)}` : `bench-c-${i}`;
}
const optedOut = (c: number) => c % 10 === 3;
const inLondon = (c: number) => c % 20 === 7;

async function main() {
  const infra = await startInfra({ log: () => {} });
  const sandbox = await startProviderSandbox();
  const scope = benchScope("notify", infra);
  const db = freshDatabaseName("bench_notify");
  const group = `bench-${db}`;
  const tmp = mkdtempSync(join(tmpdir(), "bench-notify-"));
  const clockFile = join(tmp, "clock.json");
  setFileClock(clockFile, START);
  const offsetMs = () => (JSON.parse(readFileSync(clockFile, "utf8")) as { offsetMs: number }).offsetMs;
  const platformNow = () => new Date(Date.now() + offsetMs());
  const keyring = generateKeyring();
  // stopped from outside: take notification down with the bench (the infra stops itself)
  for (const sig of ["SIGINT", "SIGTERM"] as const)
    process.once(sig, () => {
      childRef?.kill("SIGKILL");
      process.exit(130);
    });
  console.log(`infra: ${infra.describe}; events = ${N}`);

  const mongo = new MongoClient(infra.mongoUri);
  await mongo.connect();
  const ndb = mongo.db(db);
  let child: ChildProcess | undefined;
  let bus: EventBus | undefined;
  try {
    // 1. customers
    const cipher = new PiiCipher(keyring);
    const customers = new Set<string>();
    for (let i = 0; i < N; i++) customers.add(customerOf(i));
    const docs = [...customers].map((id) => {
      const c = Number(id.slice("bench-c-".length));
      return {
        _id: id,
        phone: cipher.encrypt(`+86138${String(c).padStart(8, "0")}`),
        email: cipher.encrypt(`c${c}@bench.example`),
        pushToken: null,
        displayName: null,
        timeZone: inLondon(c) ? "Europe/London" : TZ,
        locale: "en",
        preferences: optedOut(c) ? { REMINDER: ["EMAIL", "IN_APP"] } : {},
        quietHoursConsent: false,
        updatedAt: START,
      };
    });
    const t0 = Date.now();
    for (let k = 0; k < docs.length; k += 2000) await ndb.collection("customers").insertMany(docs.slice(k, k + 2000) as never[], { ordered: false });
    console.log(`seeded ${docs.length} customers in ${Date.now() - t0} ms`);

    // 2. notification as a process
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      ...kafkaEnv(infra),
      ...sandbox.env(),
      MONGODB_URI: infra.mongoUri,
      MONGODB_DB: db,
      TOPIC_PREFIX: scope.topicPrefix,
      CONSUMER_GROUP: group,
      KAFKA_CLIENT_ID: group,
      GRPC_PORT: "0",
      GRPC_HOST: "127.0.0.1",
      GRPC_PLAINTEXT_DEV: "1",
      LOG_LEVEL: "warn",
      PII_KEYRING: JSON.stringify(keyring),
      PII_REENCRYPT: "off",
      CLOCK_FILE: clockFile,
      CAP_PER_DAY: String(CAP_PER_DAY),
      SMS_RATE_PER_S: String(RATE.SMS),
      EMAIL_RATE_PER_S: String(RATE.EMAIL),
      DISPATCH_INTERVAL_MS: "1000",
      DISPATCH_BATCH_SIZE: "2000",
      DISPATCH_CONCURRENCY: "32",
    };
    // as it runs in the image and in the local run: the compiled bundle with the telemetry preload (docs/build.md);
    // BENCH_RUN_TS=1 runs the TypeScript through tsx instead
    const command = await serviceCommand("notification", process.env.BENCH_RUN_TS === "1" ? "tsx" : "dist");
    // BENCH_NODE_ARGS: extra node flags for notification only (e.g. "--cpu-prof --cpu-prof-dir=/tmp/p", "--heapsnapshot-signal=SIGUSR2")
    const nodeArgs = (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter((a) => a !== "");
    child = childRef = spawn(process.execPath, [...nodeArgs, ...command], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    const keep = (b: Buffer) => {
      log = (log + b.toString()).slice(-20_000);
    };
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    const kafka = new Kafka({ ...kafkaClientConfig(infra), clientId: "bench-notify", logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    // started: its consumer group has a member (it joins during start-up)
    for (;;) {
      const g = (await admin.describeGroups([group])).groups[0];
      if (g?.state === "Stable" && g.members.length > 0) break;
      if (child.exitCode !== null) throw new Error(`notification exited (${child.exitCode}) before it started:\n${log}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    console.log(`notification started (pid ${child.pid}), consumer group ${group} stable`);

    // 3. the wave
    const sasl = kafkaSasl(infra);
    bus = await EventBus.connect({
      brokers: infra.kafkaBrokers,
      ...(sasl ? { sasl } : {}),
      clientId: "bench-notify-producer",
      topicPrefix: scope.topicPrefix,
      logger: { info() {}, warn() {}, error() {}, debug() {} } as never,
    });
    const event = (i: number, time: Date): OutgoingEvent => {
      const accountId = `bench-a-${String(i).padStart(7, "0")}`;
      const customerId = customerOf(i);
      if (i % 2 === 0)
        return encodeEvent(Topics.DueSoon, {
          id: `bench-ds-${i}`,
          key: accountId,
          time,
          data: { accountId, customerId, statementId: `st-${i}`, dueDate: addDays(D, 5), daysUntilDue: 5, amountDueFen: 50_000n + BigInt(i), minimumPaymentFen: 5_000n, businessDate: D },
        });
      return encodeEvent(Topics.Overdue, {
        id: `bench-od-${i}`,
        key: accountId,
        time,
        data: { accountId, customerId, businessDate: D, daysPastDue: [1, 3, 7, 14][i % 4]!, bucket: billing.DelinquencyBucket.M1, overdueFen: 30_000n, totalBalanceFen: 90_000n },
      });
    };
    const firstEventAt = platformNow();
    const tp = Date.now();
    /** Event time of each batch of 1,000 (what the decision lag is measured from). */
    const eventTimes: Date[] = [];
    for (let k = 0; k < N; k += 1000) {
      const time = platformNow();
      eventTimes.push(time);
      await bus.publish(Array.from({ length: Math.min(1000, N - k) }, (_, j) => event(k + j, time)));
    }
    const produceMs = Date.now() - tp;
    console.log(`published ${N} events in ${produceMs} ms (${Math.round(rate(N, produceMs))} events/s)`);

    // 4. consumption: every fact decided
    const facts = ndb.collection<{ _id: string; processedAt: Date }>("facts");
    const deadline = Date.now() + 900_000;
    for (;;) {
      // the count command (no filter): a filtered count is a scan of the collection on FerretDB/SQLite
      const n = await facts.estimatedDocumentCount();
      if (n >= N) break;
      if (Date.now() > deadline) throw new Error(`only ${n} of ${N} facts decided after 900 s`);
      if (child.exitCode !== null) throw new Error(`notification exited:\n${log}`);
      await new Promise((r) => setTimeout(r, 1_000));
    }
    // every marker read by its _id (the bench's own reads are no scans either): when each fact was decided
    const tr = Date.now();
    const eventIds = Array.from({ length: N }, (_, i) => (i % 2 === 0 ? `bench-ds-${i}` : `bench-od-${i}`));
    const markers = await findByIds(facts as never, eventIds);
    const markerOf = new Map(markers.map((m) => [String(m._id), m as unknown as { processedAt: Date; messageIds: string[] }]));
    const lags: number[] = [];
    let lastDecided = 0;
    for (const [i, id] of eventIds.entries()) {
      const m = markerOf.get(id);
      if (!m) throw new Error(`fact ${id} has no marker`);
      lags.push(m.processedAt.getTime() - eventTimes[Math.floor(i / 1000)]!.getTime());
      lastDecided = Math.max(lastDecided, m.processedAt.getTime());
    }
    const consumedMs = lastDecided - firstEventAt.getTime();
    const consumedRate = rate(N, consumedMs);
    console.log(`consumed: ${N} facts decided ${consumedMs} ms after the first event → ${Math.round(consumedRate)} events/s`);
    const messageIds = markers.flatMap((m) => (m as unknown as { messageIds: string[] }).messageIds);
    const lagP50 = pct(lags, 50);
    const lagP99 = pct(lags, 99);
    console.log(`decision lag (event time → its messages stored, scheduled) over ${lags.length} facts / ${messageIds.length} messages: p50 ${lagP50} ms, p99 ${lagP99} ms (markers read by _id in ${Date.now() - tr} ms)`);

    // 5. the quiet hours end: the wave is due; dispatch measured over a window. On FerretDB/SQLite every query but
    // one by _id scans its collection, so each round's due query costs a scan of all messages (README, "Performance")
    // London's (17:00 there at 01:00 in Shanghai) may go at once; the quiet-hours check below is per recipient's zone.
    // Before the clock jumps, the messages due before 08:00 are let go: one decided at 17:59 in London and still on
    // its way to the sink when the clock moved seven hours would read as sent at 00:xx there (the jump is the
    // bench's, a real clock does not leap). Waits until the due queue's begun minutes are empty (or 120 s).
    const queue = new MongoMessageRepository(ndb);
    const drainUntil = Date.now() + 120_000;
    let dueEarly = await queue.countDue(platformNow());
    while (dueEarly > 0 && Date.now() < drainUntil) {
      if (child.exitCode !== null) throw new Error(`notification exited:\n${log}`);
      await new Promise((r) => setTimeout(r, 1_000));
      dueEarly = await queue.countDue(platformNow());
    }
    if (dueEarly > 0) console.log(`(${dueEarly} messages still due before 08:00 after 120 s; the clock moves anyway)`);
    await new Promise((r) => setTimeout(r, 2_000)); // the last round's records and their stale entries
    const before = sandbox.messages.length;
    if (before > 0) console.log(`(${before} messages reached the sinks before 08:00 in Shanghai)`);
    const offsetBefore = offsetMs();
    const jumpedAt = Date.now();
    setFileClock(clockFile, WINDOW_OPENS);
    const offsetAfter = offsetMs();
    /** The platform clock when a sink took a message (the clock moved to 08:00 at `jumpedAt`). */
    const platformAt = (real: Date) => new Date(real.getTime() + (real.getTime() < jumpedAt ? offsetBefore : offsetAfter));
    // until the dispatcher's backlog (the due queue, read as GetNotificationStats' due_now does) is empty, or the window ends
    const windowMs = Number(process.env.DISPATCH_WINDOW_S ?? 600) * 1000;
    const opened = Date.now();
    let left = -1;
    while (Date.now() - opened < windowMs) {
      if (child.exitCode !== null) throw new Error(`notification exited:\n${log}`);
      await new Promise((r) => setTimeout(r, 5_000));
      left = await queue.countDue(platformNow());
      if (left === 0) break;
    }
    const spanMs = Date.now() - opened;
    const sent = [...sandbox.messages];
    const perSecond = (ch: SandboxMessage["channel"]) => {
      const buckets = new Map<number, number>();
      for (const m of sent) if (m.channel === ch) buckets.set(Math.floor(m.receivedAt.getTime() / 1000), (buckets.get(Math.floor(m.receivedAt.getTime() / 1000)) ?? 0) + 1);
      return Math.max(0, ...buckets.values());
    };
    const rss = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
    console.log(`dispatch from 08:00: ${sent.length} messages at the sinks in ${(spanMs / 1000).toFixed(0)} s (${left === 0 ? "backlog empty" : `window ended, ${left} still due`}) → ${Math.round(rate(sent.length, spanMs))} sends/s; busiest second SMS ${perSecond("SMS")} (limit ${RATE.SMS}), email ${perSecond("EMAIL")} (limit ${RATE.EMAIL})`);

    // 6. the rules held
    const failures: string[] = [];
    // every stored message read by its _id (ids from the markers)
    const tm = Date.now();
    const stored = await findByIds(ndb.collection<{ _id: string; status?: string }>("messages"), messageIds, { status: 1, customerId: 1, category: 1, channel: 1, capDay: 1 });
    const byId = new Map(stored.map((m) => [String(m._id), m as unknown as { status: string; customerId: string; category: string; channel: string; capDay?: string | null }]));
    const counted = (m: { category: string; channel: string }) => (m.category === "COLLECTION" || m.category === "LEGAL") && m.channel !== "IN_APP";
    const perCustomerDay = new Map<string, number>();
    for (const m of sent) {
      const st = m.messageId ? byId.get(m.messageId) : undefined;
      if (!st) {
        failures.push(`a ${m.channel} at the sink that notification did not store (${m.messageId})`);
        continue;
      }
      const c = Number(String(st.customerId).slice("bench-c-".length));
      const zone = inLondon(c) ? "Europe/London" : TZ;
      const at = platformAt(m.receivedAt);
      const local = Number(new Intl.DateTimeFormat("en-GB", { hour: "2-digit", hourCycle: "h23", timeZone: zone }).format(at));
      if (local < 8 || local >= 21) failures.push(`${m.channel} ${m.messageId} sent at ${local}:xx local in ${zone} (quiet hours)`);
      if (optedOut(c) && m.channel === "SMS" && st.category === "REMINDER") failures.push(`reminder SMS ${m.messageId} to a customer who opted out`);
      if (counted(st)) {
        const key = `${st.customerId} ${dateInZone(at, zone)}`;
        perCustomerDay.set(key, (perCustomerDay.get(key) ?? 0) + 1);
      }
    }
    const overCap = [...perCustomerDay].filter(([, n]) => n > CAP_PER_DAY);
    if (overCap.length > 0) failures.push(`${overCap.length} customer-days over the cap of ${CAP_PER_DAY} at the sinks, e.g. ${overCap[0]![0]}: ${overCap[0]![1]}`);
    if (perSecond("SMS") > RATE.SMS * 1.05) failures.push(`SMS above its rate limit: ${perSecond("SMS")} in one second`);
    if (perSecond("EMAIL") > RATE.EMAIL * 1.05) failures.push(`email above its rate limit: ${perSecond("EMAIL")} in one second`);
    const londonSent = sent.filter((m) => {
      const st = m.messageId ? byId.get(m.messageId) : undefined;
      return st && inLondon(Number(String(st.customerId).slice("bench-c-".length)));
    }).length;
    const byStatus = new Map<string, number>();
    for (const m of stored) byStatus.set(String(m.status), (byStatus.get(String(m.status)) ?? 0) + 1);
    console.log(`messages by status at the end (${stored.length} read by _id in ${Date.now() - tm} ms): ${[...byStatus].map(([st, n]) => `${st} ${n}`).join(", ")}; London's at the sinks: ${londonSent}`);
    console.log(failures.length === 0 ? "rules: quiet hours, caps, preferences and rate limits held for every message" : `RULES BROKEN (${failures.length}):\n  ${failures.slice(0, 20).join("\n  ")}`);

    // 7. raw consume of the same messages
    const raw = kafka.consumer({ groupId: `${group}-raw`, maxWaitTimeInMs: 250 });
    await raw.connect();
    await raw.subscribe({ topics: [Topics.DueSoon.topic, Topics.Overdue.topic].map((t) => `${scope.topicPrefix}${t}`), fromBeginning: true });
    let seen = 0;
    let firstAt = 0;
    let lastAt = 0;
    await new Promise<void>((ok) => {
      void raw.run({
        eachBatchAutoResolve: true,
        eachBatch: async ({ batch }) => {
          if (firstAt === 0) firstAt = Date.now();
          seen += batch.messages.length;
          lastAt = Date.now();
          if (seen >= N) ok();
        },
      });
    });
    await raw.disconnect();
    const rawMs = lastAt - firstAt;
    const rawRate = rate(N, rawMs);
    console.log(`raw kafkajs consume: ${seen} messages in ${rawMs} ms (first batch → last) → ${Math.round(rawRate)} msgs/s`);
    const ratio = consumedRate / rawRate;

    // 8. what the database alone takes in this run: unordered inserts of message-shaped documents (a stored one,
    // fresh _ids), 1,000 per command, into a scratch collection — against the documents the consumer writes per fact
    // (each message and its due entry, the fact's marker, an overdue fact's account notice)
    const [sample] = await findByIds(ndb.collection<{ _id: string }>("messages"), messageIds.slice(0, 1));
    const scratch = ndb.collection<{ _id: string }>("bench_raw_insert");
    const RAW_DOCS = 10_000;
    const ti = Date.now();
    for (let k = 0; k < RAW_DOCS; k += 1000)
      await scratch.insertMany(Array.from({ length: 1000 }, (_, j) => ({ ...sample!, _id: `raw-${k + j}` })), { ordered: false });
    const insertRate = rate(RAW_DOCS, Date.now() - ti);
    // message documents per fact; the due entries, markers and account notices are small documents on top
    const perFact = messageIds.length / N;
    console.log(`raw insert (database alone): ${RAW_DOCS} message documents in ${Date.now() - ti} ms → ${Math.round(insertRate)} docs/s; the consumer writes ${perFact.toFixed(2)} message documents per fact (and ≈ ${(perFact + 1.5).toFixed(1)} small ones: due entries, marker, account notice) → the message inserts alone allow ≈ ${Math.round(insertRate / perFact)} facts/s (ratio ≤ ${(insertRate / perFact / rawRate).toFixed(2)})`);
    console.log(`max RSS of notification: ${rss.toFixed(0)} MiB`);
    console.log(`RESULT notify events=${N} seconds=${(consumedMs / 1000).toFixed(1)} ratio=${ratio.toFixed(2)} lag_p99_ms=${lagP99} rss_mib=${Math.round(rss)}`);
    await admin.disconnect();
    if (failures.length > 0) process.exitCode = 1;
  } finally {
    if (child && child.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise((r) => child!.once("exit", r));
    }
    await bus?.close();
    await mongo.close();
    await sandbox.stop();
    await scope.cleanUp([db]);
    await infra.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
