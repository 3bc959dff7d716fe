/**
 * The console's configuration: the whole environment validated once into one typed object. The console needs no
 * Kafka or database, so it does not use the services' base shape; it reads the five service addresses, its port, its
 * public origin and the sign-in limits. Sessions are server-side random tokens: there is no session secret to keep.
 */
import { fileURLToPath } from "node:url";
import { ConfigError, localAddress, tlsProblems, tlsShape, z } from "@whiteslip/config";

const DEFAULT_USERS_FILE = fileURLToPath(new URL("../../config/users.json", import.meta.url));

const shape = {
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  CONSOLE_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  CONSOLE_HOST: z.string().default("127.0.0.1"),
  /**
   * The console's origin as browsers see it (`https://console.example.com`): state-changing requests must come from
   * it (CSRF). Required in production (https); without it the origin of the request's Host is expected.
   */
  CONSOLE_PUBLIC_ORIGIN: z
    .string()
    .regex(/^https?:\/\/[^/]+$/, "must be an origin like https://console.example.com (no path)")
    .optional(),
  /**
   * The local-dev exception: `true` drops the Secure flag of the session cookie, for http://127.0.0.1. Refused in
   * production; off by default, so cookies are Secure unless a local run asks.
   */
  CONSOLE_DEV_INSECURE_COOKIE: z.enum(["true", "false"]).default("false"),
  /** Trust X-Forwarded-For from this many proxies (fastify trustProxy) so throttling sees the client's address. */
  CONSOLE_TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
  /** Failed sign-ins of one username within the window that lock it. */
  CONSOLE_LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).default(5),
  /** Failed sign-ins from one source address within the window that lock it. */
  CONSOLE_LOGIN_MAX_FAILURES_PER_ADDRESS: z.coerce.number().int().min(1).default(20),
  /** The window failures are counted in, minutes. */
  CONSOLE_LOGIN_WINDOW_MINUTES: z.coerce.number().int().min(1).default(15),
  /** How long a lock lasts, minutes. */
  CONSOLE_LOGIN_LOCK_MINUTES: z.coerce.number().int().min(1).default(15),
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
  /** Mutual TLS to the services as the `console` identity (TLS_CA_FILE, TLS_CERT_FILE, TLS_KEY_FILE). */
  ...tlsShape,
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
  const c = parsed.data;
  const problems: string[] = [];
  if (c.NODE_ENV === "production") {
    if (c.CONSOLE_DEV_INSECURE_COOKIE === "true")
      problems.push("  CONSOLE_DEV_INSECURE_COOKIE: the local-dev exception is refused in production");
    if (!c.CONSOLE_PUBLIC_ORIGIN?.startsWith("https://"))
      problems.push("  CONSOLE_PUBLIC_ORIGIN: required in production, an https:// origin");
  }
  problems.push(...tlsProblems(c));
  if (problems.length) throw new ConfigError(`invalid console configuration:\n${problems.join("\n")}`);
  return c;
}
