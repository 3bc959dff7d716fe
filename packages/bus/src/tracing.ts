import { type Context, context, type Link, propagation, type Span, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";

const tracer = trace.getTracer("whiteslip.bus");

/** Where a consumed event sits: its topic, group, offset and id. */
export interface Consumed {
  topic: string;
  groupId: string;
  offset: string;
  eventId: string;
  headers: Record<string, string>;
}

/**
 * The process span of one consumed event, a child of the `traceparent` the event carries (the work that made it,
 * stored with it in the producer's outbox), so a journey stays one trace across Kafka. Returns the span and the
 * context to run the handler in.
 */
export function startProcessSpan(m: Consumed, extra: Record<string, number> = {}): { span: Span; ctx: Context } {
  const parent = propagation.extract(context.active(), m.headers);
  const span = tracer.startSpan(
    `${m.topic} process`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        "messaging.system": "kafka",
        "messaging.operation.type": "process",
        "messaging.destination.name": m.topic,
        "messaging.consumer.group.name": m.groupId,
        "messaging.message.id": m.eventId,
        "messaging.kafka.offset": Number(m.offset),
        ...extra,
      },
    },
    parent,
  );
  return { span, ctx: trace.setSpan(parent, span) };
}

/** Ends a process span, recording the error when the handling failed. */
export function endProcessSpan(span: Span, error?: unknown): void {
  if (error !== undefined) {
    const err = error instanceof Error ? error : new Error(String(error));
    span.recordException(err);
    span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
  }
  span.end();
}

/**
 * A batch's spans: one process span per event, each in its own journey's trace (as a single consumer makes), and
 * the batch's own span linking them (OpenTelemetry's messaging conventions for batch processing), in whose context
 * the batch handler runs — the database calls of a batch of many belong to no single journey. Ended together with
 * the batch's outcome.
 */
export function startBatchSpans(topic: string, groupId: string, events: Consumed[]): { ctx: Context; end(error?: unknown): void } {
  if (events.length === 1) {
    // a batch of one is that event's own processing: its handler's work (database calls, events it makes) stays in
    // the event's trace
    const { span, ctx } = startProcessSpan(events[0]!);
    return { ctx, end: (error?: unknown) => endProcessSpan(span, error) };
  }
  const perEvent = events.map((m) => startProcessSpan(m, { "messaging.batch.message_count": events.length }).span);
  const links: Link[] = perEvent.map((s) => ({ context: s.spanContext() }));
  const batch = tracer.startSpan(
    `${topic} process`,
    {
      kind: SpanKind.CONSUMER,
      links,
      attributes: {
        "messaging.system": "kafka",
        "messaging.operation.type": "process",
        "messaging.destination.name": topic,
        "messaging.consumer.group.name": groupId,
        "messaging.batch.message_count": events.length,
      },
    },
    context.active(),
  );
  return {
    ctx: trace.setSpan(context.active(), batch),
    end(error?: unknown) {
      for (const s of perEvent) endProcessSpan(s, error);
      endProcessSpan(batch, error);
    },
  };
}
