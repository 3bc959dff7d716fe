import { toJson } from "@bufbuild/protobuf";
import { allTopics, topicSpec } from "@whiteslip/contracts";
import { decodeEvent, headersToStrings } from "@whiteslip/bus";
import type { KafkaSasl } from "@whiteslip/config";
import { Kafka, logLevel, type SASLOptions } from "kafkajs";

/** Resolves `overdue`, `due-soon`, `Overdue` or a full topic name to topic names. */
export function resolveTopics(names: string[]): string[] {
  if (names.length === 0 || names.includes("all")) return allTopics.map((t) => t.topic);
  return names.map((n) => {
    const exact = topicSpec(n);
    if (exact) return exact.topic;
    const lower = n.toLowerCase();
    const match = allTopics.find(
      (t) => t.schema.name.toLowerCase() === lower || t.topic.split(".")[2] === lower || t.topic.endsWith(`.${lower}.v1`),
    );
    if (!match) throw new Error(`unknown topic ${JSON.stringify(n)}; try one of: ${allTopics.map((t) => t.topic.split(".")[2]).join(", ")}`);
    return match.topic;
  });
}

/**
 * A consumed record as JSON: CloudEvents attributes, headers and the decoded payload. `topicPrefix` is the
 * platform's TOPIC_PREFIX (the record's topic is the contract name behind it).
 */
export function decodeRecord(
  topic: string,
  partition: number,
  message: { offset: string; key: Buffer | null; value: Buffer | null; headers?: Record<string, unknown> },
  topicPrefix = "",
) {
  const headers = headersToStrings(message.headers);
  const spec = topic.startsWith(topicPrefix) ? topicSpec(topic.slice(topicPrefix.length)) : undefined;
  if (!spec) return { topic, partition, offset: message.offset, headers, error: "unknown topic" };
  try {
    const e = decodeEvent(spec, { topic, partition, offset: message.offset, key: message.key, value: message.value, headers });
    return {
      topic,
      partition,
      offset: message.offset,
      key: e.key,
      id: e.id,
      type: e.type,
      source: e.source,
      time: e.time.toISOString(),
      traceparent: headers.traceparent,
      data: toJson(spec.schema, e.data),
    };
  } catch (err) {
    return { topic, partition, offset: message.offset, headers, error: (err as Error).message };
  }
}

/** Tails topics, printing each record as one JSON line, until the signal aborts. */
export async function tail(opts: {
  brokers: string[];
  topics: string[];
  fromBeginning?: boolean;
  filterKey?: string;
  /** The platform's TOPIC_PREFIX (default none). */
  topicPrefix?: string;
  /** SASL credentials (KAFKA_SASL_* / KAFKA_CREDENTIALS_FILE: the admin or an ops principal). */
  sasl?: KafkaSasl;
  signal?: AbortSignal;
  print?: (line: string) => void;
}): Promise<void> {
  const prefix = opts.topicPrefix ?? "";
  const kafka = new Kafka({
    clientId: "whiteslip-ops",
    brokers: opts.brokers,
    logLevel: logLevel.NOTHING,
    ...(opts.sasl ? { sasl: opts.sasl as SASLOptions } : {}),
  });
  const consumer = kafka.consumer({ groupId: `whiteslip-ops-tail-${process.pid}-${Date.now()}`, maxWaitTimeInMs: 250 });
  await consumer.connect();
  await consumer.subscribe({ topics: opts.topics.map((t) => prefix + t), fromBeginning: opts.fromBeginning ?? false });
  const print = opts.print ?? ((l: string) => process.stdout.write(`${l}\n`));
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      if (opts.filterKey && message.key?.toString() !== opts.filterKey) return;
      print(JSON.stringify(decodeRecord(topic, partition, message, prefix)));
    },
  });
  await new Promise<void>((resolve) => {
    if (opts.signal?.aborted) resolve();
    opts.signal?.addEventListener("abort", () => resolve(), { once: true });
  });
  await consumer.disconnect();
}
