import { z } from "zod";

/** A configuration problem found at start; the message names every bad variable. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

const port = z.coerce.number().int().min(0).max(65535);
const csv = z
  .string()
  .min(1)
  .transform((s) =>
    s
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean),
  );

/** Variables every service reads. */
export const baseShape = {
  SERVICE_NAME: z.string().min(1),
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  GRPC_HOST: z.string().default("0.0.0.0"),
  GRPC_PORT: port.default(0),
  /** Prometheus scrape port; 0 disables the endpoint. */
  METRICS_PORT: port.default(0),
  KAFKA_BROKERS: csv,
  KAFKA_CLIENT_ID: z.string().optional(),
  /**
   * SASL mechanism of the Kafka connection; with it, KAFKA_SASL_USERNAME (the service's own principal)
   * and KAFKA_SASL_PASSWORD are required (all three or none).
   */
  KAFKA_SASL_MECHANISM: z.enum(["scram-sha-512", "scram-sha-256", "plain"]).optional(),
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  /** Put before every Kafka topic name (several platforms on one cluster); letters, digits, `.`, `_`, `-`. */
  TOPIC_PREFIX: z.string().regex(/^[A-Za-z0-9._-]*$/, "letters, digits, '.', '_' or '-' only").max(100).default(""),
  MONGODB_URI: z.string().regex(/^mongodb(\+srv)?:\/\//, "must be a mongodb:// URI"),
  /** Database name; defaults to the service name (one database per service). */
  MONGODB_DB: z.string().optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /**
   * Personal-data keyring JSON (encryption keys, separate blind-index keys, active ids; see packages/pii/README.md),
   * from a Secret. In production this or PII_KEYRING_PATH is required; elsewhere the local run's generated keyring
   * in the cache is used.
   */
  PII_KEYRING: z.string().optional(),
  /**
   * Where a mounted Secret puts the keyring: a JSON file, or a directory with `encryption.json` and `index.json`
   * (and `legacyV1` while `v1:` values remain) — the blind-index keys in a Secret key of their own.
   */
  PII_KEYRING_PATH: z.string().optional(),
  /** The machine's cache folder (the local run's generated keyring is in `<cache>/keys`); see cacheRoot in @whiteslip/core. */
  WHITESLIP_CACHE: z.string().optional(),
  /** `sweep`: at start, re-encrypt stored personal data not under the active keys (background); `off`: do not. */
  PII_REENCRYPT: z.enum(["sweep", "off"]).default("sweep"),
  /** The single key of the versions before key ids: no longer read (put it in the keyring as `legacyV1`). */
  PII_KEY: z
    .undefined({ error: "no longer read: put this key in PII_KEYRING as legacyV1 (see packages/pii/README.md)" })
    .optional(),
  BUSINESS_TIME_ZONE: z.string().default("Asia/Shanghai"),
} as const;

type BaseShape = typeof baseShape;

/** The validated base variables. */
export type BaseConfig = z.infer<z.ZodObject<BaseShape>>;

/** The validated configuration: base variables plus the service's own. */
export type Config<S extends z.ZodRawShape = {}> = BaseConfig & z.infer<z.ZodObject<S>>;

/**
 * Validates the whole environment once into one typed object. Unknown
 * variables are ignored; a bad or missing one throws ConfigError naming it.
 */
export function loadConfig<S extends z.ZodRawShape>(
  shape: S,
  env: Record<string, string | undefined> = process.env,
): Config<S> {
  const schema = z.object({ ...baseShape, ...shape }).superRefine((c, ctx) => {
    const v = c as Partial<BaseConfig>;
    if (v.KAFKA_SASL_MECHANISM) {
      for (const name of ["KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD"] as const) {
        if (!v[name]) ctx.addIssue({ code: "custom", path: [name], message: "is required with KAFKA_SASL_MECHANISM" });
      }
    } else if (v.KAFKA_SASL_USERNAME || v.KAFKA_SASL_PASSWORD) {
      ctx.addIssue({ code: "custom", path: ["KAFKA_SASL_MECHANISM"], message: "is required with KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD" });
    }
  });
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const name = i.path.join(".") || "(environment)";
      const value = cleaned[String(i.path[0])];
      const shown = value === undefined ? "missing" : isSecret(name) ? "(value hidden)" : JSON.stringify(value);
      return `  ${name}: ${i.message} (got ${shown})`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
  }
  return parsed.data as Config<S>;
}

function isSecret(name: string): boolean {
  return /KEY|SECRET|PASSWORD|TOKEN/i.test(name);
}

export { z };

/**
 * Ports the local run gives the services: the one home of these defaults, read by the ops CLI, the console
 * and services that call another service (collections → billing) when no `*_ADDR` is set.
 */
export const LOCAL_PORTS = {
  credit: 50051,
  billing: 50052,
  notification: 50053,
  collections: 50054,
  creditReporting: 50055,
} as const;

/** `127.0.0.1:<port>` of a service in the local run. */
export function localAddress(service: keyof typeof LOCAL_PORTS): string {
  return `127.0.0.1:${LOCAL_PORTS[service]}`;
}
export * from "./kafka";
