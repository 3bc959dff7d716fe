import { addDays, type Clock, dateInZone } from "@whiteslip/core";
import {
  capDecision,
  channelAllowed,
  contactFor,
  countsTowardCap,
  fallbackChannel,
  retryDelayMs,
} from "../domain/delivery-rules";
import { type Channel, type CustomerProfile, defaultProfile, type Message } from "../domain/model";
import { fallbackMessage } from "../domain/plan";
import { isInWindow, nextAllowed, nextDayWindowStart } from "../domain/schedule";
import { greeting } from "../domain/templates";
import {
  type ChannelProvider,
  type CustomerRepository,
  type MessageRepository,
  type NotificationEvent,
  ProviderError,
} from "./ports";
import type { NotificationSettings } from "./settings";

/** Dependencies of the dispatcher. */
export interface DispatcherDeps {
  messages: MessageRepository;
  customers: CustomerRepository;
  /** Providers per channel; IN_APP needs none (the inbox is the message store). */
  providers: Partial<Record<Channel, ChannelProvider>>;
  clock: Clock;
  settings: NotificationSettings;
  /** Called with non-personal diagnostics (message id, channel, error text). */
  onError?: (err: unknown, messageId: string) => void;
}

/** What one round did. */
export interface TickResult {
  /** Messages looked at. */
  due: number;
  /** Handed to a provider or delivered to the inbox. */
  sent: number;
  /** Rescheduled for a retry. */
  retried: number;
  /** Failed on a channel (fallback may follow). */
  failed: number;
  /** Held by a cap. */
  held: number;
  /** Moved out of quiet hours. */
  deferred: number;
  /** Suppressed (opt-out after scheduling, hold expired). */
  suppressed: number;
}

/**
 * Sends due messages. A loop in production (main.ts calls `tick()` on an
 * interval); tests advance a ManualClock and call `tick()` themselves. Each due
 * message is claimed with a lease so two replicas never send it twice, then:
 * opt-out re-check (not LEGAL) → quiet hours → frequency cap → contact point →
 * provider, with exponential backoff on failure and a fallback channel after
 * the last attempt or when the contact point is missing.
 */
export class Dispatcher {
  constructor(private readonly d: DispatcherDeps) {}

  /** One round: processes up to `batchSize` due messages in order of due time. */
  async tick(): Promise<TickResult> {
    const now = this.d.clock.now();
    const r: TickResult = { due: 0, sent: 0, retried: 0, failed: 0, held: 0, deferred: 0, suppressed: 0 };
    const due = await this.d.messages.findDue(now, this.d.settings.batchSize);
    r.due = due.length;
    // Sequential on purpose: cap counts must see the previous message of the same customer.
    for (const m of due) {
      try {
        const outcome = await this.process(m, now);
        if (outcome) r[outcome]++;
      } catch (err) {
        this.d.onError?.(err, m.id);
      }
    }
    return r;
  }

