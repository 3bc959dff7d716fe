import { type DescEnum, type DescField, type DescMessage, fromBinary, ScalarType } from "@bufbuild/protobuf";
import {
  type DescriptorProto,
  type EnumDescriptorProto,
  FileDescriptorSetSchema,
} from "@bufbuild/protobuf/wkt";
import { type TopicName, type TopicSpec, Topics } from "./topics";

/**
 * Partner-facing description of every event topic as an AsyncAPI 3.0.0
 * document, generated from the topic registry and the protos (see
 * `scripts/gen-asyncapi.ts`, which writes `docs/asyncapi.json`). Everything
 * here is pure: the proto doc comments come in through a {@link CommentLookup}.
 */

/** A JSON value, as written to `docs/asyncapi.json`. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** A JSON object (a JSON Schema, an AsyncAPI object, ...). */
export type JsonObject = { [key: string]: Json };

/**
 * Doc comment of a proto element by name: `pkg.Message`, `pkg.Message.Nested`,
 * `pkg.Message.field_name`, `pkg.Enum`, `pkg.Enum.VALUE_NAME` (values are looked
 * up under their enum, unlike protobuf scoping). Undefined when uncommented.
 */
export type CommentLookup = (name: string) => string | undefined;

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

/**
 * Consuming services of each topic, after the ownership table of
 * `architecture.md` ("consumes" column) as the services implement it. Each
 * consumer reads with its own consumer group, named after the service by
 * default. Typed by {@link TopicName}, so a new topic does not compile until it
 * is listed here.
 */
