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

/**
 * Mutual TLS of gRPC servers and clients: the CA, this process's certificate and key (PEM files, re-read every
 * TLS_REFRESH_MS so a renewed Secret is picked up). All three are required unless GRPC_PLAINTEXT_DEV=1, the
 * explicit development flag (plaintext, no caller identity), which NODE_ENV=production refuses.
 */
export const tlsShape = {
  TLS_CA_FILE: z.string().optional(),
  TLS_CERT_FILE: z.string().optional(),
  TLS_KEY_FILE: z.string().optional(),
  TLS_REFRESH_MS: z.coerce.number().int().min(1_000).default(60_000),
  GRPC_PLAINTEXT_DEV: z.enum(["0", "1", "false", "true"]).default("0").transform((v) => v === "1" || v === "true"),
} as const;

/** What is wrong with the TLS variables of a parsed config (empty when nothing is). */
export function tlsProblems(c: {
  NODE_ENV: string;
  TLS_CA_FILE?: string | undefined;
  TLS_CERT_FILE?: string | undefined;
  TLS_KEY_FILE?: string | undefined;
  GRPC_PLAINTEXT_DEV: boolean;
}): string[] {
  if (c.GRPC_PLAINTEXT_DEV) {
    if (c.NODE_ENV === "production") return ["  GRPC_PLAINTEXT_DEV: plaintext gRPC is refused when NODE_ENV=production"];
    return [];
  }
  const missing = (["TLS_CA_FILE", "TLS_CERT_FILE", "TLS_KEY_FILE"] as const).filter((k) => !c[k]);
  return missing.map((k) => `  ${k}: required for mutual TLS (or GRPC_PLAINTEXT_DEV=1 in development) (got missing)`);
}

/** The TLS variables of a process that is not a service (the ops CLI, the console), validated the same way. */
export type TlsConfig = z.infer<z.ZodObject<typeof tlsShape>> & { NODE_ENV: "development" | "test" | "production" };

/** Validates NODE_ENV and the TLS variables alone; throws ConfigError naming each bad one. */
export function loadTlsConfig(env: Record<string, string | undefined> = process.env): TlsConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = z
    .object({ ...tlsShape, NODE_ENV: z.enum(["development", "test", "production"]).default("development") })
    .safeParse(cleaned);
  if (!parsed.success)
    throw new ConfigError(`invalid configuration:\n${parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n")}`);
  const problems = tlsProblems(parsed.data);
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n${problems.join("\n")}`);
  return parsed.data;
}

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
   * and KAFKA_SASL_PASSWORD are required. Required in production: the cluster's ACLs are per principal.
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
  /** Plaintext listener serving grpc.health.v1 only, for the kubelet's gRPC probe; unset = none. */
  GRPC_HEALTH_PORT: port.optional(),
  ...tlsShape,
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
    } else if (v.NODE_ENV === "production") {
      ctx.addIssue({ code: "custom", path: ["KAFKA_SASL_MECHANISM"], message: "is required in production (each service has its own Kafka principal)" });
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
  const tls = tlsProblems(parsed.data as BaseConfig);
  if (tls.length > 0) throw new ConfigError(`invalid configuration:\n${tls.join("\n")}`);
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
