import { trace } from "@opentelemetry/api";
import { type Logger, pino } from "pino";

export type { Logger } from "pino";

/** Keys whose values are personal data; redacted wherever they appear (up to three levels deep). */
export const PII_KEYS = [
  "name",
  "fullName",
  "displayName",
  "nationalId",
  "national_id",
  "idNumber",
  "phone",
  "mobile",
  "email",
  "address",
  "to",
] as const;

function redactPaths(): string[] {
  const paths: string[] = [];
  for (const k of PII_KEYS) {
    paths.push(k, `*.${k}`, `*.*.${k}`);
  }
  return paths;
}

/**
 * A JSON logger for a service: carries `service`, the active span's
 * `trace_id`/`span_id`, and redacts personal data by key.
 */
export function createLogger(opts: {
  service: string;
  level?: string;
  destination?: NodeJS.WritableStream;
}): Logger {
  return pino(
    {
      level: opts.level ?? "info",
      base: { service: opts.service },
      redact: { paths: redactPaths(), censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin(_obj, _level, logger) {
        // A child logger that already binds the trace (e.g. per gRPC call) needs no second copy.
        if ((logger as Logger | undefined)?.bindings?.().trace_id) return {};
        const span = trace.getActiveSpan();
        if (!span) return {};
        const c = span.spanContext();
        return { trace_id: c.traceId, span_id: c.spanId };
      },
    },
    opts.destination as pino.DestinationStream | undefined,
  );
}
