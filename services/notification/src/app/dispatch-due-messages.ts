import { randomUUID } from "node:crypto";
import { addDays, type Clock, dateInZone, isInfrastructureError } from "@whiteslip/core";
import {
  capDecision,
  channelAllowed,
  contactFor,
  countsTowardCap,
  fallbackChannel,
  retryDelayMs,
} from "../domain/delivery-rules";
import { type CustomerProfile, defaultProfile, type Channel, type Message, type UnsentReasonCode } from "../domain/model";
import { fallbackMessage } from "../domain/plan";
import { isInWindow, nextAllowed, nextDayWindowStart } from "../domain/schedule";
import { greeting } from "../domain/templates";
import { obsolescence } from "../domain/validity";
import {
  type AccountFactsRepository,
  type ChannelProvider,
  type CustomerRepository,
  type MessageRepository,
  type NotificationEvent,
  ProviderError,
  type ProviderReceipt,
} from "./ports";
import type { NotificationSettings } from "./settings";

/** Dependencies of the dispatcher. */
export interface DispatcherDeps {
  messages: MessageRepository;
  customers: CustomerRepository;
  /** Payments, cures and newer notices per account (supersession at dispatch time). */
  accounts: AccountFactsRepository;
  /** Providers per channel; IN_APP needs none (the inbox is the message store). */
  providers: Partial<Record<Channel, ChannelProvider>>;
  clock: Clock;
  settings: NotificationSettings;
  /** Called with non-personal diagnostics (message id, channel, error text). */
  onError?: (err: unknown, messageId: string) => void;
  /** Fresh fencing tokens (default: random UUIDs). */
  newToken?: () => string;
  /** Waits between retries of a record that met a database outage (default: a real timer). */
  sleep?: (ms: number) => Promise<void>;
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
  /** Past their validity window: recorded EXPIRED, not sent. */
  expired: number;
  /** Made wrong by a later payment, cure or notice: recorded SUPERSEDED, not sent. */
  superseded: number;
  /** Found SENDING with an expired claim (or RECONCILE due) and the provider could not say it never got it: RECONCILE, not re-sent. */
  reconcile: number;
}

type Outcome = Exclude<keyof TickResult, "due">;

/** Why a due message is not sent now, and what becomes of it. */
type Decision =
  | { kind: "obsolete"; status: "EXPIRED" | "SUPERSEDED"; code: UnsentReasonCode; reason: string }
  | { kind: "suppress"; code: UnsentReasonCode; error: string; scheduleReason?: string }
  | { kind: "defer"; at: Date }
  | { kind: "hold"; heldSince: Date; at: Date; reason: string };

/** The state a write expects to find (for a record after a claim: the claim itself, token included). */
type Held = Pick<Message, "status" | "scheduledAt" | "claimToken">;

/** A record whose claim was taken over: nothing was written (see transition). */
export class ClaimLostError extends Error {
  override readonly name = "ClaimLostError";
  constructor(messageId: string) {
    super(`claim on message ${messageId} lost before its outcome was recorded; the new holder decides`);
  }
}

/**
 * Sends due messages. A loop in production (main.ts calls `tick()` on an
 * interval); tests advance a ManualClock and call `tick()` themselves.
 *
 * For each due message: validity (expired / superseded) → opt-out re-check (not
 * LEGAL) → quiet hours → frequency cap → contact point, each outcome stored by a
 * conditional update from the state read. A message to send is then **claimed**
 * — one conditional update to SENDING with a fresh fencing token and a claim
 * expiry — and only then handed to the provider with its idempotency key (our
 * message id); the outcome is recorded with a filter on that token, so a
 * dispatcher whose claim was taken over records nothing over the new holder's
 * work. A database outage during the record is retried (infrastructure), never
 * taken for a provider failure.
 *
 * A SENDING message whose claim expired is one whose dispatcher died between
 * claim and record: on a channel whose provider deduplicates by key it is sent
 * again with the same key (or, if it may not be sent now, the provider is asked
 * whether it had it); on SMTP it is marked RECONCILE and never re-sent blindly.
 */
