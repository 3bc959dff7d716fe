import type { DescMessage } from "@bufbuild/protobuf";
import { TOPIC_CONSUMERS } from "./consumers";
import { type TopicName, type TopicSpec, Topics } from "./topics";

export { SERVICE_CONSUMES, TOPIC_CONSUMERS } from "./consumers";

/**
 * Partner-facing description of every event topic as an AsyncAPI 3.0.0
 * document, generated from the topic registry, the JSON Schemas that
 * protoc-gen-jsonschema (bufbuild/protoschema-plugins) generates from the
 * protos, and the services' subscription tables (see `scripts/gen-asyncapi.ts`,
 * which writes `docs/asyncapi.json`). Everything here is pure: the generated
 * schemas come in as a {@link GeneratedSchemas} map.
 */

/** A JSON value, as written to `docs/asyncapi.json`. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** A JSON object (a JSON Schema, an AsyncAPI object, ...). */
export type JsonObject = { [key: string]: Json };

/**
 * JSON Schemas of the protobuf messages by full name (`whiteslip.billing.v1.DueSoon`), as protoc-gen-jsonschema
 * writes them with `target=json` (`<full name>.jsonschema.json`: JSON field names, what a proto3 JSON parser
 * accepts, the proto doc comments as descriptions, a `$ref` to `<full name>.jsonschema.json` for a message field).
 */
export type GeneratedSchemas = ReadonlyMap<string, JsonObject>;

/** A deployable service of the platform. */
export type ServiceName = "billing" | "credit" | "notification" | "collections" | "credit-reporting";

/** The service that produces the events of a domain (the CloudEvents source is `//whiteslip/<domain>`). */
export const PRODUCER_BY_DOMAIN: Readonly<Record<string, ServiceName>> = {
  billing: "billing",
  credit: "credit",
  notification: "notification",
  collections: "collections",
  creditreporting: "credit-reporting",
};

/** What the Kafka message key holds, where it is not the account id. */
export const KEY_DESCRIPTIONS: { readonly [K in TopicName]?: string } = {
  BureauFileGenerated: "as-of date of the file (YYYY-MM-DD): a bureau file is not an account fact",
};

/** The default key description: one account's events stay ordered on one partition. */
export const ACCOUNT_KEY_DESCRIPTION = "account id";

/** CloudEvents Kafka binary content mode, as produced by `@whiteslip/bus` `encodeEvent`. */
export const EVENT_CONTENT_TYPE = "application/protobuf";

/** Headers added to a dead-lettered message (beside the original headers), as written by `@whiteslip/bus`. */
export const DEAD_LETTER_HEADERS: Readonly<Record<string, string>> = {
  dlq_error: "Error message of the last attempt (at most 1000 characters).",
  dlq_error_kind: "Error class, e.g. `UndecodableEventError` for a message that could not be decoded.",
  dlq_error_class: "`permanent` (undecodable, or rejected by the handler as invalid) or `unexpected` (a bug: retried, then given up).",
  dlq_error_stack: "Stack of the last error (at most 4000 characters).",
  dlq_attempts: "Number of handler calls made (decimal; 0 when the message could not be decoded).",
  dlq_original_topic: "Topic the message was read from.",
  dlq_original_partition: "Partition it was read from (decimal).",
  dlq_original_offset: "Offset it was read at (decimal).",
  dlq_consumer_group: "Consumer group that gave up on it.",
  dlq_first_failure_at: "When the first handler call for it failed (RFC 3339).",
  dlq_dead_lettered_at: "When it was dead-lettered (RFC 3339).",
};

const JSON_MAPPING_NOTE =
  "The Kafka value is the protobuf binary encoding of this message; the JSON Schema (generated from the proto by protoc-gen-jsonschema) " +
  "describes its proto3 JSON mapping as a proto3 JSON parser accepts it (what `buf convert`, protobuf-es `toJson` and other printers print): " +
  "field names in lowerCamelCase (the proto names are accepted too), 64-bit integers as decimal strings (numbers accepted), " +
  "enums by value name, Timestamps as RFC 3339 strings, bytes as base64. " +
  'Fields holding their default value (0, "", false, empty list, the zero enum value) are omitted, so every field is optional.';

const TRACEPARENT_PATTERN = "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$";

/** Input of {@link generateAsyncApi}. */
export interface AsyncApiInput {
  /** The topics to document (normally `allTopics`). */
  readonly topics: readonly TopicSpec[];
  /** JSON Schemas generated from the protos. */
  readonly schemas: GeneratedSchemas;
  /** Consumers of a topic; defaults to {@link TOPIC_CONSUMERS} (the services' subscription tables). */
  readonly consumers?: (spec: TopicSpec) => readonly ServiceName[];
}

