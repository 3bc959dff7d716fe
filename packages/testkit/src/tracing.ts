import { type Attributes, context, propagation, type SpanContext, type SpanKind, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";

/** A finished span, as a test reads it. */
export interface FinishedSpan {
  readonly name: string;
  readonly kind: SpanKind;
  readonly attributes: Attributes;
  spanContext(): SpanContext;
  readonly parentSpanContext?: SpanContext;
  /** The tracer that made it: an instrumentation's package name, or the component's own tracer. */
  readonly instrumentationScope: { readonly name: string; readonly version?: string };
}

/** Spans finished in this process, as an in-memory exporter holds them. */
export interface CapturedSpans {
  /** Every span finished so far. */
  spans(): FinishedSpan[];
  /** Unregisters the provider. */
  stop(): Promise<void>;
}

/**
 * Registers, for this test process, a global tracer provider that keeps every finished span in memory, with the
 * W3C propagator and an AsyncLocalStorage context manager — as the services' startTelemetry would, so in-process
 * services write their spans here (the first registration wins; theirs then changes nothing). Call it before the
 * services start.
 */
export function captureSpans(): CapturedSpans {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return {
    spans: () => exporter.getFinishedSpans(),
    stop: async () => {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}
