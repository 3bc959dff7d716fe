import { register } from "node:module";
import { registerInstrumentations } from "@opentelemetry/instrumentation";
import { GrpcInstrumentation } from "@opentelemetry/instrumentation-grpc";
import { MongoDBInstrumentation } from "@opentelemetry/instrumentation-mongodb";
import { createAddHookMessageChannel } from "import-in-the-middle";

let registered: Promise<void> | undefined;

/** Health checks and reflection: probes every few seconds, no journey's work; a span each would drown the traces. */
const UNTRACED_GRPC_METHODS = ["Check", "Watch", "List", "ServerReflectionInfo"];

/**
 * OpenTelemetry's own instrumentations, registered before anything loads the libraries they patch:
 *
 * - `@grpc/grpc-js` (`@opentelemetry/instrumentation-grpc`): the SERVER span of each call and the CLIENT span of
 *   each outgoing one, and the W3C `traceparent` in metadata both ways. Health and reflection are not traced.
 * - the MongoDB driver (`@opentelemetry/instrumentation-mongodb`): a span per command, a child of the gRPC call or
 *   Kafka message being handled. Statements are not recorded (`enhancedDatabaseReporting: false`): filters and
 *   documents hold personal data.
 *
 * They patch modules as they load. A CommonJS package that an ES module imports (grpc-js from a service's bundle)
 * is loaded without `require`, so require-in-the-middle never sees it: the import-in-the-middle loader hook is
 * registered here first (`module.register`, OpenTelemetry's ESM set-up), told through its message channel which
 * modules the instrumentations want, and nothing else is wrapped. Run it before the service imports anything —
 * `node --import packages/telemetry/dist/register.js …` (the platform's service processes and the image's
 * entrypoint do); spans go to the tracer provider registered later by startTelemetry. Kafka's spans are the ones
 * packages/bus writes (see docs/architecture.md, "Traces").
 */
export function instrumentLibraries(): Promise<void> {
  registered ??= (async () => {
    const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
    register("import-in-the-middle/hook.mjs", import.meta.url, registerOptions);
    registerInstrumentations({
      instrumentations: [
        new GrpcInstrumentation({ ignoreGrpcMethods: UNTRACED_GRPC_METHODS }),
        new MongoDBInstrumentation({ enhancedDatabaseReporting: false }),
      ],
    });
    await waitForAllMessagesAcknowledged();
  })();
  return registered;
}