function registryName(spec: TopicSpec): TopicName | undefined {
  return (Object.keys(Topics) as TopicName[]).find((k) => Topics[k].topic === spec.topic);
}

/** Consumers of a topic per {@link TOPIC_CONSUMERS} (none for a topic outside the registry). */
export function topicConsumers(spec: TopicSpec): readonly ServiceName[] {
  const name = registryName(spec);
  return name ? TOPIC_CONSUMERS[name] : [];
}

/** Producing service of a topic; throws for an unknown domain. */
export function topicProducer(spec: TopicSpec): ServiceName {
  const s = PRODUCER_BY_DOMAIN[spec.domain];
  if (!s) throw new Error(`no producing service known for domain ${spec.domain} (${spec.topic})`);
  return s;
}

/** Description of the message key of a topic. */
export function topicKeyDescription(spec: TopicSpec): string {
  const name = registryName(spec);
  return (name && KEY_DESCRIPTIONS[name]) || ACCOUNT_KEY_DESCRIPTION;
}

/** Dead-letter topic of a topic for a consumer group (`<topic>.<consumer-group>.dlq`). */
export function deadLetterTopicOf(topic: string, consumerGroup: string): string {
  return `${topic}.${consumerGroup}.dlq`;
}

/** Replay topic of a topic for a consumer group (`<topic>.<consumer-group>.replay`): the one group `dlq replay` reaches. */
export function replayTopicOf(topic: string, consumerGroup: string): string {
  return `${topic}.${consumerGroup}.replay`;
}

/**
 * The event's doc comment without the `Name:` prefix and the `Topic `...`.`
 * sentence: what the fact is and when it is emitted.
 */
export function eventSummary(schema: DescMessage, comment: string | undefined): string {
  let text = comment?.replace(/\s*\n\s*/g, " ") ?? schema.name;
  if (text.startsWith(`${schema.name}:`)) text = text.slice(schema.name.length + 1);
  text = text.replace(/\s*Topic `[^`]+`\.?/g, "").trim();
  return text.length > 0 ? text.charAt(0).toUpperCase() + text.slice(1) : schema.name;
}

// ---------------------------------------------------------------------------
// The generated JSON Schemas, placed in components.schemas

/** `$ref` to a schema in `components.schemas`. */
export function schemaRef(typeName: string): JsonObject {
  return { $ref: `#/components/schemas/${typeName}` };
}

const GENERATED_SUFFIX = ".jsonschema.json";

/** Full proto name of a generated schema's `$id` or `$ref` (`whiteslip.billing.v1.DueSoon.jsonschema.json`). */
function generatedName(ref: string): string | undefined {
  return ref.endsWith(GENERATED_SUFFIX) ? ref.slice(0, -GENERATED_SUFFIX.length) : undefined;
}

/**
 * The generated schemas of `roots` and of every message they reference (transitively), keyed by full proto name
 * and sorted: each without `$id`/`$schema` (it becomes part of this document), its references to another generated
 * file pointed at that one's `components.schemas` entry, marked with the message it describes.
 */
