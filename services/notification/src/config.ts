/** The notification service's environment, validated once at start (see README for every variable). */
import { type Config, loadConfig, z } from "@whiteslip/config";
import { DEFAULT_SETTINGS as D } from "./app/settings";

const bool = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");
const hour = z.coerce.number().int().min(0).max(23);
const url = z.string().regex(/^https?:\/\//, "must be an http(s):// URL");

/** Variables of this service (on top of the platform's base variables). */
export const notificationShape = {
  SERVICE_NAME: z.string().min(1).default("notification"),
  /** Consumer group of the fact consumer. */
  CONSUMER_GROUP: z.string().min(1).default("notification"),
  /** Most facts of one partition planned together (DueSoon, Overdue). */
  CONSUMER_MAX_BATCH: z.coerce.number().int().min(1).max(5000).default(500),
  SMTP_HOST: z.string().min(1).default("127.0.0.1"),
  SMTP_PORT: z.coerce.number().int().min(1).max(65535).default(25),
  SMTP_SECURE: bool.default(false),
  /** Skip STARTTLS (local relays, test servers). */
  SMTP_IGNORE_TLS: bool.default(false),
  SMTP_USER: z.string().optional(),
  SMTP_PASSWORD: z.string().optional(),
  SMTP_FROM: z.string().min(3).default("Whiteslip <no-reply@whiteslip.example>"),
  SMTP_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /** The email provider's event log (lookup by Message-ID); unset = emails whose send was lost go to an operator. */
  EMAIL_EVENTS_URL: url.optional(),
  EMAIL_EVENTS_API_KEY: z.string().default(""),
  /** How far the event log may lag a send: a "no record" is trusted only this long after the lost call's claim ended. */
  EMAIL_EVENTS_SETTLE_MS: z.coerce.number().int().min(0).default(300_000),
  SMS_PROVIDER_URL: url.optional(),
  SMS_PROVIDER_API_KEY: z.string().default(""),
  PUSH_PROVIDER_URL: url.optional(),
  PUSH_PROVIDER_API_KEY: z.string().default(""),
  VOICE_PROVIDER_URL: url.optional(),
  VOICE_PROVIDER_API_KEY: z.string().default(""),
  PROVIDER_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /** Dispatcher loop period; 0 = no loop (tests and demos call tick()). */
  DISPATCH_INTERVAL_MS: z.coerce.number().int().min(0).default(1_000),
  DISPATCH_BATCH_SIZE: z.coerce.number().int().min(1).max(2000).default(D.batchSize),
  /** Customers dispatched at once per round. */
  DISPATCH_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(D.concurrency),
  /** Provider calls per second per channel, this replica's share of each provider's rate limit (0 = none). */
  SMS_RATE_PER_S: z.coerce.number().min(0).default(0),
  EMAIL_RATE_PER_S: z.coerce.number().min(0).default(0),
  PUSH_RATE_PER_S: z.coerce.number().min(0).default(0),
  VOICE_RATE_PER_S: z.coerce.number().min(0).default(0),
  /** How long a dispatcher's claim on a message holds (SENDING) before another may recover it. */
  DISPATCH_CLAIM_MS: z.coerce.number().int().min(1_000).default(D.claimMs),
  /** First quiet hour (the send window ends here). Defaults: DEFAULT_SETTINGS in app/settings.ts, the one home. */
  QUIET_HOURS_START: hour.default(D.window.endHour),
  /** First hour after quiet hours (the send window starts here). */
  QUIET_HOURS_END: hour.default(D.window.startHour),
  CAP_PER_DAY: z.coerce.number().int().min(0).default(D.caps.perDay),
  CAP_PER_WEEK: z.coerce.number().int().min(0).default(D.caps.perWeek),
  RETRY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(D.retry.maxAttempts),
  RETRY_BASE_DELAY_MS: z.coerce.number().int().min(0).default(D.retry.baseDelayMs),
  BEST_HOUR_MAX_DEFERRAL_HOURS: z.coerce.number().min(0).max(24).default(D.maxDeferralHours),
  DEFAULT_LOCALE: z.enum(["zh-CN", "en"]).default(D.defaultLocale),
  /** Reminders/overdue/payment/line facts older than this are skipped (legal notices never). */
  MAX_FACT_AGE_HOURS: z.coerce.number().min(1).default(D.maxFactAgeHours),
  /** How long the cadence table is cached. */
  POLICY_CACHE_MS: z.coerce.number().int().min(0).default(30_000),
};

/** The validated configuration. */
export type NotificationConfig = Config<typeof notificationShape>;

/** Reads and validates the environment; throws ConfigError naming each bad variable. */
export function loadNotificationConfig(env: Record<string, string | undefined>): NotificationConfig {
  return loadConfig(notificationShape, env);
}
