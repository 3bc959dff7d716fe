/**
 * Delivery rules: frequency caps across channels, retries with exponential
 * backoff, the fallback chain and preference checks.
 */
import type { Category, Channel, CustomerProfile } from "./model";

/**
 * Frequency caps per customer, across channels. Decision (documented in the
 * README): COLLECTION messages are held at the cap; LEGAL notices COUNT toward
 * the cap but are never held (a legally required notice cannot be delayed by
 * collection volume); the in-app inbox does not count (it does not contact the
 * customer, it waits to be read).
 */
export interface CapPolicy {
  /** Max capped messages per local day (default 3). */
  perDay: number;
  /** Max per 7 local days (default 10). */
  perWeek: number;
  /** Categories that count toward the cap. */
  counted: Category[];
  /** Categories held when the cap is reached. */
  held: Category[];
  /** Channels that never count nor are held. */
  exemptChannels: Channel[];
  /** A message held longer than this is dropped as SUPPRESSED (default 72 h). */
  holdExpiryHours: number;
}

/** Default caps (domain.md): ≤3 collection messages a day, ≤10 a week. */
export const DEFAULT_CAPS: CapPolicy = {
  perDay: 3,
  perWeek: 10,
  counted: ["COLLECTION", "LEGAL"],
  held: ["COLLECTION"],
  exemptChannels: ["IN_APP"],
  holdExpiryHours: 72,
};

/** True when a message of this category on this channel counts toward the cap. */
export function countsTowardCap(
  category: Category,
  channel: Channel,
  caps: CapPolicy = DEFAULT_CAPS,
): boolean {
  return caps.counted.includes(category) && !caps.exemptChannels.includes(channel);
}

/** Whether a message may be sent now given what was already sent today and this week. */
export function capDecision(
  category: Category,
  channel: Channel,
  sent: { today: number; week: number },
  caps: CapPolicy = DEFAULT_CAPS,
): { hold: false } | { hold: true; reason: string } {
  if (!caps.held.includes(category) || caps.exemptChannels.includes(channel)) return { hold: false };
  if (sent.today >= caps.perDay)
    return { hold: true, reason: `frequency cap: ${sent.today} of ${caps.perDay} messages today` };
  if (sent.week >= caps.perWeek)
    return { hold: true, reason: `frequency cap: ${sent.week} of ${caps.perWeek} messages in 7 days` };
  return { hold: false };
}

/** Retry tuning. */
export interface RetryPolicy {
  /** Attempts per channel before falling back (default 3). */
  maxAttempts: number;
  /** First retry delay (default 60 s). */
  baseDelayMs: number;
  /** Delay cap (default 1 h). */
  maxDelayMs: number;
}

/** Default retry policy. */
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 60_000, maxDelayMs: 3_600_000 };

/** Delay before attempt `attempt + 1` after `attempt` failures: base × 2^(attempt−1), capped. */
export function retryDelayMs(attempt: number, p: RetryPolicy = DEFAULT_RETRY): number {
  return Math.min(p.baseDelayMs * 2 ** Math.max(0, attempt - 1), p.maxDelayMs);
}

/** Where a failed channel falls back to (email → SMS, SMS → in-app, push → in-app, voice → SMS). */
export const FALLBACK: Readonly<Record<Channel, Channel | undefined>> = {
  EMAIL: "SMS",
  SMS: "IN_APP",
  PUSH: "IN_APP",
  VOICE: "SMS",
  IN_APP: undefined,
};

/** True when the customer accepts `channel` for `category` (LEGAL ignores opt-outs). */
export function channelAllowed(profile: CustomerProfile, category: Category, channel: Channel): boolean {
  if (category === "LEGAL") return true;
  const pref = profile.preferences[category];
  return pref === undefined || pref.includes(channel);
}

/** The next channel in the fallback chain after `channel` that the customer accepts, skipping `exclude`. */
export function fallbackChannel(
  profile: CustomerProfile,
  category: Category,
  channel: Channel,
  exclude: ReadonlySet<Channel> = new Set(),
): Channel | undefined {
  const seen = new Set<Channel>([channel]);
  let next = FALLBACK[channel];
  while (next !== undefined && !seen.has(next)) {
    if (!exclude.has(next) && channelAllowed(profile, category, next)) return next;
    seen.add(next);
    next = FALLBACK[next];
  }
  return undefined;
}

/** The address for a channel, or undefined when the contact point is missing (in-app needs none). */
export function contactFor(profile: CustomerProfile, channel: Channel): string | undefined {
  switch (channel) {
    case "EMAIL":
      return profile.email;
    case "SMS":
    case "VOICE":
      return profile.phone;
    case "PUSH":
      return profile.pushToken;
    case "IN_APP":
      return profile.customerId;
  }
}