export function collectSchemas(roots: readonly DescMessage[], schemas: GeneratedSchemas): Record<string, JsonObject> {
  const out = new Map<string, JsonObject>();
  const pending = roots.map((r) => r.typeName);
  const relink = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(relink);
    if (v === null || typeof v !== "object") return v;
    const o: JsonObject = {};
    for (const [k, x] of Object.entries(v)) {
      const target = k === "$ref" && typeof x === "string" ? generatedName(x) : undefined;
      if (target) {
        pending.push(target);
        o.$ref = schemaRef(target).$ref!;
      } else o[k] = relink(x);
    }
    return o;
  };
  for (let name = pending.shift(); name !== undefined; name = pending.shift()) {
    if (out.has(name)) continue;
    const generated = schemas.get(name);
    if (!generated) throw new Error(`no generated JSON Schema for ${name}`);
    const { $id: _id, $schema: _schema, ...body } = generated;
    out.set(name, { ...(relink(body) as JsonObject), "x-protobuf-message": name });
  }
  return Object.fromEntries([...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

// ---------------------------------------------------------------------------
// The AsyncAPI document

/** Headers schema of a topic's messages: CloudEvents 1.0 Kafka binary mode attributes + W3C trace context. */
export function headersSchema(spec: TopicSpec): JsonObject {
  const type = spec.schema.typeName;
  return {
    type: "object",
    description:
      "CloudEvents 1.0 attributes in Kafka binary content mode (`ce_` headers, UTF-8 strings) and W3C trace context. Unknown headers may appear and must be ignored.",
    required: ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_dataschema", "content-type"],
    properties: {
      ce_specversion: { type: "string", const: "1.0", description: "CloudEvents spec version." },
      ce_id: {
        type: "string",
        minLength: 1,
        description:
          "Event id, deterministic for the fact: a redelivered or re-published fact has the same id. Deduplicate on it.",
      },
      ce_source: { type: "string", const: `//whiteslip/${spec.domain}`, description: "Producing domain." },
      ce_type: { type: "string", const: type, description: "Full protobuf name of the payload message." },
      ce_time: {
        type: "string",
        format: "date-time",
        description: "When the fact happened (RFC 3339, UTC).",
      },
      ce_dataschema: {
        type: "string",
        const: `urn:proto:${type}`,
        description: "The payload's protobuf message.",
      },
      "content-type": {
        type: "string",
        const: EVENT_CONTENT_TYPE,
        description: "The value is protobuf binary.",
      },
      ce_subject: {
        type: "string",
        description: "Optional subject of the event within the source (e.g. a statement or case id).",
      },
      traceparent: {
        type: "string",
        pattern: TRACEPARENT_PATTERN,
        description: "W3C trace context of the producing operation (optional).",
      },
      tracestate: { type: "string", description: "W3C trace state (optional)." },
    },
  };
}

/** Headers schema of dead-lettered messages: the original headers plus the `dlq_*` ones. */
export function deadLetterHeadersSchema(): JsonObject {
  return {
    type: "object",
    description:
      "A message a consumer could not decode, rejected as permanent, or gave up on after bounded retries of an unexpected error (infrastructure failures are retried, never dead-lettered), copied unchanged (key, value, original headers) to `<topic>.<consumer-group>.dlq`, with these headers added.",
    required: Object.keys(DEAD_LETTER_HEADERS),
    properties: Object.fromEntries(
      Object.entries(DEAD_LETTER_HEADERS).map(([k, d]) => [k, { type: "string", description: d }]),
    ),
  };
}

function channelId(spec: TopicSpec): string {
  return spec.schema.name;
}

const INFO_DESCRIPTION = [
  "Facts published by the Whiteslip services (credit, billing, notification, collections, credit-reporting) on Kafka.",
  "",
  "* **One event type per topic**, named `whiteslip.<domain>.<event-kebab>.v1`.",
  "* **Envelope**: CloudEvents 1.0 in Kafka *binary content mode*: the attributes travel as `ce_*` headers, the value is the protobuf binary encoding of the payload (`content-type: application/protobuf`), `ce_type` and `ce_dataschema` name the protobuf message. A W3C `traceparent` header carries the trace.",
  "* **Key**: the account id (UTF-8), so one account's events are ordered within a partition.",
  "* **Delivery** is at least once: deduplicate on `ce_id`, which is deterministic for the fact.",
  "* **Dead letters**: each consuming service reads with its own consumer group; a message it cannot process goes to `<topic>.<consumer-group>.dlq` with `dlq_*` headers (see `components.messages.DeadLetter`).",
  "* **Versioning**: compatible changes (new fields, new enum values) are made in place; a breaking change gets a new topic with the next `.vN` suffix.",
  "",
  `Payload schemas: ${JSON_MAPPING_NOTE}`,
  "",
  "Generated by `pnpm gen:asyncapi` from the topic registry, the services' subscription tables and the JSON Schemas protoc-gen-jsonschema generates from the protos; do not edit by hand.",
].join("\n");

/** Builds the AsyncAPI 3.0.0 document of `input.topics`. Pure and deterministic. */
export function generateAsyncApi(input: AsyncApiInput): JsonObject {
  const { topics, schemas } = input;
  const consumersOf = input.consumers ?? topicConsumers;
  const ids = new Set<string>();
  for (const t of topics) {
    if (ids.has(channelId(t))) throw new Error(`two topics carry a message named ${channelId(t)}`);
    ids.add(channelId(t));
  }

  const channels: JsonObject = {};
  const operations: JsonObject = {};
  const messages: JsonObject = {};
  for (const spec of topics) {
    const id = channelId(spec);
    const type = spec.schema.typeName;
    const producer = topicProducer(spec);
    const consumers = [...consumersOf(spec)];
    const summary = eventSummary(spec.schema, schemas.get(type)?.description as string | undefined);
    const dlqs = consumers.map((c) => deadLetterTopicOf(spec.topic, c));
    const keyDescription = topicKeyDescription(spec);

    messages[id] = {
      name: spec.schema.name,
      title: spec.schema.name,
      summary,
      description: `Payload: protobuf message \`${type}\`. ${JSON_MAPPING_NOTE}`,
      contentType: EVENT_CONTENT_TYPE,
      headers: headersSchema(spec),
      payload: schemaRef(type),
      correlationId: { description: "CloudEvents id of the fact.", location: "$message.header#/ce_id" },
      bindings: { kafka: { key: { type: "string", description: keyDescription }, bindingVersion: "0.5.0" } },
      "x-protobuf-message": type,
    };
    channels[id] = {
      address: spec.topic,
      title: spec.topic,
      summary,
      description:
        `${summary}\n\nKey: ${keyDescription}. Value: \`${type}\` (protobuf binary).` +
        (dlqs.length > 0
          ? ` Dead-letter topics of the platform's consumers: ${dlqs.map((d) => `\`${d}\``).join(", ")}.`
          : ""),
      messages: { [id]: { $ref: `#/components/messages/${id}` } },
      bindings: { kafka: { topic: spec.topic, bindingVersion: "0.5.0" } },
    };
    operations[`send${id}`] = {
      action: "send",
      channel: { $ref: `#/channels/${id}` },
      title: `${producer} publishes ${spec.schema.name}`,
      summary,
      description:
        `Produced by the **${producer}** service (CloudEvents source \`//whiteslip/${spec.domain}\`), through its transactional outbox.\n\n` +
        (consumers.length > 0
          ? `Consumed inside the platform by: ${consumers.map((c) => `**${c}** (consumer group \`${c}\`)`).join(", ")}.`
          : "Not consumed inside the platform; published for partners, operations and analytics."),
      messages: [{ $ref: `#/channels/${id}/messages/${id}` }],
      tags: [{ name: producer }],
      "x-producer": producer,
      "x-consumers": consumers,
    };
  }

  const producers = [...new Set(topics.map(topicProducer))];
  return {
    asyncapi: "3.0.0",
    id: "urn:whiteslip:events",
    info: {
      title: "Whiteslip events",
      version: "1.0.0",
      description: INFO_DESCRIPTION,
      tags: producers.map((p) => ({ name: p, description: `Events produced by the ${p} service.` })),
    },
    defaultContentType: EVENT_CONTENT_TYPE,
    servers: {
      local: {
        host: "localhost:9092",
        protocol: "kafka",
        protocolVersion: "3.9",
        description: "The broker of a local run (`pnpm start`, compose); override with `KAFKA_BROKERS`.",
      },
      production: {
        host: "{bootstrap}",
        protocol: "kafka",
        protocolVersion: "3.9",
        description:
          "The production cluster; ask the platform team for the bootstrap address and credentials.",
        variables: {
          bootstrap: {
            default: "kafka.whiteslip.example:9092",
            description: "Bootstrap server host:port of your environment.",
          },
        },
      },
    },
    channels,
    operations,
    components: {
      schemas: collectSchemas(
        topics.map((t) => t.schema),
        schemas,
      ),
      messages: {
        ...messages,
        DeadLetter: {
          name: "DeadLetter",
          title: "Dead-lettered message",
          summary: "A message a consumer group gave up on, on `<topic>.<consumer-group>.dlq`.",
          description:
            "Key and value are the original ones (the value may be undecodable, which is why it was dead-lettered).",
          headers: deadLetterHeadersSchema(),
          payload: { description: "The original message value, unchanged." },
        },
      },
    },
  };
}

// ---------------------------------------------------------------------------
// Topics table for docs/events.md, rendered from the document

function cell(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\s*\n+\s*/g, " ");
}

