/**
 * Imported first by one-trace.int: registers the in-memory span exporter and OpenTelemetry's MongoDB
 * instrumentation before any module loads the driver (the instrumentation patches it as it loads, as the
 * services' `--import packages/telemetry/src/register.ts` preload does in a process).
 */
import { instrumentLibraries } from "@whiteslip/telemetry";
import { type CapturedSpans, captureSpans } from "@whiteslip/testkit/tracing";

export const captured: CapturedSpans = captureSpans();
instrumentLibraries();
