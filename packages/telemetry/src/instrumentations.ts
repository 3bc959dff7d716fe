import { registerInstrumentations } from "@opentelemetry/instrumentation";
import { MongoDBInstrumentation } from "@opentelemetry/instrumentation-mongodb";

let registered = false;

/**
 * OpenTelemetry's own instrumentations for the libraries that have none by hand here: the MongoDB driver (a span
 * per command, a child of the gRPC call or Kafka message being handled). Statements are not recorded
 * (`enhancedDatabaseReporting: false`): filters and documents hold personal data. They patch the driver's modules
 * as they load, so this runs before anything imports `mongodb` — `node --import tsx --import
 * packages/telemetry/src/register.ts …` (the platform's service processes and the image's entrypoint do); spans go
 * to the tracer provider registered later by startTelemetry. gRPC and Kafka spans are the ones packages/grpc and
 * packages/bus write (see docs/architecture.md, "Traces").
 */
export function instrumentLibraries(): void {
  if (registered) return;
  registered = true;
  registerInstrumentations({ instrumentations: [new MongoDBInstrumentation({ enhancedDatabaseReporting: false })] });
}