/** Markdown table of the document's topics: topic, payload, producer, consumers, when emitted. */
export function topicsTable(doc: JsonObject): string {
  const channels = doc.channels as Record<string, JsonObject>;
  const operations = Object.values(doc.operations as Record<string, JsonObject>);
  const rows = Object.entries(channels).map(([id, ch]) => {
    const op = operations.find((o) => (o.channel as JsonObject).$ref === `#/channels/${id}`);
    const msg = (doc.components as { messages: Record<string, JsonObject> }).messages[id]!;
    const consumers = (op?.["x-consumers"] as string[] | undefined) ?? [];
    return `| \`${ch.address}\` | \`${msg["x-protobuf-message"]}\` | ${op?.["x-producer"] ?? ""} | ${consumers.length > 0 ? consumers.join(", ") : "—"} | ${cell(String(ch.summary))} |`;
  });
  return [
    "| topic | payload | producer | consumers | when emitted |",
    "| --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}

/** Markers around the generated table in docs/events.md. */
export const TABLE_BEGIN = "<!-- topics:begin (generated by `pnpm gen:asyncapi`) -->";
/** End marker of the generated table. */
export const TABLE_END = "<!-- topics:end -->";

/** Replaces the generated table in a events.md text; throws when the markers are missing. */
export function withTopicsTable(markdown: string, table: string): string {
  const b = markdown.indexOf(TABLE_BEGIN);
  const e = markdown.indexOf(TABLE_END);
  if (b < 0 || e < b) throw new Error(`events.md lacks the ${TABLE_BEGIN} … ${TABLE_END} markers`);
  return `${markdown.slice(0, b + TABLE_BEGIN.length)}\n\n${table}\n\n${markdown.slice(e)}`;
}
