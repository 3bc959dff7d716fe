import { type DescMessage, fromBinary, type MessageInitShape, type MessageShape, create, toBinary } from "@bufbuild/protobuf";
import { context, propagation } from "@opentelemetry/api";
import type { TopicSpec } from "@whiteslip/contracts";
import type { FieldViolation } from "@whiteslip/core";

/**
 * CloudEvents 1.0 in Kafka binary content mode: attributes travel as `ce_*`
 * headers, the data is the protobuf-encoded payload, `content-type` is
 * `application/protobuf`. See https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/kafka-protocol-binding.md
 */
export const CONTENT_TYPE = "application/protobuf";
export const SPEC_VERSION = "1.0";

/** An event ready to be produced (or stored in an outbox and produced later). */
export interface OutgoingEvent {
  /** Kafka topic. */
  topic: string;
  /** Message key: the account id, so one account's events stay ordered. */
  key: string;
  /** Protobuf-encoded payload. */
  value: Uint8Array;
  /** CloudEvents and tracing headers. */
  headers: Record<string, string>;
}

/** A consumed event with its decoded payload. */
export interface EventEnvelope<S extends DescMessage = DescMessage> {
  id: string;
  type: string;
  source: string;
  time: Date;
  subject?: string;
  key: string;
  topic: string;
  partition: number;
  offset: string;
  data: MessageShape<S>;
  headers: Record<string, string>;
}

/** Builds the CloudEvent for a fact. `id` must be deterministic for the fact. */
export function encodeEvent<S extends DescMessage>(
  spec: TopicSpec<S>,
  args: { id: string; key: string; time: Date; data: MessageInitShape<S>; subject?: string },
): OutgoingEvent {
  if (!args.id) throw new RangeError("event id is required");
  if (!args.key) throw new RangeError(`event key (account id) is required for ${spec.topic}`);
  const headers: Record<string, string> = {
    ce_specversion: SPEC_VERSION,
    ce_id: args.id,
    ce_source: `//whiteslip/${spec.domain}`,
    ce_type: spec.schema.typeName,
    ce_time: args.time.toISOString(),
    ce_dataschema: `urn:proto:${spec.schema.typeName}`,
    "content-type": CONTENT_TYPE,
  };
  if (args.subject) headers.ce_subject = args.subject;
  // The trace of the work that made the event travels with it (W3C traceparent), also through an outbox: the relay
  // publishes later, outside that work, and the stored headers win over its own (EventBus.publish).
  propagation.inject(context.active(), headers);
  const message = create(spec.schema, args.data);
  // A fact that breaks its topic's contract is a bug of its producer: refused here, before it is staged or sent,
  // rather than dead-lettered by every consumer later.
  const violations = spec.violations?.(message) ?? [];
  if (violations.length > 0) throw new ContractViolationError(spec.topic, args.id, violations);
  return { topic: spec.topic, key: args.key, value: toBinary(spec.schema, message), headers };
}

/** A producer tried to publish a payload that breaks its topic's content rules (packages/contracts rules.ts). */
export class ContractViolationError extends Error {
  override readonly name = "ContractViolationError";
  constructor(
    readonly topic: string,
    readonly eventId: string,
    readonly violations: FieldViolation[],
  ) {
    super(`event ${eventId} breaks the contract of ${topic}: ${violations.map((v) => `${v.field} ${v.description}`).join("; ")}`);
  }
}

/** Why a message could not be turned into an event. */
export class UndecodableEventError extends Error {
  override readonly name = "UndecodableEventError";
}

/** Reads headers and payload of a consumed message; throws UndecodableEventError when it is not a valid event of `spec`. */
export function decodeEvent<S extends DescMessage>(
  spec: TopicSpec<S>,
  msg: {
    topic: string;
    partition: number;
    offset: string;
    key: Buffer | null;
    value: Buffer | null;
    headers: Record<string, string>;
  },
): EventEnvelope<S> {
  const h = msg.headers;
  for (const name of ["ce_id", "ce_type", "ce_source", "ce_specversion"]) {
    if (!h[name]) throw new UndecodableEventError(`missing header ${name}`);
  }
  if (h.ce_specversion !== SPEC_VERSION) throw new UndecodableEventError(`unsupported ce_specversion ${h.ce_specversion}`);
  if (h.ce_type !== spec.schema.typeName) {
    throw new UndecodableEventError(`ce_type ${h.ce_type} does not match topic schema ${spec.schema.typeName}`);
  }
  if (h["content-type"] && h["content-type"] !== CONTENT_TYPE) {
    throw new UndecodableEventError(`unsupported content-type ${h["content-type"]}`);
  }
  if (!msg.value) throw new UndecodableEventError("empty payload");
  let data: MessageShape<S>;
  try {
    data = fromBinary(spec.schema, msg.value);
  } catch (e) {
    throw new UndecodableEventError(`payload is not a ${spec.schema.typeName}: ${(e as Error).message}`);
  }
  const time = h.ce_time ? new Date(h.ce_time) : new Date(0);
  return {
    id: h.ce_id!,
    type: h.ce_type!,
    source: h.ce_source!,
    time: Number.isNaN(time.getTime()) ? new Date(0) : time,
    ...(h.ce_subject ? { subject: h.ce_subject } : {}),
    key: msg.key?.toString("utf8") ?? "",
    topic: msg.topic,
    partition: msg.partition,
    offset: msg.offset,
    data,
    headers: h,
  };
}

/** Kafka header values (Buffer | string | array) to plain strings. */
export function headersToStrings(headers: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined || v === null) continue;
    const first = Array.isArray(v) ? v[0] : v;
    out[k] = Buffer.isBuffer(first) ? first.toString("utf8") : String(first);
  }
  return out;
}
