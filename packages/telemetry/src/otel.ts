import { metrics, trace } from "@opentelemetry/api";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { NodeSDK } from "@opentelemetry/sdk-node";

/** Handle to stop telemetry on shutdown. */
export interface Telemetry {
  /** Port of the Prometheus endpoint, 0 when disabled. */
  metricsPort: number;
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry SDK for a service. Trace export is configured by the
 * standard `OTEL_*` variables (e.g. `OTEL_TRACES_EXPORTER=otlp`,
 * `OTEL_EXPORTER_OTLP_ENDPOINT`); with none set, traces are not exported.
 * Metrics are served for Prometheus on `metricsPort` (0 disables).
 */
export async function startTelemetry(opts: { serviceName: string; metricsPort?: number }): Promise<Telemetry> {
  process.env.OTEL_SERVICE_NAME ??= opts.serviceName;
  process.env.OTEL_TRACES_EXPORTER ??= "none";
  process.env.OTEL_METRICS_EXPORTER ??= "none";
  process.env.OTEL_LOGS_EXPORTER ??= "none";
  const port = opts.metricsPort ?? 0;
  const exporter = port > 0 ? new PrometheusExporter({ port, host: "0.0.0.0" }) : undefined;
  const sdk = new NodeSDK({
    serviceName: opts.serviceName,
    ...(exporter ? { metricReaders: [exporter] } : {}),
    instrumentations: [],
  });
  sdk.start();
  return {
    metricsPort: port,
    shutdown: async () => {
      await sdk.shutdown().catch(() => undefined);
    },
  };
}

/** A tracer for a component. */
export const tracer = (name: string) => trace.getTracer(`whiteslip.${name}`);

/** A meter for a component. */
export const meter = (name: string) => metrics.getMeter(`whiteslip.${name}`);