  private async process(due: Message, now: Date): Promise<Exclude<keyof TickResult, "due"> | undefined> {
    const s = this.d.settings;
    const m = await this.d.messages.claim(due, new Date(now.getTime() + s.leaseMs));
    if (!m) return undefined;
    const profile: CustomerProfile =
      (await this.d.customers.get(m.customerId)) ??
      defaultProfile(m.customerId, s.defaultTimeZone, s.defaultLocale);
    const tz = profile.timeZone;

    if (!channelAllowed(profile, m.category, m.channel)) {
      await this.d.messages.save(
        {
          ...m,
          status: "SUPPRESSED",
          lastError: "opted out",
          scheduleReason: `${m.scheduleReason}; opted out before sending`,
        },
        [],
      );
      return "suppressed";
    }
    if (!isInWindow(now, tz, s.window)) {
      const at = nextAllowed(now, tz, s.window);
      await this.d.messages.save(
        {
          ...m,
          status: m.heldSince ? "HELD" : "SCHEDULED",
          scheduledAt: at,
          scheduleReason: `${m.scheduleReason}; quiet hours at dispatch, moved to next window`,
        },
        [],
      );
      return "deferred";
    }
    const counted = countsTowardCap(m.category, m.channel, s.caps);
    if (counted) {
      const today = dateInZone(now, tz);
      const days = Array.from({ length: 7 }, (_, i) => addDays(today, -i));
      const perDay = await this.d.messages.cappedSentPerDay(m.customerId, days);
      const sent = { today: perDay[today] ?? 0, week: days.reduce((a, d) => a + (perDay[d] ?? 0), 0) };
      const cap = capDecision(m.category, m.channel, sent, s.caps);
      if (cap.hold) {
        const heldSince = m.heldSince ?? now;
        if (now.getTime() - heldSince.getTime() >= s.caps.holdExpiryHours * 3_600_000) {
          await this.d.messages.save(
            {
              ...m,
              status: "SUPPRESSED",
              lastError: `held by frequency cap for over ${s.caps.holdExpiryHours} h`,
            },
            [],
          );
          return "suppressed";
        }
        await this.d.messages.save(
          {
            ...m,
            status: "HELD",
            heldSince,
            scheduledAt: nextDayWindowStart(now, tz, s.window),
            scheduleReason: `${cap.reason}; held until the next day's window`,
          },
          [],
        );
        return "held";
      }
    }

    if (m.channel === "IN_APP") {
      await this.d.messages.save(
        { ...m, status: "DELIVERED", sentAt: now, deliveredAt: now, attempts: m.attempts + 1 },
        [
          { type: "SENT", at: now },
          { type: "DELIVERED", at: now },
        ],
      );
      return "sent";
    }
    const to = contactFor(profile, m.channel);
    if (!to) return this.fail(m, profile, now, `no contact point for ${m.channel}`, m.attempts);
    const provider = this.d.providers[m.channel];
    if (!provider) return this.fail(m, profile, now, `no provider configured for ${m.channel}`, m.attempts);

    const attempts = m.attempts + 1;
    try {
      const receipt = await provider.send({
        messageId: m.id,
        channel: m.channel,
        to,
        subject: m.subject,
        body: `${greeting(m.template, m.locale, profile.displayName)}${m.body}`,
        locale: m.locale,
        category: m.category,
      });
      const events: NotificationEvent[] = [{ type: "SENT", at: now }];
      if (receipt.delivered) events.push({ type: "DELIVERED", at: now });
      await this.d.messages.save(
        {
          ...m,
          status: receipt.delivered ? "DELIVERED" : "SENT",
          attempts,
          sentAt: now,
          deliveredAt: receipt.delivered ? now : undefined,
          providerMessageId: receipt.providerMessageId,
          lastError: undefined,
          capDay: counted ? dateInZone(now, tz) : undefined,
        },
        events,
      );
      return "sent";
    } catch (err) {
      const text = errorText(err);
      const permanent = err instanceof ProviderError && err.permanent;
      if (permanent || attempts >= s.retry.maxAttempts) return this.fail(m, profile, now, text, attempts);
      const at = nextAllowed(new Date(now.getTime() + retryDelayMs(attempts, s.retry)), tz, s.window);
      await this.d.messages.save(
        {
          ...m,
          status: "SCHEDULED",
          attempts,
          lastError: text,
          scheduledAt: at,
          scheduleReason: `retry ${attempts + 1} of ${s.retry.maxAttempts} after: ${text}`,
        },
        [],
      );
      return "retried";
    }
  }

  /** Marks the message FAILED, publishes it, and schedules the fallback channel if there is one. */
  private async fail(
    m: Message,
    profile: CustomerProfile,
    now: Date,
    error: string,
    attempts: number,
  ): Promise<"failed"> {
    const used = new Set((await this.d.messages.listForFact(m.factEventId)).map((x) => x.channel));
    const fb = fallbackChannel(profile, m.category, m.channel, used);
    const failed: Message = { ...m, status: "FAILED", attempts, lastError: error, fallbackTo: fb };
    // Fallback first: if we crash before saving the failure, the lease expires and this runs again (ids dedupe).
    if (fb) await this.d.messages.insertNew([fallbackMessage(failed, fb, now)]);
    await this.d.messages.save(failed, [
      { type: "FAILED", at: now, error, attempts, ...(fb ? { fallbackChannel: fb } : {}) },
    ]);
    return "failed";
  }
}

function errorText(err: unknown): string {
  const t = err instanceof Error ? err.message : String(err);
  return t.length > 300 ? `${t.slice(0, 300)}…` : t;
}
