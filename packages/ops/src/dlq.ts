/**
 * `whiteslip-ops dlq`: the dead letters of the platform, listed, shown decoded and replayed to one consumer group.
 * Runbook: docs/architecture.md, "Dead letters: the operator's runbook".
 */
import { randomUUID } from "node:crypto";
import { hostname, userInfo } from "node:os";
import { toJson } from "@bufbuild/protobuf";
import {
  DlqHeaders,
  decodeEvent,
  deadLetterTopic,
  EventBus,
  headersToStrings,
  REPLAY_AUDIT_TOPIC,
  REPLAY_PARTITIONS,
  ReplayHeaders,
  replayHeaders,
  replayTopic,
  retryBroker,
} from "@whiteslip/bus";
import { allTopics, topicSpec } from "@whiteslip/contracts";
import type { KafkaSasl } from "@whiteslip/config";
import { type Admin, Kafka, logLevel, type SASLOptions } from "kafkajs";
import { resolveTopics } from "./tail";

/** Where the platform's Kafka is, and the TOPIC_PREFIX its topics carry. */
export interface DlqTarget {
  brokers: string[];
  topicPrefix?: string;
  /** The principal to act as (the admin, or an operator's principal allowed to read the DLQs and write replays). */
  sasl?: KafkaSasl;
}

/** A dead-letter topic of the platform. */
export interface DeadLetterTopicInfo {
  /** Name on the cluster (prefix included). */
  topic: string;
  /** The contract topic it holds dead letters of, and the consumer group that gave up on them. */
  sourceTopic: string;
  group: string;
  /** Messages in it (all partitions; what the broker still retains). */
  messages: number;
}

/** A dead letter as read back, decoded where possible. */
export interface DeadLetterRecord {
  partition: number;
  offset: string;
  key: string;
  /** CloudEvents attributes (from the headers; present even when the payload could not be decoded). */
  id?: string;
  type?: string;
  source?: string;
  time?: string;
  subject?: string;
  /** The dlq_* headers without their prefix: error, error_kind, error_class, attempts, original_topic, … */
  dlq: Record<string, string>;
  /** replay_* headers, when the message had been replayed before and failed again. */
  replay?: Record<string, string>;
  /** The payload as proto3 JSON, when it decodes; otherwise why not. */
  data?: unknown;
  decodeError?: string;
  /** Raw message, for a replay. */
  raw: { key: Buffer | null; value: Buffer | null; headers: Record<string, string> };
}

/** What one replay did; also the audit record on `whiteslip.ops.dlq-replays.v1`. */
export interface ReplayAudit {
  replayId: string;
  at: string;
  by: string;
  deadLetterTopic: string;
  replayTopic: string;
  group: string;
  /** The `ce_id`s replayed, in order. */
  ids: string[];
  /** Where each came from in the dead-letter topic (`partition:offset`). */
  from: string[];
}

/** `<prefix><topic>.<group>.dlq` → its contract topic and group; undefined when it is no DLQ of this platform. */
export function parseDeadLetterTopic(name: string, topicPrefix = ""): { sourceTopic: string; group: string } | undefined {
  if (!name.startsWith(topicPrefix) || !name.endsWith(".dlq")) return undefined;
  const rest = name.slice(topicPrefix.length, -".dlq".length);
  // the longest contract topic the name starts with (groups may hold dots)
  const source = allTopics
    .map((t) => t.topic)
    .filter((t) => rest.startsWith(`${t}.`) && rest.length > t.length + 1)
    .sort((a, b) => b.length - a.length)[0];
  if (!source) return undefined;
  return { sourceTopic: source, group: rest.slice(source.length + 1) };
}

/**
 * The dead-letter topic meant by an operator's `<topic>` and `--group`: a dead-letter topic's name (with or without
 * the prefix), or a contract topic (full or short, e.g. `overdue`) together with the group.
 */
export function resolveDeadLetterTopic(
  name: string,
  group: string | undefined,
  topicPrefix = "",
): { topic: string; sourceTopic: string; group: string } {
  for (const candidate of [name, topicPrefix + name]) {
    const parsed = parseDeadLetterTopic(candidate, topicPrefix);
    if (parsed) {
      if (group && group !== parsed.group) {
        throw new Error(`${candidate} is the dead-letter topic of group ${parsed.group}, not ${group}`);
      }
      return { topic: candidate, ...parsed };
    }
  }
  if (!group) throw new Error(`--group is required with a topic (${name}): dead letters are kept per consumer group`);
  const [sourceTopic] = resolveTopics([name.startsWith(topicPrefix) && topicPrefix ? name.slice(topicPrefix.length) : name]);
  return { topic: topicPrefix + deadLetterTopic(sourceTopic!, group), sourceTopic: sourceTopic!, group };
}

