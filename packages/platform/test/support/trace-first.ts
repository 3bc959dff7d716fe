/**
 * Imported first by one-trace.int: registers the in-memory span exporter and OpenTelemetry's instrumentations
 * (grpc-js, MongoDB, with the import-in-the-middle loader hook) before any module loads those libraries (they are
 * patched as they load, as the services' `--import packages/telemetry/dist/register.js` preload does in a process).
 */
import { instrumentLibraries } from "@whiteslip/telemetry/instrumentations";
import { type CapturedSpans, captureSpans } from "@whiteslip/testkit/tracing";

export const captured: CapturedSpans = captureSpans();
await instrumentLibraries();
