/** Tuning shared by the use cases (all defaults from domain.md; main.ts may override from config). */
import { type CapPolicy, DEFAULT_CAPS, DEFAULT_RETRY, type RetryPolicy } from "../domain/delivery-rules";
import type { Channel, Locale } from "../domain/model";
import { DEFAULT_MODEL, DEFAULT_WINDOW, type SendTimeModelConfig, type SendWindow } from "../domain/schedule";

/** Notification tuning. */
export interface NotificationSettings {
  /** Quiet hours are outside this window. */
  window: SendWindow;
  /** Best-hour model. */
  model: SendTimeModelConfig;
  /** Max wait for the best hour after the earliest allowed time. */
  maxDeferralHours: number;
  /** Frequency caps. */
  caps: CapPolicy;
  /** Retries per channel. */
  retry: RetryPolicy;
  /** Zone for customers who gave none. */
  defaultTimeZone: string;
  /** Locale for customers who gave none. */
  defaultLocale: Locale;
  /** Messages per dispatcher round. */
  batchSize: number;
  /** Customers dispatched at once in a round (each customer's messages in order). */
  concurrency: number;
  /** Provider calls per second per channel (this replica's share of the provider's limit); absent or 0 = none. */
  rateLimits: Partial<Record<Channel, number>>;
  /** Non-legal facts older (or further ahead) than this are skipped as stale. */
  maxFactAgeHours: number;
  /**
   * How long a claim (SENDING, fencing token) holds before another dispatcher may recover the message. Must
   * exceed the longest provider call plus its record, or a slow send is recovered while still in flight (safe on
   * deduplicating channels; an email then goes to RECONCILE although it was sent once).
   */
  claimMs: number;
  /** Retries of a record (the write after the provider call) that meets a database outage, within the claim. */
  recordRetry: { attempts: number; baseDelayMs: number; maxDelayMs: number };
  /**
   * Reconciliation of a message whose provider call was lost: a failed lookup is tried again after a capped,
   * jittered backoff, at most `maxLooks` times; then the message waits for an operator (ResolveReconciliation).
   */
  reconcile: { maxLooks: number; baseDelayMs: number; maxDelayMs: number };
}

/** Defaults. */
export const DEFAULT_SETTINGS: NotificationSettings = {
  window: DEFAULT_WINDOW,
  model: DEFAULT_MODEL,
  maxDeferralHours: 12,
  caps: DEFAULT_CAPS,
  retry: DEFAULT_RETRY,
  defaultTimeZone: "Asia/Shanghai",
  defaultLocale: "zh-CN",
  batchSize: 200,
  concurrency: 16,
  rateLimits: {},
  claimMs: 2 * 60_000,
  recordRetry: { attempts: 8, baseDelayMs: 200, maxDelayMs: 5_000 },
  reconcile: { maxLooks: 8, baseDelayMs: 30_000, maxDelayMs: 30 * 60_000 },
  maxFactAgeHours: 48,
};