function kafkaOf(t: DlqTarget): Kafka {
  return new Kafka({
    clientId: "whiteslip-ops",
    brokers: t.brokers,
    logLevel: logLevel.NOTHING,
    ...(t.sasl ? { sasl: t.sasl as SASLOptions } : {}),
  });
}

async function withAdmin<T>(kafka: Kafka, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Every dead-letter topic of the platform (its TOPIC_PREFIX) with its message count, fullest first. */
export async function listDeadLetterTopics(t: DlqTarget): Promise<DeadLetterTopicInfo[]> {
  const prefix = t.topicPrefix ?? "";
  return withAdmin(kafkaOf(t), async (admin) => {
    const out: DeadLetterTopicInfo[] = [];
    for (const topic of await admin.listTopics()) {
      const parsed = parseDeadLetterTopic(topic, prefix);
      if (!parsed) continue;
      const offsets = await retryBroker(() => admin.fetchTopicOffsets(topic));
      const messages = offsets.reduce((n, p) => n + (Number(p.high) - Number(p.low)), 0);
      out.push({ topic, ...parsed, messages });
    }
    return out.sort((a, b) => b.messages - a.messages || a.topic.localeCompare(b.topic));
  });
}

/** Reads a dead-letter topic from its start up to its end as it was when called. */
export async function readDeadLetters(t: DlqTarget & { topic: string }): Promise<DeadLetterRecord[]> {
  const parsed = parseDeadLetterTopic(t.topic, t.topicPrefix ?? "");
  const spec = parsed ? topicSpec(parsed.sourceTopic) : undefined;
  const kafka = kafkaOf(t);
  const exists = await withAdmin(kafka, async (admin) => (await admin.listTopics()).includes(t.topic));
  if (!exists) throw new Error(`no such dead-letter topic: ${t.topic}`);
  return (await readTopicToEnd(kafka, t.topic)).map((m) => describeDeadLetter(m.partition, m, spec));
}

/** A consumed dead letter, decoded against the contract topic it came from. */
export function describeDeadLetter(
  partition: number,
  message: { offset: string; key: Buffer | null; value: Buffer | null; headers?: Record<string, unknown> },
  spec: ReturnType<typeof topicSpec>,
): DeadLetterRecord {
  const headers = headersToStrings(message.headers);
  const pick = (p: string) =>
    Object.fromEntries(Object.entries(headers).filter(([k]) => k.startsWith(p)).map(([k, v]) => [k.slice(p.length), v]));
  const replay = pick("replay_");
  const rec: DeadLetterRecord = {
    partition,
    offset: message.offset,
    key: message.key?.toString("utf8") ?? "",
    ...(headers.ce_id ? { id: headers.ce_id } : {}),
    ...(headers.ce_type ? { type: headers.ce_type } : {}),
    ...(headers.ce_source ? { source: headers.ce_source } : {}),
    ...(headers.ce_time ? { time: headers.ce_time } : {}),
    ...(headers.ce_subject ? { subject: headers.ce_subject } : {}),
    dlq: pick("dlq_"),
    ...(Object.keys(replay).length > 0 ? { replay } : {}),
    raw: { key: message.key, value: message.value, headers },
  };
  if (!spec) {
    rec.decodeError = "unknown source topic";
    return rec;
  }
  try {
    const e = decodeEvent(spec, { topic: spec.topic, partition, offset: message.offset, key: message.key, value: message.value, headers });
    rec.data = toJson(spec.schema, e.data);
  } catch (err) {
    rec.decodeError = (err as Error).message;
  }
  return rec;
}

/** A dead letter as printed by `dlq show` (without the raw bytes). */
export function printable(r: DeadLetterRecord): Omit<DeadLetterRecord, "raw"> {
  const { raw: _raw, ...rest } = r;
  return rest;
}

/** Who runs the command: WHITESLIP_OPERATOR, else `user@host`. */
export function operatorName(env: Record<string, string | undefined> = process.env): string {
  return env.WHITESLIP_OPERATOR || `${userInfo().username}@${hostname()}`;
}

/**
 * Replays dead letters to the one consumer group that gave up on them: each selected message goes, with its
 * original key, value and headers (`ce_id` included; dlq_* headers dropped, replay_* added), to
 * `<topic>.<group>.replay`, which only that group reads. Without `ids` every dead letter with a `ce_id` is
 * replayed (the latest copy of each id). An audit record goes to `whiteslip.ops.dlq-replays.v1` after the messages.
 * Safe to repeat: consumers apply an event id once.
 */
export async function replayDeadLetters(
  t: DlqTarget & { topic: string; group?: string; ids?: string[]; by?: string; now?: Date },
): Promise<ReplayAudit> {
  const prefix = t.topicPrefix ?? "";
  const target = resolveDeadLetterTopic(t.topic, t.group, prefix);
  const records = await readDeadLetters({ ...t, topic: target.topic });
  const latest = new Map<string, DeadLetterRecord>();
  for (const r of records) if (r.id) latest.set(r.id, r);
  const wanted = t.ids && t.ids.length > 0 ? t.ids : [...latest.keys()];
  const missing = wanted.filter((id) => !latest.has(id));
  if (missing.length > 0) throw new Error(`not in ${target.topic}: ${missing.join(", ")} (nothing replayed)`);
  const chosen = [...new Set(wanted)].map((id) => latest.get(id)!);
  const at = t.now ?? new Date();
  const audit: ReplayAudit = {
    replayId: randomUUID(),
    at: at.toISOString(),
    by: t.by ?? operatorName(),
    deadLetterTopic: target.topic,
    replayTopic: prefix + replayTopic(target.sourceTopic, target.group),
    group: target.group,
    ids: chosen.map((r) => r.id!),
    from: chosen.map((r) => `${r.partition}:${r.offset}`),
  };
  const bus = await EventBus.connect({
    brokers: t.brokers,
    clientId: "whiteslip-ops",
    topicPrefix: prefix,
    logger: quiet,
    ...(t.sasl ? { sasl: t.sasl } : {}),
  });
  try {
    await bus.ensureTopics([replayTopic(target.sourceTopic, target.group), REPLAY_AUDIT_TOPIC], REPLAY_PARTITIONS);
    await bus.publish(
      chosen.map((r) => ({
        topic: replayTopic(target.sourceTopic, target.group),
        key: r.key,
        value: r.raw.value ?? new Uint8Array(),
        headers: replayHeaders(r.raw.headers, {
          replayId: audit.replayId,
          fromTopic: target.topic,
          fromOffset: `${r.partition}:${r.offset}`,
          by: audit.by,
          at,
        }),
      })),
    );
    await bus.publish([
      {
        topic: REPLAY_AUDIT_TOPIC,
        key: target.topic,
        value: Buffer.from(JSON.stringify(audit)),
        headers: { "content-type": "application/json", [ReplayHeaders.replayId]: audit.replayId },
      },
    ]);
  } finally {
    await bus.close();
  }
  return audit;
}

const quiet = { info() {}, warn() {}, error() {}, debug() {} };

/** The replay audit records of the platform, oldest first. */
export async function readReplayAudit(t: DlqTarget): Promise<ReplayAudit[]> {
  const topic = (t.topicPrefix ?? "") + REPLAY_AUDIT_TOPIC;
  const kafka = kafkaOf(t);
  const exists = await withAdmin(kafka, async (admin) => (await admin.listTopics()).includes(topic));
  if (!exists) return [];
  const records = await readTopicToEnd(kafka, topic);
  return records.map((m) => JSON.parse(m.value?.toString("utf8") ?? "{}") as ReplayAudit).sort((a, b) => a.at.localeCompare(b.at));
}

interface RawRecord {
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, unknown>;
}

/**
 * Reads `topic` from its start up to its end as it was when called: the high watermarks read first are the barrier
 * (nothing is waited for by the clock). A throwaway consumer group reads it and is deleted after.
 */
async function readTopicToEnd(kafka: Kafka, topic: string, timeoutMs = 60_000): Promise<RawRecord[]> {
  return withAdmin(kafka, async (admin) => {
    const offsets = await retryBroker(() => admin.fetchTopicOffsets(topic));
    const ends = new Map(offsets.map((p) => [p.partition, BigInt(p.high)]));
    const remaining = new Set(offsets.filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => p.partition));
    const out: RawRecord[] = [];
    if (remaining.size === 0) return out;
    const groupId = `whiteslip-ops-read-${process.pid}-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 250 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      let done!: () => void;
      const finished = new Promise<void>((r) => (done = r));
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          const high = ends.get(partition) ?? 0n;
          if (BigInt(message.offset) < high) out.push({ partition, ...message });
          if (BigInt(message.offset) >= high - 1n) remaining.delete(partition);
          if (remaining.size === 0) done();
        },
      });
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${topic}: not read to its end within ${timeoutMs} ms`)), timeoutMs);
      });
      await Promise.race([finished, timeout]).finally(() => clearTimeout(timer));
    } finally {
      await consumer.disconnect();
      await admin.deleteGroups([groupId]).catch(() => undefined);
    }
    return out.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
  });
}

export { DlqHeaders };
