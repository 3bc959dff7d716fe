/**
 * The PII scan: looks for personal data in clear — the names, ID numbers, phone numbers and emails a run gave the
 * platform — in every log line of every service, every stored document of every service database (BSON bytes, so
 * nested and binary fields count) and every Kafka record of the platform's topics (key, value and headers). Each hit
 * names where it was found and which kind of value, never the value itself.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { KafkaSasl } from "@whiteslip/config";
import { Kafka, logLevel, type SASLOptions } from "kafkajs";
import { BSON, MongoClient } from "mongodb";

/** The clear values to look for, by kind. */
export interface ClearValues {
  names: string[];
  nationalIds: string[];
  phones: string[];
  emails: string[];
}

/** Where to look. */
export interface ScanSources {
  /** Log files, or folders whose files are all logs. */
  logs: string[];
  mongoUri: string;
  /** Databases whose every collection is read. */
  databases: string[];
  brokers: string[];
  /** A principal that may read every topic of the platform (the admin), when the broker needs SASL. */
  sasl?: KafkaSasl;
  /** Every topic whose name starts with it (the platform's TOPIC_PREFIX; dead-letter topics included). */
  topicPrefix: string;
}

/** A value found in clear. */
export interface PiiHit {
  source: "log" | "document" | "topic";
  /** `file:line`, `db.collection/_id` or `topic[partition]@offset`. */
  location: string;
  kind: keyof ClearValues;
}

/** What the scan read and found. */
export interface ScanResult {
  hits: PiiHit[];
  scanned: { logLines: number; documents: number; records: number; topics: number; databases: number };
}

/** The byte patterns of each value: as given, upper and lower case, and a phone number without its +86. */
function patterns(values: ClearValues): { kind: keyof ClearValues; bytes: Buffer }[] {
  const out = new Map<string, keyof ClearValues>();
  for (const kind of ["names", "nationalIds", "phones", "emails"] as const)
    for (const v of values[kind]) {
      const forms = [v, v.toUpperCase(), v.toLowerCase()];
      if (kind === "phones" && v.startsWith("+86")) forms.push(v.slice(3));
      for (const f of forms) if (f.trim().length >= 4) out.set(f, kind);
    }
  return [...out].map(([v, kind]) => ({ kind, bytes: Buffer.from(v, "utf8") }));
}

function find(p: ReturnType<typeof patterns>, data: Buffer): (keyof ClearValues)[] {
  const kinds = new Set<keyof ClearValues>();
  for (const { kind, bytes } of p) if (data.includes(bytes)) kinds.add(kind);
  return [...kinds];
}

function logFiles(paths: string[]): string[] {
  return paths.flatMap((p) => (statSync(p).isDirectory() ? readdirSync(p).map((f) => join(p, f)) : [p]));
}

/** Scans the sources for the values; resolves when every log, document and record was read. */
export async function scanForClearPii(values: ClearValues, src: ScanSources): Promise<ScanResult> {
  const p = patterns(values);
  const hits: PiiHit[] = [];
  const scanned = { logLines: 0, documents: 0, records: 0, topics: 0, databases: 0 };

  for (const file of logFiles(src.logs)) {
    const lines = readFileSync(file, "utf8").split("\n");
    lines.forEach((line, i) => {
      if (!line) return;
      scanned.logLines++;
      for (const kind of find(p, Buffer.from(line, "utf8")))
        hits.push({ source: "log", location: `${file}:${i + 1}`, kind });
    });
  }

  const mongo = await MongoClient.connect(src.mongoUri);
  try {
    for (const name of src.databases) {
      const db = mongo.db(name);
      scanned.databases++;
      for (const c of await db.listCollections({}, { nameOnly: true }).toArray()) {
        for await (const doc of db.collection(c.name).find({})) {
          scanned.documents++;
          for (const kind of find(p, Buffer.from(BSON.serialize(doc))))
            hits.push({ source: "document", location: `${name}.${c.name}/${String(doc._id)}`, kind });
        }
      }
    }
  } finally {
    await mongo.close();
  }

  const kafka = new Kafka({
    clientId: `pii-scan-${process.pid}`,
    brokers: src.brokers,
    logLevel: logLevel.NOTHING,
    ...(src.sasl ? { sasl: src.sasl as SASLOptions } : {}),
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter(
      (t) => src.topicPrefix !== "" && t.startsWith(src.topicPrefix),
    );
    scanned.topics = topics.length;
    // the barrier: every partition read up to the end offset taken before reading
    const pending = new Map<string, bigint>();
    for (const topic of topics)
      for (const o of await admin.fetchTopicOffsets(topic))
        if (BigInt(o.high) > BigInt(o.low)) pending.set(`${topic}#${o.partition}`, BigInt(o.high));
    if (pending.size > 0) {
      const consumer = kafka.consumer({ groupId: `pii-scan-${process.pid}-${Date.now()}` });
      await consumer.connect();
      await consumer.subscribe({
        topics: topics.filter((t) => [...pending.keys()].some((k) => k.startsWith(`${t}#`))),
        fromBeginning: true,
      });
      try {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () =>
              reject(
                new Error(
                  `pii scan: topics not read to their end in 180 s: ${[...pending.keys()].join(", ")}`,
                ),
              ),
            180_000,
          );
          consumer
            .run({
              eachMessage: async ({ topic, partition, message }) => {
                scanned.records++;
                const parts = [message.key ?? Buffer.alloc(0), message.value ?? Buffer.alloc(0)];
                for (const [k, v] of Object.entries(message.headers ?? {}))
                  for (const x of Array.isArray(v) ? v : [v])
                    parts.push(Buffer.from(k), Buffer.from(x ?? ""));
                for (const kind of find(p, Buffer.concat(parts)))
                  hits.push({ source: "topic", location: `${topic}[${partition}]@${message.offset}`, kind });
                const key = `${topic}#${partition}`;
                const end = pending.get(key);
                if (end !== undefined && BigInt(message.offset) + 1n >= end) pending.delete(key);
                if (pending.size === 0) {
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
    }
  } finally {
    await admin.disconnect();
  }
  return { hits, scanned };
}
