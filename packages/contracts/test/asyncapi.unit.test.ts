import { readFileSync } from "node:fs";
import { join } from "node:path";
import { specs } from "./support/asyncapi-specs";
import { create, type DescEnum, type DescMessage, type Message, ScalarType, toBinary, toJson } from "@bufbuild/protobuf";
import { type ReflectList, type ReflectMap, reflect } from "@bufbuild/protobuf/reflect";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import Ajv, { type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { beforeAll, describe, expect, it } from "vitest";
// The real envelope encoder: the document must describe what the bus actually sends.
import { encodeEvent } from "../../bus/src/envelope";
import { ASYNCAPI_PATH, repoRoot } from "../scripts/gen-asyncapi";
import { DEAD_LETTER_HEADERS, type JsonObject, PRODUCER_BY_DOMAIN, TOPIC_CONSUMERS, topicsTable } from "../src/asyncapi";
import { allTopics, type TopicSpec, Topics } from "../src/topics";

// ---------------------------------------------------------------------------
// A real JSON Schema validator (Ajv, draft-07 like AsyncAPI 3.0's Schema Object, with the formats).

type Schemas = Record<string, JsonObject>;

function newAjv(opts: { meta?: boolean } = {}): Ajv {
  // strict off: the document's schemas carry x-* extensions, which JSON Schema allows
  const ajv = new Ajv({ strict: false, allErrors: true, ...(opts.meta === false ? { meta: false, validateSchema: false } : {}) });
  addFormats(ajv);
  return ajv;
}

/** Ajv's errors as `path: message` lines (empty when valid). */
function errorsOf(v: ValidateFunction, value: unknown): string[] {
  return v(value) ? [] : (v.errors ?? []).map((e) => `${e.instancePath || "$"}: ${e.message}`);
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

describe("AsyncAPI document (docs/asyncapi.json)", () => {
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

  let ajv: Ajv;
  const compiled = new Map<string, ValidateFunction>();
  /** Validator of a payload schema (`#/components/schemas/…` resolved within the document) or a self-contained schema. */
  const validatorOf = (schema: JsonObject): ValidateFunction => {
    const key = JSON.stringify(schema);
    let v = compiled.get(key);
    if (!v) {
      const ref = typeof schema.$ref === "string" ? schema.$ref : undefined;
      v = ref ? ajv.compile({ $ref: `urn:whiteslip:events${ref}` }) : ajv.compile(schema);
      compiled.set(key, v);
    }
    return v;
  };
  const validate = (schema: JsonObject, value: unknown) => errorsOf(validatorOf(schema), value);

  beforeAll(() => {
    // the committed document (asyncapi.int.test.ts checks it is what the generator makes from the protos now)
    doc = JSON.parse(readFileSync(join(repoRoot, ASYNCAPI_PATH), "utf8")) as JsonObject;
    schemas = (doc.components as { schemas: Schemas }).schemas;
    ajv = newAjv();
    ajv.addSchema({ $id: "urn:whiteslip:events", components: doc.components as JsonObject });
  });

  it("is valid against the AsyncAPI 3.0.0 JSON Schema (@asyncapi/specs), which rejects a broken document", () => {
    // the AsyncAPI schema embeds JSON Schema draft-07's meta-schema under its own $id: Ajv's copy left out
    const meta = newAjv({ meta: false }).compile(specs.schemas["3.0.0"] as object);
    expect(errorsOf(meta, doc)).toEqual([]);
    const broken = structuredClone(doc) as { channels: Record<string, JsonObject>; operations: Record<string, JsonObject> };
    broken.channels.DueSoon!.address = 42;
    broken.operations.sendDueSoon!.action = "publish"; // AsyncAPI 2's verb
    expect(errorsOf(meta, broken).length).toBeGreaterThan(0);
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
      expect(String(msg.description)).toContain("proto3 JSON mapping");
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

  it("holds the generated schema of every payload and of every message it references, each field by JSON name", () => {
    const seen = new Set<string>();
    const walk = (m: DescMessage) => {
      if (seen.has(m.typeName)) return;
      seen.add(m.typeName);
      const s = schemas[m.typeName];
      expect(s, `schema of ${m.typeName}`).toBeDefined();
      expect(s!["x-protobuf-message"]).toBe(m.typeName);
      if (m.typeName.startsWith("google.protobuf.")) return;
      expect(s!.description, `doc comment of ${m.typeName}`).toEqual(expect.any(String));
      const props = s!.properties as Record<string, JsonObject>;
      expect(Object.keys(props).sort(), m.typeName).toEqual(m.fields.map((f) => f.jsonName).sort());
      for (const f of m.fields) {
        expect(props[f.jsonName]!.description, `doc comment of ${m.typeName}.${f.name}`).toEqual(expect.any(String));
        if (f.message) walk(f.message);
      }
    };
    for (const t of allTopics) walk(t.schema);
    // Nothing extra: every schema is a payload or something a payload references, and every $ref lands.
    expect(Object.keys(schemas).sort()).toEqual([...seen].sort());
    for (const ref of JSON.stringify(schemas).matchAll(/"\$ref":"([^"]+)"/g))
      expect(schemas[ref[1]!.replace("#/components/schemas/", "")], ref[1]).toBeDefined();
  });

  it("carries the proto doc comments (protoc-gen-jsonschema reads them from the protos)", () => {
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
    expect(validate(headersSchema, withTrace)).toEqual([]);
    // Every header the bus writes is documented.
    expect(Object.keys(headersSchema.properties as JsonObject)).toEqual(
      expect.arrayContaining(Object.keys(event.headers)),
    );
    // The checker can fail: wrong type, missing id, bad time.
    expect(validate(headersSchema, { ...event.headers, ce_type: "whiteslip.billing.v1.Overdue" })).toEqual([
      "/ce_type: must be equal to constant",
    ]);
    const { ce_id: _, ...noId } = event.headers;
    expect(validate(headersSchema, noId)).toEqual(["$: must have required property 'ce_id'"]);
    expect(validate(headersSchema, { ...event.headers, ce_time: "yesterday" })).toEqual(['/ce_time: must match format "date-time"']);

    const payload = toJson(
      Topics.DueSoon.schema,
      create(Topics.DueSoon.schema, { accountId: "A-1", amountDueFen: 12345n, daysUntilDue: 5 }),
    );
    expect(validate(msg.payload as JsonObject, payload)).toEqual([]);
    // what a proto3 JSON parser accepts besides: a number for an int64, the proto field name
    expect(validate(msg.payload as JsonObject, { ...(payload as JsonObject), amountDueFen: 12345 })).toEqual([]);
    expect(validate(msg.payload as JsonObject, { account_id: "A-1" })).toEqual([]);
    // and what it refuses: a fraction for an int64, an unknown field, an enum value the enum lacks
    expect(validate(msg.payload as JsonObject, { ...(payload as JsonObject), amountDueFen: "123.45" }).length).toBeGreaterThan(0);
    expect(validate(msg.payload as JsonObject, { ...(payload as JsonObject), amountDue: "1" }).length).toBeGreaterThan(0);
    const overdue = messageOf(Topics.Overdue).payload as JsonObject;
    expect(validate(overdue, { accountId: "A-1", bucket: "DELINQUENCY_BUCKET_M1" })).toEqual([]);
    expect(validate(overdue, { accountId: "A-1", bucket: "DELINQUENCY_BUCKET_M9" }).length).toBeGreaterThan(0);
  });

  it("accepts, for every topic, an event with every field set: bus headers and the payload's JSON mapping", () => {
    for (const spec of allTopics) {
      const data = sample(spec.schema);
      // the sample fills every field with extreme values to exercise the JSON mapping, not the content rules
      // (rules.ts, which encodeEvent would hold it to; their own test is rules.unit.test.ts)
      const event = encodeEvent({ ...spec, violations: undefined }, {
        id: `id-${spec.topic}`,
        key: "A-1",
        time: new Date("2024-05-06T00:00:00Z"),
        data: data as never,
      });
      expect(toBinary(spec.schema, data), spec.topic).toEqual(event.value);
      const msg = messageOf(spec);
      expect(validate(msg.headers as JsonObject, event.headers), spec.topic).toEqual([]);
      const json = toJson(spec.schema, data);
      expect(validate(msg.payload as JsonObject, json), spec.topic).toEqual([]);
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