export const TOPIC_CONSUMERS: { readonly [K in TopicName]: readonly ServiceName[] } = {
  AccountOpened: ["credit-reporting"],
  PurchasePosted: ["credit", "credit-reporting"],
  StatementIssued: [],
  DueSoon: ["credit", "notification", "collections"],
  Overdue: ["credit", "notification", "collections", "credit-reporting"],
  PaymentReceived: ["credit", "notification", "collections", "credit-reporting"],
  AccountCured: ["credit", "notification", "collections", "credit-reporting"],
  ChargedOff: ["credit", "collections", "credit-reporting"],
  RepaymentPlanCreated: [],
  PaymentDeferred: ["notification", "credit-reporting"],
  CreditLineOpened: ["billing", "collections", "credit-reporting"],
  CreditLineChanged: ["billing", "notification", "collections", "credit-reporting"],
  RestrictionChanged: [],
  RiskFlagRaised: ["collections"],
  NotificationSent: ["collections"],
  NotificationDelivered: ["credit-reporting", "collections"],
  NotificationFailed: ["collections"],
  NotificationEngaged: [],
  CaseOpened: [],
  CaseEscalated: [],
  CaseClosed: [],
  PromiseMade: [],
  PromiseKept: [],
  PromiseBroken: [],
  PlanAgreed: [],
  LegalNoticeRequested: ["notification"],
  TreatmentStepRequested: ["notification"],
  ScoreChanged: ["credit"],
  NegativeReportPending: ["notification"],
  BureauFileGenerated: [],
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
  "The Kafka value is the protobuf binary encoding of this message; the JSON Schema describes its canonical proto3 JSON mapping " +
  "(what `buf convert`, `protoc --decode` + JSON printers or protobuf-es `toJson` print): field names in lowerCamelCase, " +
  "64-bit integers as decimal strings, enums by value name, Timestamps as RFC 3339 strings, bytes as base64. " +
  'Fields holding their default value (0, "", false, empty list, the zero enum value) are omitted, so every field is optional.';

const TRACEPARENT_PATTERN = "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$";

/** Input of {@link generateAsyncApi}. */
export interface AsyncApiInput {
  /** The topics to document (normally `allTopics`). */
  readonly topics: readonly TopicSpec[];
  /** Proto doc comments. */
  readonly comments: CommentLookup;
  /** Consumers of a topic; defaults to {@link TOPIC_CONSUMERS}. */
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
  let text = comment ?? schema.name;
  if (text.startsWith(`${schema.name}:`)) text = text.slice(schema.name.length + 1);
  text = text.replace(/\s*Topic `[^`]+`\.?/g, "").trim();
  return text.length > 0 ? text.charAt(0).toUpperCase() + text.slice(1) : schema.name;
}

// ---------------------------------------------------------------------------
// Proto comments from a buf image

function cleanComment(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  const paragraphs = raw
    .split("\n")
    .map((l) => l.trim())
    .join("\n")
    .split(/\n{2,}/)
    .map((p) => p.split("\n").filter(Boolean).join(" ").trim())
    .filter(Boolean);
  return paragraphs.length > 0 ? paragraphs.join("\n\n") : undefined;
}

/**
 * Reads the leading doc comments of messages (path `[4, i]`, nested `[..., 3, k]`),
 * fields (`[..., 2, j]`), enums (`[5, e]`, nested `[..., 4, k]`) and enum values
 * (`[..., 2, v]`) from a binary `FileDescriptorSet` with source info (`buf build -o image.binpb`).
 */
export function commentsFromImage(image: Uint8Array): Map<string, string> {
  const set = fromBinary(FileDescriptorSetSchema, image);
  const out = new Map<string, string>();
  for (const file of set.file) {
    const byPath = new Map<string, string>();
    for (const loc of file.sourceCodeInfo?.location ?? []) {
      const c = cleanComment(loc.leadingComments);
      if (c) byPath.set(loc.path.join("."), c);
    }
    const put = (name: string, path: number[]) => {
      const c = byPath.get(path.join("."));
      if (c) out.set(name, c);
    };
    const walkEnum = (e: EnumDescriptorProto, full: string, path: number[]) => {
      put(full, path);
      for (const [i, v] of e.value.entries()) put(`${full}.${v.name}`, [...path, 2, i]);
    };
    const walkMessage = (m: DescriptorProto, full: string, path: number[]) => {
      put(full, path);
      for (const [i, f] of m.field.entries()) put(`${full}.${f.name}`, [...path, 2, i]);
      for (const [i, n] of m.nestedType.entries()) walkMessage(n, `${full}.${n.name}`, [...path, 3, i]);
      for (const [i, e] of m.enumType.entries()) walkEnum(e, `${full}.${e.name}`, [...path, 4, i]);
    };
    const prefix = file.package ? `${file.package}.` : "";
    for (const [i, m] of file.messageType.entries()) walkMessage(m, `${prefix}${m.name}`, [4, i]);
    for (const [i, e] of file.enumType.entries()) walkEnum(e, `${prefix}${e.name}`, [5, i]);
  }
  return out;
}

// ---------------------------------------------------------------------------
// JSON Schema of the proto3 JSON mapping

/** `$ref` to a schema in `components.schemas`. */
export function schemaRef(typeName: string): JsonObject {
  return { $ref: `#/components/schemas/${typeName}` };
}

const INT32_RANGE = { minimum: -2147483648, maximum: 2147483647 };
const UINT32_RANGE = { minimum: 0, maximum: 4294967295 };

/** JSON Schema of a protobuf scalar in the proto3 JSON mapping. */
export function scalarSchema(t: ScalarType): JsonObject {
  switch (t) {
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return { type: "integer", format: "int32", ...INT32_RANGE };
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return { type: "integer", format: "uint32", ...UINT32_RANGE };
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return { type: "string", format: "int64", pattern: "^-?[0-9]+$" };
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return { type: "string", format: "uint64", pattern: "^[0-9]+$" };
    case ScalarType.FLOAT:
    case ScalarType.DOUBLE:
      return {
        oneOf: [{ type: "number" }, { type: "string", enum: ["NaN", "Infinity", "-Infinity"] }],
        format: t === ScalarType.FLOAT ? "float" : "double",
      };
    case ScalarType.BOOL:
      return { type: "boolean" };
    case ScalarType.STRING:
      return { type: "string" };
    case ScalarType.BYTES:
      return { type: "string", contentEncoding: "base64" };
  }
}

const WRAPPERS: Readonly<Record<string, ScalarType>> = {
  "google.protobuf.DoubleValue": ScalarType.DOUBLE,
  "google.protobuf.FloatValue": ScalarType.FLOAT,
  "google.protobuf.Int64Value": ScalarType.INT64,
  "google.protobuf.UInt64Value": ScalarType.UINT64,
  "google.protobuf.Int32Value": ScalarType.INT32,
  "google.protobuf.UInt32Value": ScalarType.UINT32,
  "google.protobuf.BoolValue": ScalarType.BOOL,
  "google.protobuf.StringValue": ScalarType.STRING,
  "google.protobuf.BytesValue": ScalarType.BYTES,
};

/**
 * Inline JSON Schema for a well-known type with a special JSON mapping, or
 * undefined for an ordinary message (referenced from `components.schemas`).
 */
export function wellKnownSchema(typeName: string): JsonObject | undefined {
  switch (typeName) {
    case "google.protobuf.Timestamp":
      return {
        type: "string",
        format: "date-time",
        description: "RFC 3339 instant in UTC (google.protobuf.Timestamp).",
      };
    case "google.protobuf.Duration":
      return {
        type: "string",
        pattern: "^-?[0-9]+(\\.[0-9]{1,9})?s$",
        description: "Seconds with an `s` suffix (google.protobuf.Duration).",
      };
    case "google.protobuf.FieldMask":
      return {
        type: "string",
        description: "Comma-separated lowerCamelCase paths (google.protobuf.FieldMask).",
      };
    case "google.protobuf.Struct":
      return { type: "object" };
    case "google.protobuf.ListValue":
      return { type: "array" };
    case "google.protobuf.Value":
      return {};
    case "google.protobuf.Empty":
      return { type: "object", properties: {} };
    case "google.protobuf.Any":
      return { type: "object", required: ["@type"], properties: { "@type": { type: "string" } } };
  }
  const wrapped = WRAPPERS[typeName];
  return wrapped === undefined ? undefined : { oneOf: [scalarSchema(wrapped), { type: "null" }] };
}

function enumSchemaRef(e: DescEnum): JsonObject {
  return e.typeName === "google.protobuf.NullValue" ? { type: "null" } : schemaRef(e.typeName);
}

function messageSchemaRef(m: DescMessage): JsonObject {
  return wellKnownSchema(m.typeName) ?? schemaRef(m.typeName);
}

function withDescription(schema: JsonObject, description: string | undefined): JsonObject {
  if (!description) return schema;
  // A $ref ignores its siblings (JSON Schema draft 7): wrap it to keep the description.
  if ("$ref" in schema) return { allOf: [schema], description };
  return {
    ...schema,
    description:
      typeof schema.description === "string" ? `${description} ${schema.description}` : description,
  };
}

function protoTypeOf(field: DescField): string {
  const kind =
    field.fieldKind === "list" ? field.listKind : field.fieldKind === "map" ? field.mapKind : field.fieldKind;
  let t: string;
  if (kind === "enum") t = field.enum!.typeName;
  else if (kind === "message") t = field.message!.typeName;
  else t = ScalarType[field.scalar!].toLowerCase();
  if (field.fieldKind === "list") return `repeated ${t}`;
  if (field.fieldKind === "map") return `map<${ScalarType[field.mapKey].toLowerCase()}, ${t}>`;
  return t;
}

/** JSON Schema of one field's value in the proto3 JSON mapping (without description). */
export function fieldValueSchema(field: DescField): JsonObject {
  switch (field.fieldKind) {
    case "scalar":
      return scalarSchema(field.scalar);
    case "enum":
      return enumSchemaRef(field.enum);
    case "message":
      return messageSchemaRef(field.message);
    case "list": {
      const items =
        field.listKind === "scalar"
          ? scalarSchema(field.scalar)
          : field.listKind === "enum"
            ? enumSchemaRef(field.enum)
            : messageSchemaRef(field.message);
      return { type: "array", items };
    }
    case "map": {
      const values =
        field.mapKind === "scalar"
          ? scalarSchema(field.scalar)
          : field.mapKind === "enum"
            ? enumSchemaRef(field.enum)
            : messageSchemaRef(field.message);
      const keyPattern =
        field.mapKey === ScalarType.STRING
          ? undefined
          : field.mapKey === ScalarType.BOOL
            ? "^(true|false)$"
            : "^-?[0-9]+$";
      return {
        type: "object",
        ...(keyPattern ? { propertyNames: { pattern: keyPattern } } : {}),
        additionalProperties: values,
      };
    }
  }
}

function fieldSchema(field: DescField, comments: CommentLookup): JsonObject {
  let description = comments(`${field.parent.typeName}.${field.name}`);
  if (field.oneof) {
    const note = `Member of oneof \`${field.oneof.name}\`: at most one of its fields is set.`;
    description = description ? `${description} ${note}` : note;
  }
  return {
    ...withDescription(fieldValueSchema(field), description),
    "x-protobuf-field": { name: field.name, number: field.number, type: protoTypeOf(field) },
  };
}

function enumSchema(e: DescEnum, comments: CommentLookup): JsonObject {
  const valueDescriptions: JsonObject = {};
  for (const v of e.values) {
    const c = comments(`${e.typeName}.${v.name}`);
    if (c) valueDescriptions[v.name] = c;
  }
  return {
    title: e.name,
    ...(comments(e.typeName) ? { description: comments(e.typeName)! } : {}),
    type: "string",
    enum: e.values.map((v) => v.name),
    "x-protobuf-enum": e.typeName,
    "x-enum-numbers": Object.fromEntries(e.values.map((v) => [v.name, v.number])),
    ...(Object.keys(valueDescriptions).length > 0 ? { "x-enum-descriptions": valueDescriptions } : {}),
  };
}

function messageSchema(m: DescMessage, comments: CommentLookup): JsonObject {
  const properties: JsonObject = {};
  for (const f of m.fields) properties[f.jsonName] = fieldSchema(f, comments);
  return {
    title: m.name,
    ...(comments(m.typeName) ? { description: comments(m.typeName)! } : {}),
    type: "object",
    "x-protobuf-message": m.typeName,
    properties,
  };
}

/**
 * JSON Schemas of `roots` and of every message and enum they reference
 * (transitively), keyed by full proto name and sorted; well-known types with a
 * special JSON mapping are inlined, not listed.
 */
export function collectSchemas(
  roots: readonly DescMessage[],
  comments: CommentLookup,
): Record<string, JsonObject> {
  const out = new Map<string, JsonObject>();
  const visitEnum = (e: DescEnum) => {
    if (e.typeName !== "google.protobuf.NullValue" && !out.has(e.typeName))
      out.set(e.typeName, enumSchema(e, comments));
  };
  const visitMessage = (m: DescMessage) => {
    if (wellKnownSchema(m.typeName) || out.has(m.typeName)) return;
    out.set(m.typeName, messageSchema(m, comments));
    for (const f of m.fields) {
      if (f.enum) visitEnum(f.enum);
      if (f.message) visitMessage(f.message);
    }
  };
  roots.forEach(visitMessage);
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
  "Generated from the protos and the topic registry by `pnpm gen:asyncapi`; do not edit by hand.",
].join("\n");

/** Builds the AsyncAPI 3.0.0 document of `input.topics`. Pure and deterministic. */
export function generateAsyncApi(input: AsyncApiInput): JsonObject {
  const { topics, comments } = input;
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
    const summary = eventSummary(spec.schema, comments(type));
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
        comments,
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
