/**
 * Reading a test platform from outside: its effects (from the services' databases, the topics
 * and the provider sandboxes) and the barrier that says the platform has finished reacting to
 * a script (every outbox empty, every consumer group caught up, no notification due).
 */
import { readFileSync } from "node:fs";
import type { TestPlatform } from "@whiteslip/platform";
import type { KafkaEndpoints } from "@whiteslip/testkit";
import { AssignerProtocol, type Kafka } from "kafkajs";
import { type Document, MongoClient } from "mongodb";
import { count, type Effects, emptyEffects } from "./effects";
import { faultKafka } from "./kafka";

/** Broker and database of the platform. */
export interface Endpoints extends KafkaEndpoints {
  mongoUri: string;
}

/** What was seen besides the effects: why effects may be missing. */
export interface Observation {
  effects: Effects;
  /** `<topic> <ce_id>` of every dead-lettered message. */
  deadLetters: string[];
  /** Copies of an event on a topic beyond the first (same ce_id; consumers deduplicate them). */
  republished: number;
}

const sum = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n);
const big = (v: unknown): bigint => (typeof v === "bigint" ? v : BigInt(String(v ?? 0)));

function kafka(at: KafkaEndpoints): Kafka {
  return faultKafka(at, "fault-suite", { retry: { retries: 3 } });
}

/** Topics of this platform (its TOPIC_PREFIX), dead-letter topics apart. */
async function platformTopics(k: Kafka, prefix: string): Promise<{ topics: string[]; dlq: string[] }> {
  const admin = k.admin();
  await admin.connect();
  try {
    const all = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    return { topics: all.filter((t) => !t.endsWith(".dlq")), dlq: all.filter((t) => t.endsWith(".dlq")) };
  } finally {
    await admin.disconnect();
  }
}

