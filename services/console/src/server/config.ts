/**
 * The console's configuration: the whole environment validated once into one typed object. The console needs no
 * Kafka or database, so it does not use the services' base shape; it reads the five service addresses, its port and
 * the session secret.
 */
import { fileURLToPath } from "node:url";
import { ConfigError, localAddress, z } from "@whiteslip/config";

/** Development default of the session secret; refused when NODE_ENV=production. */
export const DEV_SESSION_SECRET = "whiteslip-console-dev-secret-change-me-in-production";

const DEFAULT_USERS_FILE = fileURLToPath(new URL("../../config/users.json", import.meta.url));

const shape = {
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  CONSOLE_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  CONSOLE_HOST: z.string().default("127.0.0.1"),
  /** HS256 key of the session JWT; at least 32 characters. */
  CONSOLE_SESSION_SECRET: z.string().min(32).default(DEV_SESSION_SECRET),
  /** Session lifetime in minutes. */
  CONSOLE_SESSION_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(8 * 60),
  /** JSON file of console users (`username`, scrypt `passwordHash`, `role`, `agentId`). */
  CONSOLE_USERS_FILE: z.string().default(DEFAULT_USERS_FILE),
  /** `skip` serves dist as it is; `auto` builds the SPA with vite when dist is missing or older than src/web. */
  CONSOLE_BUILD: z.enum(["auto", "skip", "always"]).default("auto"),
  CREDIT_ADDR: z.string().min(1).default(localAddress("credit")),
  BILLING_ADDR: z.string().min(1).default(localAddress("billing")),
  NOTIFICATION_ADDR: z.string().min(1).default(localAddress("notification")),
  COLLECTIONS_ADDR: z.string().min(1).default(localAddress("collections")),
  CREDIT_REPORTING_ADDR: z.string().min(1).default(localAddress("creditReporting")),
  /** Deadline of each gRPC call to a service, ms. */
  CONSOLE_GRPC_DEADLINE_MS: z.coerce.number().int().min(100).default(10_000),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
};

/** The validated console configuration. */
export type ConsoleConfig = z.infer<z.ZodObject<typeof shape>>;

/** Validates the environment; throws ConfigError naming every bad variable. */
export function loadConsoleConfig(env: Record<string, string | undefined>): ConsoleConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = z.object(shape).safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`invalid console configuration:\n${lines.join("\n")}`);
  }
  if (parsed.data.NODE_ENV === "production" && parsed.data.CONSOLE_SESSION_SECRET === DEV_SESSION_SECRET)
    throw new ConfigError(
      "invalid console configuration:\n  CONSOLE_SESSION_SECRET: must be set in production",
    );
  return parsed.data;
}
