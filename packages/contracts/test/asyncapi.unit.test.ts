import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  create,
  type DescEnum,
  type DescField,
  type DescMessage,
  type Message,
  ScalarType,
  toBinary,
  toJson,
} from "@bufbuild/protobuf";
import { type ReflectList, type ReflectMap, reflect } from "@bufbuild/protobuf/reflect";
import { FileDescriptorSetSchema, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { beforeAll, describe, expect, it } from "vitest";
// The real envelope encoder: the document must describe what the bus actually sends.
import { encodeEvent } from "../../bus/src/envelope";
import {
  ASYNCAPI_PATH,
  EVENTS_GUIDE_PATH,
  loadProtoComments,
  renderGenerated,
  repoRoot,
} from "../scripts/gen-asyncapi";
import {
  commentsFromImage,
  DEAD_LETTER_HEADERS,
  generateAsyncApi,
  type Json,
  type JsonObject,
  PRODUCER_BY_DOMAIN,
  TOPIC_CONSUMERS,
  topicsTable,
} from "../src/asyncapi";
import { allTopics, type TopicSpec, Topics } from "../src/topics";

// ---------------------------------------------------------------------------
// A small JSON Schema checker for the subset the document uses.

type Schemas = Record<string, JsonObject>;

function typeOk(type: string, v: unknown): boolean {
  switch (type) {
    case "string":
      return typeof v === "string";
    case "integer":
      return typeof v === "number" && Number.isInteger(v);
    case "number":
      return typeof v === "number";
    case "boolean":
      return typeof v === "boolean";
    case "null":
      return v === null;
    case "array":
      return Array.isArray(v);
    case "object":
      return typeof v === "object" && v !== null && !Array.isArray(v);
    default:
      throw new Error(`unsupported type ${type}`);
  }
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Errors of `value` against `schema` (empty when valid). */
function validate(schemas: Schemas, schema: Json, value: unknown, path = "$"): string[] {
  const s = schema as JsonObject;
  if (typeof s.$ref === "string") {
    const target = schemas[s.$ref.replace("#/components/schemas/", "")];
    if (!target) return [`${path}: dangling $ref ${s.$ref}`];
    return validate(schemas, target, value, path);
  }
  const errors: string[] = [];
  for (const sub of (s.allOf as Json[] | undefined) ?? [])
    errors.push(...validate(schemas, sub, value, path));
  if (s.oneOf) {
    const matching = (s.oneOf as Json[]).filter(
      (sub) => validate(schemas, sub, value, path).length === 0,
    ).length;
    if (matching !== 1) errors.push(`${path}: matches ${matching} branches of oneOf`);
  }
  if (typeof s.type === "string" && !typeOk(s.type, value))
    return [...errors, `${path}: expected ${s.type}, got ${JSON.stringify(value)}`];
  if ("const" in s && value !== s.const)
    errors.push(`${path}: expected const ${JSON.stringify(s.const)}, got ${JSON.stringify(value)}`);
  if (Array.isArray(s.enum) && !s.enum.includes(value as Json))
    errors.push(`${path}: ${JSON.stringify(value)} not in enum`);
  if (typeof value === "string") {
    if (typeof s.pattern === "string" && !new RegExp(s.pattern).test(value))
      errors.push(`${path}: ${value} does not match ${s.pattern}`);
    if (typeof s.minLength === "number" && value.length < s.minLength)
      errors.push(`${path}: shorter than ${s.minLength}`);
    if (s.format === "date-time" && !(RFC3339.test(value) && !Number.isNaN(Date.parse(value))))
      errors.push(`${path}: ${value} is not a date-time`);
    if (s.contentEncoding === "base64" && !BASE64.test(value)) errors.push(`${path}: not base64`);
  }
  if (typeof value === "number") {
    if (typeof s.minimum === "number" && value < s.minimum) errors.push(`${path}: below ${s.minimum}`);
    if (typeof s.maximum === "number" && value > s.maximum) errors.push(`${path}: above ${s.maximum}`);
  }
  if (Array.isArray(value) && s.items)
    for (const [i, v] of value.entries()) errors.push(...validate(schemas, s.items!, v, `${path}[${i}]`));
  if (typeOk("object", value) && (s.type === "object" || s.properties)) {
    const obj = value as Record<string, unknown>;
    for (const r of (s.required as string[] | undefined) ?? [])
      if (!(r in obj)) errors.push(`${path}: missing ${r}`);
    const props = (s.properties as JsonObject | undefined) ?? {};
    for (const [k, v] of Object.entries(obj)) {
      if (k in props) errors.push(...validate(schemas, props[k]!, v, `${path}.${k}`));
      else if (s.additionalProperties === false) errors.push(`${path}: unexpected ${k}`);
      else if (typeof s.additionalProperties === "object")
        errors.push(...validate(schemas, s.additionalProperties, v, `${path}.${k}`));
    }
  }
  return errors;
}

// ---------------------------------------------------------------------------
// Sample events with every field set to a non-default value.

function scalarSample(t: ScalarType, longAsString: boolean): unknown {
  switch (t) {
    case ScalarType.STRING:
      return "sample";
    case ScalarType.BOOL:
      return true;
    case ScalarType.BYTES:
      return new Uint8Array([1, 2, 250]);
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return 1.5;
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return longAsString ? "-1234567890123" : -1234567890123n;
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return longAsString ? "1234567890123" : 1234567890123n;
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return 42;
    default:
      return -42;
  }
}

function enumSample(e: DescEnum): number {
  return (e.values[1] ?? e.values[0]!).number;
}

function sample(desc: DescMessage, depth = 0): Message {
  if (desc.typeName === "google.protobuf.Timestamp")
    return timestampFromDate(new Date("2024-05-06T07:08:09.123Z"));
  const r = reflect(desc);
  for (const f of desc.fields) {
    if (f.oneof && f.oneof.fields[0] !== f) continue; // one member per oneof
    switch (f.fieldKind) {
      case "scalar":
        r.set(f, scalarSample(f.scalar, f.longAsString));
        break;
      case "enum":
        r.set(f, enumSample(f.enum));
        break;
      case "message":
        if (depth < 4) r.set(f, reflect(f.message, sample(f.message, depth + 1)));
        break;
      case "list": {
        const list = r.get(f) as ReflectList;
        for (let i = 0; i < 2; i++) {
          if (f.listKind === "scalar") list.add(scalarSample(f.scalar, f.longAsString));
          else if (f.listKind === "enum") list.add(enumSample(f.enum));
          else if (depth < 4) list.add(reflect(f.message, sample(f.message, depth + 1)));
        }
        break;
      }
      case "map": {
        const map = r.get(f) as ReflectMap;
        const key =
          f.mapKey === ScalarType.STRING
            ? "k"
            : f.mapKey === ScalarType.BOOL
              ? true
              : scalarSample(f.mapKey, false);
        if (f.mapKind === "scalar") map.set(key, scalarSample(f.scalar, false));
        else if (f.mapKind === "enum") map.set(key, enumSample(f.enum));
        else if (depth < 4) map.set(key, reflect(f.message, sample(f.message, depth + 1)));
        break;
      }
    }
  }
  return r.message;
}

// ---------------------------------------------------------------------------

function resolve(schemas: Schemas, s: JsonObject): JsonObject {
  if (Array.isArray(s.allOf) && s.allOf.length === 1) return resolve(schemas, s.allOf[0] as JsonObject);
  if (typeof s.$ref === "string") return schemas[s.$ref.replace("#/components/schemas/", "")] ?? {};
  return s;
}

const INT32 = new Set([
  ScalarType.INT32,
  ScalarType.SINT32,
  ScalarType.SFIXED32,
  ScalarType.UINT32,
  ScalarType.FIXED32,
]);
const INT64 = new Set([
  ScalarType.INT64,
  ScalarType.SINT64,
  ScalarType.SFIXED64,
  ScalarType.UINT64,
  ScalarType.FIXED64,
]);

/** Asserts that a value schema matches what the proto3 JSON mapping makes of a field's kind. */
function expectKind(
  schemas: Schemas,
  where: string,
  s: JsonObject,
  kind: "scalar" | "enum" | "message",
  f: DescField,
) {
  if (kind === "scalar") {
    const t = f.scalar!;
    if (INT32.has(t)) expect(s.type, where).toBe("integer");
    else if (INT64.has(t)) {
      expect(s.type, where).toBe("string");
      expect(
        new RegExp(String(s.pattern)).test("-9223372036854775808") ||
          new RegExp(String(s.pattern)).test("18446744073709551615"),
        where,
      ).toBe(true);
      expect(new RegExp(String(s.pattern)).test("1.5"), where).toBe(false);
    } else if (t === ScalarType.DOUBLE || t === ScalarType.FLOAT)
      expect(JSON.stringify(s.oneOf), where).toContain('"number"');
    else if (t === ScalarType.BOOL) expect(s.type, where).toBe("boolean");
    else if (t === ScalarType.STRING) expect(s.type, where).toBe("string");
    else if (t === ScalarType.BYTES) expect([s.type, s.contentEncoding], where).toEqual(["string", "base64"]);
  } else if (kind === "enum") {
    const e = resolve(schemas, s);
    expect(e.type, where).toBe("string");
    expect(e.enum, where).toEqual(f.enum!.values.map((v) => v.name));
  } else if (f.message!.typeName === "google.protobuf.Timestamp") {
    expect([s.type, s.format], where).toEqual(["string", "date-time"]);
  } else {
    expect(resolve(schemas, s)["x-protobuf-message"], where).toBe(f.message!.typeName);
  }
}

describe("AsyncAPI document (docs/asyncapi.json)", () => {
  let comments: Map<string, string>;
  let doc: JsonObject;
  let schemas: Schemas;
  const channels = () => doc.channels as Record<string, JsonObject>;
  const messages = () => (doc.components as { messages: Record<string, JsonObject> }).messages;
  const channelOf = (spec: TopicSpec) => Object.entries(channels()).find(([, c]) => c.address === spec.topic);
  const messageOf = (spec: TopicSpec) => {
    const [, ch] = channelOf(spec)!;
    const ref = Object.values(ch.messages as Record<string, { $ref: string }>)[0]!.$ref;
    return messages()[ref.replace("#/components/messages/", "")]!;
  };

  beforeAll(() => {
    comments = loadProtoComments();
    doc = generateAsyncApi({ topics: allTopics, comments: (n) => comments.get(n) });
    schemas = (doc.components as { schemas: Schemas }).schemas;
  });

  it("is up to date: docs/asyncapi.json and the topics table of docs/events.md (run `pnpm gen:asyncapi` when this fails)", () => {
    const committedGuide = readFileSync(join(repoRoot, EVENTS_GUIDE_PATH), "utf8");
    const fresh = renderGenerated(comments, committedGuide);
    for (const path of [ASYNCAPI_PATH, EVENTS_GUIDE_PATH]) {
      const committed = readFileSync(join(repoRoot, path), "utf8");
      expect(committed === fresh[path], `${path} is stale: run \`pnpm gen:asyncapi\``).toBe(true);
    }
  });

  it("is an AsyncAPI 3.0.0 document with a local and a parameterised production Kafka server", () => {
    expect(doc.asyncapi).toBe("3.0.0");
    const servers = doc.servers as Record<string, JsonObject>;
    expect(Object.values(servers).map((s) => s.protocol)).toEqual(["kafka", "kafka"]);
    expect(servers.production!.host).toBe("{bootstrap}");
    expect(Object.keys(servers.production!.variables as JsonObject)).toEqual(["bootstrap"]);
  });

  it("has exactly one channel per registry topic, addressed by the topic, with a send operation by the producing service", () => {
    expect(
      Object.values(channels())
        .map((c) => c.address)
        .sort(),
    ).toEqual(allTopics.map((t) => t.topic).sort());
    const operations = Object.values(doc.operations as Record<string, JsonObject>);
    expect(operations).toHaveLength(allTopics.length);
    for (const spec of allTopics) {
      const [id] = channelOf(spec)!;
      const ops = operations.filter((o) => (o.channel as JsonObject).$ref === `#/channels/${id}`);
      expect(ops, spec.topic).toHaveLength(1);
      expect(ops[0]!.action).toBe("send");
      expect(ops[0]!["x-producer"]).toBe(PRODUCER_BY_DOMAIN[spec.domain]);
      const consumers = ops[0]!["x-consumers"] as string[];
      for (const c of consumers) expect(String(ops[0]!.description)).toContain(`**${c}**`);
      const msg = messageOf(spec);
      expect(msg.contentType).toBe("application/protobuf");
      expect(msg["x-protobuf-message"]).toBe(spec.schema.typeName);
      expect(msg.payload).toEqual({ $ref: `#/components/schemas/${spec.schema.typeName}` });
      expect(String(msg.description)).toContain("canonical proto3 JSON mapping");
      const kafka = (msg.bindings as { kafka: { key: JsonObject } }).kafka;
      expect(kafka.key.type).toBe("string");
      expect(kafka.key.description).toEqual(
        spec === Topics.BureauFileGenerated ? expect.stringContaining("as-of date") : "account id",
      );
      const headers = (msg.headers as { properties: Record<string, JsonObject> }).properties;
      expect(headers.ce_type!.const).toBe(spec.schema.typeName);
      expect(headers.ce_source!.const).toBe(`//whiteslip/${spec.domain}`);
      expect(headers["content-type"]!.const).toBe("application/protobuf");
    }
    // Every service listed as consumer is a real one, and the registry map covers every topic.
    const services = new Set(Object.values(PRODUCER_BY_DOMAIN));
    for (const list of Object.values(TOPIC_CONSUMERS))
      for (const c of list) expect(services.has(c)).toBe(true);
    expect(Object.keys(TOPIC_CONSUMERS).sort()).toEqual(Object.keys(Topics).sort());
  });

  it("describes every field of every payload (recursively) by JSON name with a type consistent with the proto field", () => {
    const seen = new Set<string>();
    const walk = (m: DescMessage) => {
      if (m.typeName.startsWith("google.protobuf.") || seen.has(m.typeName)) return;
      seen.add(m.typeName);
      const s = schemas[m.typeName];
      expect(s, `schema of ${m.typeName}`).toBeDefined();
      expect(s!["x-protobuf-message"]).toBe(m.typeName);
      expect(s!.description, `doc comment of ${m.typeName}`).toEqual(expect.any(String));
      const props = s!.properties as Record<string, JsonObject>;
      expect(Object.keys(props).sort(), m.typeName).toEqual(m.fields.map((f) => f.jsonName).sort());
      for (const f of m.fields) {
        const where = `${m.typeName}.${f.name}`;
        const p = props[f.jsonName]!;
        expect(p.description, `doc comment of ${where}`).toEqual(expect.any(String));
        expect((p["x-protobuf-field"] as JsonObject).number, where).toBe(f.number);
        if (f.fieldKind === "list") {
          expect(p.type, where).toBe("array");
          expectKind(schemas, where, p.items as JsonObject, f.listKind, f);
        } else if (f.fieldKind === "map") {
          expect(p.type, where).toBe("object");
          expectKind(schemas, where, p.additionalProperties as JsonObject, f.mapKind, f);
        } else {
          expectKind(schemas, where, p, f.fieldKind, f);
        }
        if (f.message) walk(f.message);
        if (f.enum) seen.add(f.enum.typeName);
      }
    };
    for (const t of allTopics) walk(t.schema);
    // Nothing extra: every schema is a payload or something a payload references.
    expect(Object.keys(schemas).sort()).toEqual([...seen].sort());
  });

  it("carries the proto doc comments (read from the buf image, not the generated code)", () => {
    const dueSoon = schemas["whiteslip.billing.v1.DueSoon"]!;
    expect((dueSoon.properties as Record<string, JsonObject>).daysUntilDue!.description).toBe(
      "Days from the business date to the due date (the reminder offset).",
    );
    expect(String(channelOf(Topics.Overdue)![1].summary)).toMatch(
      /^The account is overdue at the business date\. Emitted on the first day/,
    );
    expect(String(channelOf(Topics.Overdue)![1].summary)).not.toContain("Topic `");
  });

  it("validates a real event from @whiteslip/bus encodeEvent: headers against the channel's headers schema, payload JSON against the payload schema", () => {
    const event = encodeEvent(Topics.DueSoon, {
      id: "due-soon:S-1:5",
      key: "A-1",
      time: new Date("2024-05-06T00:00:00Z"),
      subject: "S-1",
      data: {
        accountId: "A-1",
        customerId: "C-1",
        statementId: "S-1",
        dueDate: "2024-05-11",
        daysUntilDue: 5,
        amountDueFen: 123_45n,
      },
    });
    const msg = messageOf(Topics.DueSoon);
    const headersSchema = msg.headers as JsonObject;
    const withTrace = {
      ...event.headers,
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    };
    expect(validate(schemas, headersSchema, withTrace)).toEqual([]);
    // Every header the bus writes is documented.
    expect(Object.keys(headersSchema.properties as JsonObject)).toEqual(
      expect.arrayContaining(Object.keys(event.headers)),
    );
    // The checker can fail: wrong type, missing id, bad time.
    expect(
      validate(schemas, headersSchema, { ...event.headers, ce_type: "whiteslip.billing.v1.Overdue" }),
    ).toHaveLength(1);
    const { ce_id: _, ...noId } = event.headers;
    expect(validate(schemas, headersSchema, noId)).toEqual(["$: missing ce_id"]);
    expect(validate(schemas, headersSchema, { ...event.headers, ce_time: "yesterday" })).toHaveLength(1);

    const payload = toJson(
      Topics.DueSoon.schema,
      create(Topics.DueSoon.schema, { accountId: "A-1", amountDueFen: 12345n, daysUntilDue: 5 }),
    );
    expect(validate(schemas, msg.payload as JsonObject, payload)).toEqual([]);
    expect(
      validate(schemas, msg.payload as JsonObject, { ...(payload as JsonObject), amountDueFen: 12345 }),
    ).toHaveLength(1);
  });

  it("accepts, for every topic, an event with every field set: bus headers and the payload's JSON mapping", () => {
    for (const spec of allTopics) {
      const data = sample(spec.schema);
      const event = encodeEvent(spec, {
        id: `id-${spec.topic}`,
        key: "A-1",
        time: new Date("2024-05-06T00:00:00Z"),
        data: data as never,
      });
      expect(toBinary(spec.schema, data), spec.topic).toEqual(event.value);
      const msg = messageOf(spec);
      expect(validate(schemas, msg.headers as JsonObject, event.headers), spec.topic).toEqual([]);
      const json = toJson(spec.schema, data);
      expect(validate(schemas, msg.payload as JsonObject, json), spec.topic).toEqual([]);
      // The sample really exercised the schema: every top-level field is present in the JSON.
      expect(Object.keys(json as JsonObject).sort(), spec.topic).toEqual(
        spec.schema.fields
          .filter((f) => !f.oneof || f.oneof.fields[0] === f)
          .map((f) => f.jsonName)
          .sort(),
      );
    }
  });

  it("documents the dead-letter headers the bus writes", () => {
    const bus = readFileSync(join(repoRoot, "packages/bus/src/dead-letter.ts"), "utf8");
    const written = [...new Set([...bus.matchAll(/"(dlq_[a-z_]+)"/g)].map((m) => m[1]!))].sort();
    expect(written.length).toBeGreaterThan(0);
    expect(Object.keys(DEAD_LETTER_HEADERS).sort()).toEqual(written);
    const dl = messages().DeadLetter!;
    expect(Object.keys((dl.headers as JsonObject).properties as JsonObject).sort()).toEqual(written);
  });

  it("renders the events.md topics table from the document, one row per topic", () => {
    const table = topicsTable(doc).split("\n");
    expect(table).toHaveLength(allTopics.length + 2);
    for (const spec of allTopics) {
      const row = table.find((r) => r.startsWith(`| \`${spec.topic}\` |`));
      expect(row, spec.topic).toContain(`\`${spec.schema.typeName}\``);
      const consumers =
        TOPIC_CONSUMERS[(Object.keys(Topics) as (keyof typeof Topics)[]).find((k) => Topics[k] === spec)!];
      expect(row).toContain(
        `| ${PRODUCER_BY_DOMAIN[spec.domain]} | ${consumers.length > 0 ? consumers.join(", ") : "—"} |`,
      );
    }
  });
});

describe("commentsFromImage", () => {
  it("reads leading comments of messages, fields, nested types, enums and enum values by source path", () => {
    const loc = (path: number[], leadingComments: string) => ({ path, leadingComments });
    const image = toBinary(
      FileDescriptorSetSchema,
      create(FileDescriptorSetSchema, {
        file: [
          {
            name: "x.proto",
            package: "p.v1",
            messageType: [
              { name: "Skip" },
              {
                name: "Outer",
                field: [{ name: "a" }, { name: "b" }],
                nestedType: [{ name: "Inner", field: [{ name: "c" }] }],
                enumType: [{ name: "Kind", value: [{ name: "KIND_UNSPECIFIED" }] }],
              },
            ],
            enumType: [{ name: "Top", value: [{ name: "TOP_UNSPECIFIED" }, { name: "TOP_ONE" }] }],
            sourceCodeInfo: {
              location: [
                loc([4, 1], " Outer is\n a message.\n\n Second paragraph.\n"),
                loc([4, 1, 2, 1], " Field b.\n"),
                loc([4, 1, 3, 0], " Inner.\n"),
                loc([4, 1, 3, 0, 2, 0], " Field c.\n"),
                loc([4, 1, 4, 0, 2, 0], " Nested value.\n"),
                loc([5, 0], " Top enum.\n"),
                loc([5, 0, 2, 1], " One.\n"),
                loc([4, 0, 2, 0], "   \n"),
              ],
            },
          },
        ],
      }),
    );
    expect(Object.fromEntries(commentsFromImage(image))).toEqual({
      "p.v1.Outer": "Outer is a message.\n\nSecond paragraph.",
      "p.v1.Outer.b": "Field b.",
      "p.v1.Outer.Inner": "Inner.",
      "p.v1.Outer.Inner.c": "Field c.",
      "p.v1.Outer.Kind.KIND_UNSPECIFIED": "Nested value.",
      "p.v1.Top": "Top enum.",
      "p.v1.Top.TOP_ONE": "One.",
    });
  });
});
