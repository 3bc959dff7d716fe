/**
 * W3C trace context over gRPC metadata. Uses the globally registered OTel
 * propagator (set up by `startTelemetry` of @whiteslip/telemetry); when none is
 * registered it still reads/writes `traceparent` itself, so trace ids stay
 * correlated across services in logs.
 */

import type { Metadata } from "@grpc/grpc-js";
import {
  type Context,
  isSpanContextValid,
  propagation,
  type TextMapGetter,
  type TextMapSetter,
  TraceFlags,
  trace,
} from "@opentelemetry/api";

const TRACEPARENT = "traceparent";
const TRACEPARENT_RE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** Reads text entries of grpc-js metadata for OTel propagators. */
export const metadataGetter: TextMapGetter<Metadata> = {
  keys: (carrier) => Object.keys(carrier.getMap()),
  get: (carrier, key) => {
    const values = carrier.get(key).filter((v): v is string => typeof v === "string");
    if (values.length === 0) return undefined;
    return values.length === 1 ? values[0] : values;
  },
};

/** Writes text entries into grpc-js metadata for OTel propagators. */
export const metadataSetter: TextMapSetter<Metadata> = {
  set: (carrier, key, value) => carrier.set(key, value),
};

function hasTraceContextPropagator(): boolean {
  return propagation.fields().includes(TRACEPARENT);
}

/** Writes the trace context of `ctx` (e.g. `traceparent`) into `metadata`. */
export function injectTraceContext(ctx: Context, metadata: Metadata): void {
  propagation.inject(ctx, metadata, metadataSetter);
  if (!hasTraceContextPropagator() && metadata.get(TRACEPARENT).length === 0) {
    const sc = trace.getSpanContext(ctx);
    if (sc && isSpanContextValid(sc)) {
      const flags = (sc.traceFlags & TraceFlags.SAMPLED).toString(16).padStart(2, "0");
      metadata.set(TRACEPARENT, `00-${sc.traceId}-${sc.spanId}-${flags}`);
    }
  }
}

/** The context `parent` extended with the remote trace context found in `metadata`. */
export function extractTraceContext(parent: Context, metadata: Metadata): Context {
  const ctx = propagation.extract(parent, metadata, metadataGetter);
  if (hasTraceContextPropagator() || trace.getSpanContext(ctx)) return ctx;
  const header = metadata.get(TRACEPARENT)[0];
  const m = typeof header === "string" ? TRACEPARENT_RE.exec(header.trim().toLowerCase()) : null;
  if (!m) return ctx;
  const sc = {
    traceId: m[1] as string,
    spanId: m[2] as string,
    traceFlags: Number.parseInt(m[3] as string, 16),
    isRemote: true,
  };
  return isSpanContextValid(sc) ? trace.setSpanContext(ctx, sc) : ctx;
}
