/**
 * Imported first by the loopback test: an in-memory span exporter and OpenTelemetry's grpc-js instrumentation
 * (with its import-in-the-middle loader hook) before anything imports @grpc/grpc-js, as the services'
 * `--import` preload does in a process.
 */
import { instrumentLibraries } from "@whiteslip/telemetry/instrumentations";
import { type CapturedSpans, captureSpans } from "@whiteslip/testkit/tracing";

export const captured: CapturedSpans = captureSpans();
await instrumentLibraries();