export class Dispatcher {
  private readonly newToken: () => string;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Per channel, the earliest time of the next provider call (rate limits). */
  private readonly nextSlot = new Map<Channel, number>();
  /** During a round: cap-counted sends per customer and local day, loaded once and counted up as the round sends. */
  private capCounts: Map<string, Record<string, number>> | undefined;
  constructor(private readonly d: DispatcherDeps) {
    this.newToken = d.newToken ?? randomUUID;
    this.sleep = d.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /**
   * One round: up to `batchSize` due messages in order of due time, their profiles loaded in one query. Customers
   * are dispatched concurrently (`concurrency` at a time), each customer's messages one after the other (a cap
   * count must see the previous message of the same customer), and each provider is called no faster than its rate
   * limit (`rateLimits`, per second, paced evenly).
   */
  async tick(): Promise<TickResult> {
    const now = this.d.clock.now();
    const r: TickResult = {
      due: 0,
      sent: 0,
      retried: 0,
      failed: 0,
      held: 0,
      deferred: 0,
      suppressed: 0,
      expired: 0,
      superseded: 0,
      reconcile: 0,
    };
    const due = await this.d.messages.findDue(now, this.d.settings.batchSize);
    r.due = due.length;
    if (due.length === 0) return r;
    const profiles = await this.d.customers.getMany([...new Set(due.map((m) => m.customerId))]);
    // what each customer of the round already had today and this week (one query), kept up to date as it sends
    const capped = [...new Set(due.filter((m) => countsTowardCap(m.category, m.channel, this.d.settings.caps)).map((m) => m.customerId))];
    const days = new Set<string>();
    for (const c of capped) {
      const today = dateInZone(now, this.profileOf({ customerId: c } as Message, profiles).timeZone);
      for (let i = 0; i < 7; i++) days.add(addDays(today, -i));
    }
    const counts = capped.length > 0 ? await this.d.messages.cappedSentPerDayMany(capped, [...days]) : new Map<string, Record<string, number>>();
    this.capCounts = new Map(capped.map((c) => [c, { ...counts.get(c) }]));
    const byCustomer = new Map<string, Message[]>();
    for (const m of due) byCustomer.set(m.customerId, [...(byCustomer.get(m.customerId) ?? []), m]);
    const queues = [...byCustomer.values()];
    let next = 0;
    const worker = async () => {
      for (let q = queues[next++]; q; q = queues[next++])
        for (const m of q) {
          try {
            const outcome = await this.process(m, this.profileOf(m, profiles), now);
            if (outcome) r[outcome]++;
          } catch (err) {
            this.d.onError?.(err, m.id);
          }
        }
    };
    try {
      await Promise.all(Array.from({ length: Math.max(1, Math.min(this.d.settings.concurrency, queues.length)) }, worker));
    } finally {
      this.capCounts = undefined;
    }
    return r;
  }

  private profileOf(m: Message, profiles: Map<string, CustomerProfile>): CustomerProfile {
    const s = this.d.settings;
    return profiles.get(m.customerId) ?? defaultProfile(m.customerId, s.defaultTimeZone, s.defaultLocale);
  }

  /** Waits for the channel's next slot under its provider's rate limit (no limit: at once). */
  private pace(channel: Channel): Promise<void> {
    const perSecond = this.d.settings.rateLimits[channel] ?? 0;
    if (!(perSecond > 0)) return Promise.resolve();
    const interval = 1000 / perSecond;
    const now = Date.now();
    const at = Math.max(now, this.nextSlot.get(channel) ?? 0);
    this.nextSlot.set(channel, at + interval);
    return at > now ? this.sleep(at - now) : Promise.resolve();
  }

  private async process(m: Message, profile: CustomerProfile, now: Date): Promise<Outcome | undefined> {
    if (m.status === "SENDING" || m.status === "RECONCILE") return this.recover(m, profile, now);
    const decision = await this.decide(m, profile, now);
    if (decision) return (await this.d.messages.transition(...this.apply(m, decision, now), m)) ? outcomeOf(decision) : undefined;

    if (m.channel === "IN_APP") {
      const delivered: Message = { ...m, status: "DELIVERED", sentAt: now, deliveredAt: now, attempts: m.attempts + 1 };
      const events: NotificationEvent[] = [
        { type: "SENT", at: now },
        { type: "DELIVERED", at: now },
      ];
      return (await this.d.messages.transition(delivered, events, m)) ? "sent" : undefined;
    }
    const to = contactFor(profile, m.channel);
    if (!to) return this.fail(m, profile, now, `no contact point for ${m.channel}`, m.attempts, m);
    const provider = this.d.providers[m.channel];
    if (!provider) return this.fail(m, profile, now, `no provider configured for ${m.channel}`, m.attempts, m);
    await this.pace(m.channel); // before the claim: a wait for the provider's rate limit never eats into it

    const claimExpiresAt = new Date(now.getTime() + this.d.settings.claimMs);
    const claimed: Message = {
      ...m,
      status: "SENDING",
      claimToken: this.newToken(),
      claimExpiresAt,
      attempts: m.attempts + 1,
    };
    if (!(await this.d.messages.transition(claimed, [], m))) return undefined; // another dispatcher won
    return this.send(claimed, profile, provider, to, now);
  }

  /**
   * Why `m` is not to be sent now, or null when it is: expired or superseded (checked first: a message past its
   * window is never sent), opted out (not LEGAL), quiet hours, frequency cap.
   */
  private async decide(m: Message, profile: CustomerProfile, now: Date): Promise<Decision | null> {
    const s = this.d.settings;
    const tz = profile.timeZone;
    const facts = m.supersedable ? await this.d.accounts.get(m.accountId) : null;
    const obsolete = obsolescence(m, now, facts);
    if (obsolete) return { kind: "obsolete", ...obsolete };
    if (!channelAllowed(profile, m.category, m.channel))
      return { kind: "suppress", code: "OPTED_OUT", error: "opted out", scheduleReason: `${m.scheduleReason}; opted out before sending` };
    if (!isInWindow(now, tz, s.window)) return { kind: "defer", at: nextAllowed(now, tz, s.window) };
    if (countsTowardCap(m.category, m.channel, s.caps)) {
      const today = dateInZone(now, tz);
      const days = Array.from({ length: 7 }, (_, i) => addDays(today, -i));
      const perDay = this.capCounts?.get(m.customerId) ?? (await this.d.messages.cappedSentPerDay(m.customerId, days));
      const sent = { today: perDay[today] ?? 0, week: days.reduce((a, d) => a + (perDay[d] ?? 0), 0) };
      const cap = capDecision(m.category, m.channel, sent, s.caps);
      if (cap.hold) {
        const heldSince = m.heldSince ?? now;
        if (now.getTime() - heldSince.getTime() >= s.caps.holdExpiryHours * 3_600_000)
          return { kind: "suppress", code: "CAP_HOLD_EXPIRED", error: `held by frequency cap for over ${s.caps.holdExpiryHours} h` };
        return { kind: "hold", heldSince, at: nextDayWindowStart(now, tz, s.window), reason: cap.reason };
      }
    }
    return null;
  }

  /**
   * The message after a decision not to send it now (claim fields cleared), and its events: a message that will never
   * be sent (expired, superseded, suppressed) carries its NotificationSuppressed in the same write.
   */
  private apply(m: Message, d: Decision, now: Date): [Message, NotificationEvent[]] {
    const base: Message = settle(m);
    switch (d.kind) {
      case "obsolete":
        return [{ ...base, status: d.status, statusReason: d.reason, reasonCode: d.code }, [{ type: "UNSENT", at: now }]];
      case "suppress":
        return [
          {
            ...base,
            status: "SUPPRESSED",
            lastError: d.error,
            statusReason: d.error,
            reasonCode: d.code,
            scheduleReason: d.scheduleReason ?? m.scheduleReason,
          },
          [{ type: "UNSENT", at: now }],
        ];
      case "defer":
        return [
          {
            ...base,
            status: m.heldSince ? "HELD" : "SCHEDULED",
            scheduledAt: d.at,
            scheduleReason: `${m.scheduleReason}; quiet hours at dispatch, moved to next window`,
          },
          [],
        ];
      case "hold":
        return [
          {
            ...base,
            status: "HELD",
            heldSince: d.heldSince,
            scheduledAt: d.at,
            scheduleReason: `${d.reason}; held until the next day's window`,
          },
          [],
        ];
    }
  }

  /** Hands a claimed message to its provider (idempotency key = message id) and records the outcome under the claim. */
  private async send(
    claimed: Message,
    profile: CustomerProfile,
    provider: ChannelProvider,
    to: string,
    now: Date,
  ): Promise<Outcome> {
    const s = this.d.settings;
    let receipt: ProviderReceipt;
    try {
      receipt = await provider.send({
        messageId: claimed.id,
        channel: claimed.channel,
        to,
        subject: claimed.subject,
        body: `${greeting(claimed.template, claimed.locale, profile.displayName)}${claimed.body}`,
        locale: claimed.locale,
        category: claimed.category,
      });
    } catch (err) {
      const text = errorText(err);
      const permanent = err instanceof ProviderError && err.permanent;
      if (permanent || claimed.attempts >= s.retry.maxAttempts)
        return this.fail(claimed, profile, now, text, claimed.attempts, claimed);
      const at = nextAllowed(new Date(now.getTime() + retryDelayMs(claimed.attempts, s.retry)), profile.timeZone, s.window);
      await this.record(
        {
          ...settle(claimed),
          status: "SCHEDULED",
          lastError: text,
          scheduledAt: at,
          scheduleReason: `retry ${claimed.attempts + 1} of ${s.retry.maxAttempts} after: ${text}`,
        },
        [],
        claimed,
      );
      return "retried";
    }
    await this.recordSent(claimed, receipt, profile, now);
    return "sent";
  }

  private async recordSent(
    claimed: Message,
    receipt: ProviderReceipt,
    profile: CustomerProfile,
    now: Date,
    reason?: string,
  ): Promise<void> {
    // recorded at `now` even when a lookup says when the provider took it: the provider's clock is not ours
    // (the demo's and the fault suite's clocks travel); its time is kept in the reason
    const at = now;
    const events: NotificationEvent[] = [{ type: "SENT", at }];
    if (receipt.delivered) events.push({ type: "DELIVERED", at });
    const counted = countsTowardCap(claimed.category, claimed.channel, this.d.settings.caps);
    const capDay = counted ? dateInZone(at, profile.timeZone) : undefined;
    await this.record(
      {
        ...settle(claimed),
        status: receipt.delivered ? "DELIVERED" : "SENT",
        sentAt: at,
        deliveredAt: receipt.delivered ? at : undefined,
        providerMessageId: receipt.providerMessageId,
        lastError: undefined,
        statusReason: reason,
        capDay,
      },
      events,
      claimed,
    );
    const mine = capDay ? this.capCounts?.get(claimed.customerId) : undefined;
    if (mine && capDay) mine[capDay] = (mine[capDay] ?? 0) + 1;
  }

  /**
   * Records the outcome of a claimed message, only while the claim holds. A database outage is infrastructure: the
   * record is retried with capped backoff while the claim lasts, never taken for a provider failure; if it outlasts
   * the claim the error propagates and the message is recovered after the claim expires. A claim taken over by
   * another dispatcher throws ClaimLostError (nothing written).
   */
  private async record(next: Message, events: NotificationEvent[], held: Held & { claimExpiresAt?: Date }): Promise<void> {
    const { recordRetry } = this.d.settings;
    for (let attempt = 1; ; attempt++) {
      try {
        if (await this.d.messages.transition(next, events, held)) return;
        throw new ClaimLostError(next.id);
      } catch (err) {
        const claimLeft = (held.claimExpiresAt?.getTime() ?? 0) - this.d.clock.now().getTime();
        if (!isInfrastructureError(err) || attempt >= recordRetry.attempts || claimLeft <= 0) throw err;
        const delay = Math.min(recordRetry.baseDelayMs * 2 ** (attempt - 1), recordRetry.maxDelayMs);
        await this.sleep(delay / 2 + Math.random() * (delay / 2));
      }
    }
  }

  /**
   * A SENDING message whose claim expired — its dispatcher died (or stalled) between claim and record, so the
   * provider may or may not have it — or a RECONCILE message whose next look is due. Takes a fresh claim, then:
   *
   * - a provider that deduplicates by key gets the same message (same key) again when it may be sent now: a first
   *   delivery or an idempotent replay, exactly one either way;
   * - otherwise the provider is asked (`lookup`: an HTTP provider by idempotency key, an email provider's event log
   *   by Message-ID). It has it → recorded as sent, with its events. It has no record of it, and the lost call is
   *   older than the lookup's settle time → it never got it: sent now (same key / Message-ID) or, if it may not be
   *   sent now, the decision (expired, quiet hours, …) applies. Too recent to trust a "no" → RECONCILE, asked again
   *   once settled. The lookup failed → RECONCILE, asked again after a backoff, at most `reconcile.maxLooks` times;
   * - a provider that can neither deduplicate nor be asked (plain SMTP) → RECONCILE for an operator: never re-sent
   *   blindly.
   */
  private async recover(due: Message, profile: CustomerProfile, now: Date): Promise<Outcome | undefined> {
    const claimExpiresAt = new Date(now.getTime() + this.d.settings.claimMs);
    const reclaimed: Message = { ...due, status: "SENDING", claimToken: this.newToken(), claimExpiresAt };
    if (!(await this.d.messages.transition(reclaimed, [], due))) return undefined;
    const provider = this.d.providers[due.channel];
    if (due.channel === "IN_APP" || !provider) {
      // Nothing left our store (the inbox is the message store; no provider was called): decide afresh.
      await this.record({ ...settle(reclaimed), status: "SCHEDULED", scheduledAt: now }, [], reclaimed);
      return undefined;
    }
    const decision = await this.decide(reclaimed, profile, now);
    const to = contactFor(profile, due.channel);
    if (provider.deduplicates && !decision) {
      if (!to) return this.fail(reclaimed, profile, now, `no contact point for ${due.channel}`, due.attempts, reclaimed);
      await this.pace(due.channel);
      return this.send(reclaimed, profile, provider, to, now);
    }
    const channel = due.channel.toLowerCase();
    // the latest moment the lost call could have reached the provider: the end of the claim it was made under
    const inDoubtSince = due.status === "SENDING" ? (due.claimExpiresAt ?? now) : (due.inDoubtSince ?? now);
    const inDoubt = (reason: string, reconcileAt: Date | undefined, looks: number | undefined): Message => ({
      ...settle(reclaimed),
      status: "RECONCILE",
      statusReason: reason,
      inDoubtSince,
      reconcileAt,
      reconcileLooks: looks,
    });
    if (!provider.lookup) {
      const reason = `claim expired between the ${channel} provider call and its record; the provider cannot deduplicate and has no lookup, so it is not re-sent: reconcile against the provider's log by Message-ID (derived from the message id), then ResolveReconciliation`;
      await this.record(inDoubt(reason, undefined, undefined), [], reclaimed);
      return "reconcile";
    }
    let had: ProviderReceipt | null;
    try {
      had = await provider.lookup(due.id);
    } catch (err) {
      const { maxLooks, baseDelayMs, maxDelayMs } = this.d.settings.reconcile;
      const looks = (due.reconcileLooks ?? 0) + 1;
      const text = errorText(err);
      if (looks >= maxLooks) {
        const reason = `the ${channel} provider could not be asked whether it has the message (${looks} lookups, last: ${text}); not re-sent: an operator resolves it (ResolveReconciliation)`;
        await this.record(inDoubt(reason, undefined, looks), [], reclaimed);
      } else {
        const delay = Math.min(baseDelayMs * 2 ** (looks - 1), maxDelayMs);
        const at = new Date(now.getTime() + delay / 2 + Math.random() * (delay / 2));
        const reason = `the ${channel} provider could not be asked whether it has the message (lookup ${looks} of ${maxLooks}: ${text}); asked again at ${at.toISOString()}`;
        await this.record(inDoubt(reason, at, looks), [], reclaimed);
      }
      return "reconcile";
    }
    if (had) {
      const when = had.acceptedAt ? `, accepted ${had.acceptedAt.toISOString()}` : "";
      await this.recordSent(reclaimed, had, profile, now, `reconciled: the ${channel} provider has it (lookup${when})`);
      return "sent";
    }
    const settledAt = new Date(inDoubtSince.getTime() + (provider.lookupSettleMs ?? 0));
    if (now < settledAt) {
      const reason = `the ${channel} provider has no record of the message yet, but its log may lag the lost call by up to ${provider.lookupSettleMs} ms; asked again at ${settledAt.toISOString()}`;
      await this.record(inDoubt(reason, settledAt, due.reconcileLooks), [], reclaimed);
      return "reconcile";
    }
    // the provider never got it: sending it now (same key / Message-ID) is its first delivery
    if (decision) {
      await this.record(...this.apply(settle(reclaimed), decision, now), reclaimed);
      return outcomeOf(decision);
    }
    if (!to) return this.fail(reclaimed, profile, now, `no contact point for ${due.channel}`, due.attempts, reclaimed);
    await this.pace(due.channel);
    return this.send({ ...reclaimed, statusReason: undefined }, profile, provider, to, now);
  }

  /** Marks the message FAILED, publishes it, and schedules the fallback channel if there is one. */
  private async fail(
    m: Message,
    profile: CustomerProfile,
    now: Date,
    error: string,
    attempts: number,
    expected: Held & { claimExpiresAt?: Date },
  ): Promise<"failed"> {
    const used = new Set((await this.d.messages.listForFact(m.factEventId)).map((x) => x.channel));
    const fb = fallbackChannel(profile, m.category, m.channel, used);
    const failed: Message = {
      ...settle(m),
      status: "FAILED",
      attempts,
      lastError: error,
      fallbackTo: fb,
    };
    // Fallback first: if we crash before recording the failure, the claim expires and this runs again (ids dedupe).
    if (fb) await this.d.messages.insertNew([fallbackMessage(failed, fb, now)]);
    await this.record(
      failed,
      [{ type: "FAILED", at: now, error, attempts, ...(fb ? { fallbackChannel: fb } : {}) }],
      expected,
    );
    return "failed";
  }
}

/** `m` without a claim and without reconciliation state (what every record after a claim starts from). */
function settle(m: Message): Message {
  return { ...m, claimToken: undefined, claimExpiresAt: undefined, inDoubtSince: undefined, reconcileAt: undefined, reconcileLooks: undefined };
}

function outcomeOf(d: Decision): Outcome {
  switch (d.kind) {
    case "obsolete":
      return d.status === "EXPIRED" ? "expired" : "superseded";
    case "suppress":
      return "suppressed";
    case "defer":
      return "deferred";
    case "hold":
      return "held";
  }
}

function errorText(err: unknown): string {
  const t = err instanceof Error ? err.message : String(err);
  return t.length > 300 ? `${t.slice(0, 300)}…` : t;
}