/** Every message of `topics` up to their current end, as (topic, ce_id). */
async function readTopics(k: Kafka, topics: string[]): Promise<{ topic: string; ceId: string; key: string }[]> {
  if (topics.length === 0) return [];
  const admin = k.admin();
  await admin.connect();
  const ends = new Map<string, number>();
  try {
    for (const t of topics) for (const p of await admin.fetchTopicOffsets(t)) if (Number(p.high) > Number(p.low)) ends.set(`${t}/${p.partition}`, Number(p.high));
  } finally {
    await admin.disconnect();
  }
  if (ends.size === 0) return [];
  const out: { topic: string; ceId: string; key: string }[] = [];
  const consumer = k.consumer({ groupId: `fault-suite-reader-${process.pid}-${Date.now()}`, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    const left = new Set(ends.keys());
    await new Promise<void>((resolve, reject) => {
      // generous: joining a fresh group and fetching every partition took over a minute at a load average of 100
      const timer = setTimeout(() => reject(new Error(`reading topics: ${left.size} partitions not read to their end in 180 s`)), 180_000);
      consumer
        .run({
          eachBatchAutoResolve: true,
          eachBatch: async ({ batch }) => {
            for (const m of batch.messages) out.push({ topic: batch.topic, key: m.key?.toString() ?? "", ceId: m.headers?.ce_id?.toString() ?? `(no ce_id, offset ${m.offset})` });
            const id = `${batch.topic}/${batch.partition}`;
            const end = ends.get(id);
            const last = batch.messages.at(-1);
            if (end !== undefined && last && Number(last.offset) + 1 >= end) left.delete(id);
            if (left.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return out;
}

/**
 * The effects of the script on `p`, read after `settle`. Ids a run draws at random (credit's customer ids,
 * and what derives from them: lines, authorizations, their events' ids) are written as the script's labels
 * for them (`labels`: id → label), so two runs of one script compare; an event about a labelled entity is
 * keyed by topic, label and its rank among that entity's distinct ce_ids.
 */
export async function observe(p: TestPlatform, at: Endpoints, labels: ReadonlyMap<string, string> = new Map(), injected: ReadonlySet<string> = new Set()): Promise<Observation> {
  const raw = emptyEffects();
  const mongo = new MongoClient(at.mongoUri);
  await mongo.connect();
  try {
    const db = (s: keyof TestPlatform["databases"]) => mongo.db(p.databases[s]);
    // ledger: billing's accounts — what was posted, billed and charged, and what is owed
    for (const a of await db("billing").collection("accounts").find({}, { useBigInt64: true }).toArray()) {
      const id = String(a._id);
      count(raw, "ledger", `closed-through ${id} ${a.eodDate}`);
      for (const x of (a.purchases ?? []) as Document[]) count(raw, "ledger", `purchase ${id} ${x.id} ${big(x.amount)}`);
      for (const d of (a.dues ?? []) as Document[]) {
        count(raw, "ledger", `due ${id} ${d.id} ${big(d.amountDue)}`);
        if (d.lateFeeCharged) count(raw, "ledger", `late-fee ${id} ${d.id}`);
      }
      for (const k of (a.processedKeys ?? []) as Document[]) if (k.op !== "purchase") count(raw, "ledger", `${k.op} ${id} ${k.key}`);
      const owed = sum(((a.dues ?? []) as Document[]).filter((d) => d.settledDate === undefined).map((d) => sum(Object.values(d.unpaid ?? {}).map(big))));
      count(raw, "ledger", `owed ${id} ${owed} credit-balance ${big(a.creditBalance)}`);
    }
    // cases: collections
    for (const c of await db("collections").collection("cases").find({}, { projection: { accountId: 1, status: 1 } }).toArray())
      count(raw, "cases", `case ${c.accountId} ${c.status}`);
    // score changes: credit-reporting's score history
    for (const a of await db("credit-reporting").collection("accounts").find({}, { projection: { "state.history": 1 } }).toArray())
      for (const h of ((a.state as Document | undefined)?.history ?? []) as Document[]) count(raw, "scores", `score ${a._id} ${h.changeId} ${h.previousScore}→${h.score}`);
    // authorizations: credit's authorization records and the holds on the lines
    for (const x of await db("credit").collection("authorizations").find({}).toArray()) count(raw, "authorizations", `authorization ${x._id} ${x.decision ?? ""} ${x.status ?? ""}`);
    for (const l of await db("credit").collection("credit_lines").find({}).toArray()) {
      for (const h of Object.keys((l.holds ?? {}) as Document)) count(raw, "authorizations", `hold ${l._id} ${h}`);
      count(raw, "authorizations", `line ${l._id} holds ${String(l.openHoldsFen)} posted ${String(l.postedBalanceFen)}`);
    }
  } finally {
    await mongo.close();
  }
  // messages at the SMTP and HTTP sinks
  for (const m of p.sandbox.messages) count(raw, "messages", `${m.channel} ${m.to} ${m.subject ?? m.text.slice(0, 60).replace(/\s+/g, " ")}`);
  const ids = [...labels.keys()].filter((id) => id.length >= 8);
  const norm = (key: string) => {
    if (ids.length === 0) return key;
    let out = key;
    for (const id of ids) if (out.includes(id)) out = out.split(id).join(`<${labels.get(id)}>`);
    return out;
  };
  const e = emptyEffects();
  for (const kind of Object.keys(raw) as (keyof Effects)[]) for (const [key, n] of raw[kind]) count(e, kind, norm(key), n);
  // events on the platform's topics, by ce_id
  const k = kafka(at);
  const { topics, dlq } = await platformTopics(k, p.topicPrefix);
  const seen = new Set<string>();
  const rank = new Map<string, number>();
  let republished = 0;
  for (const m of await readTopics(k, topics)) {
    if (injected.has(m.ceId)) continue;
    const topic = m.topic.slice(p.topicPrefix.length);
    const id = `${topic} ${m.ceId}`;
    if (seen.has(id)) {
      republished++;
      continue;
    }
    seen.add(id);
    const label = labels.get(m.key);
    if (label === undefined) count(e, "events", id);
    else {
      const entity = `${topic} <${label}>`;
      const n = (rank.get(entity) ?? 0) + 1;
      rank.set(entity, n);
      count(e, "events", `${entity} #${n}`);
    }
  }
  const deadLetters = (await readTopics(k, dlq)).map((m) => `${m.topic.slice(p.topicPrefix.length)} ${m.ceId}`);
  return { effects: e, deadLetters, republished };
}

/** The platform's clock (its CLOCK_FILE), now. */
export function platformNow(p: TestPlatform): Date {
  const { offsetMs } = JSON.parse(readFileSync(p.clockFile, "utf8")) as { offsetMs: number };
  return new Date(Date.now() + offsetMs);
}

/**
 * One look at whether the platform is still working; null when idle, else what is still going on. The broker is
 * asked first and the databases only when it finds nothing going on: the outbox counts scan every document of the
 * services' collections, and on the 2-core machine polling them while the platform works slows the platform itself.
 */
async function busy(p: TestPlatform, k: Kafka, mongo: MongoClient): Promise<{ why: string | null; ends: number }> {
  // 1. every service's consumer group has members and has committed up to the end of what it is assigned
  const admin = k.admin();
  await admin.connect();
  let ends = 0;
  try {
    const { topics } = await platformTopics(k, p.topicPrefix);
    const highs = new Map<string, number>();
    for (const t of topics)
      for (const o of await admin.fetchTopicOffsets(t)) {
        highs.set(`${t}/${o.partition}`, Number(o.high));
        ends += Number(o.high);
      }
    const groups = await admin.describeGroups(Object.values(p.groups));
    for (const g of groups.groups) {
      if (g.state !== "Stable" || g.members.length === 0) return { why: `consumer group ${g.groupId} is ${g.state} with ${g.members.length} members`, ends };
      const assigned: Record<string, number[]> = {};
      for (const m of g.members) {
        const a = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
        for (const [t, parts] of Object.entries(a?.assignment ?? {})) (assigned[t] ??= []).push(...parts);
      }
      const committed = await admin.fetchOffsets({ groupId: g.groupId, topics: Object.keys(assigned) });
      for (const t of committed)
        for (const part of t.partitions) {
          const high = highs.get(`${t.topic}/${part.partition}`) ?? 0;
          const at = Number(part.offset);
          if (high > 0 && (at < 0 ? 0 : at) < high) return { why: `consumer group ${g.groupId} is behind on ${t.topic.slice(p.topicPrefix.length)}/${part.partition} (${at} of ${high})`, ends };
        }
    }
  } finally {
    await admin.disconnect();
  }
  // 2. notification: nothing due to be sent, nothing being sent
  const now = platformNow(p);
  const due = await mongo
    .db(p.databases.notification)
    .collection("messages")
    .countDocuments({ $or: [{ status: "SENDING" }, { status: { $in: ["SCHEDULED", "HELD"] }, scheduledAt: { $lte: now } }] });
  if (due > 0) return { why: `notification: ${due} messages due or being sent`, ends };
  // 3. outboxes: no committed event waits for its relay
  for (const [service, name] of Object.entries(p.databases)) {
    const db = mongo.db(name);
    for (const c of await db.listCollections({}, { nameOnly: true }).toArray()) {
      const n = await db.collection(c.name).countDocuments({ "pendingEvents.0": { $exists: true } });
      if (n > 0) return { why: `${service}: ${n} documents of ${c.name} hold unpublished events`, ends };
    }
  }
  return { why: null, ends };
}

/**
 * Waits until the platform has finished reacting: two looks in a row find every outbox empty,
 * every consumer group caught up and no notification due, with no new message on any topic in
 * between. Throws, naming what was still going on, after `timeoutMs`.
 */
export async function settle(p: TestPlatform, at: Endpoints, timeoutMs = 120_000, onWhy?: (why: string) => void): Promise<void> {
  const k = kafka(at);
  const mongo = new MongoClient(at.mongoUri, { serverSelectionTimeoutMS: 5_000 });
  await mongo.connect();
  const deadline = Date.now() + timeoutMs;
  let last = "";
  let idleEnds = -1;
  try {
    for (;;) {
      try {
        const b = await busy(p, k, mongo);
        if (b.why === null) {
          if (idleEnds === b.ends) return;
          idleEnds = b.ends;
        } else {
          idleEnds = -1;
          if (b.why !== last) onWhy?.(b.why);
          last = b.why;
        }
      } catch (err) {
        idleEnds = -1;
        last = `(could not look: ${(err as Error).message})`;
      }
      if (Date.now() > deadline) throw new Error(`the platform did not settle within ${timeoutMs / 1000} s: ${last}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await mongo.close();
  }
}
