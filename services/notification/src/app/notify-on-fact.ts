import type { Clock } from "@whiteslip/core";
import { type Channel, defaultProfile, type Fact, isStale } from "../domain/model";
import { planMessages } from "../domain/plan";
import { type AccountFacts, type Supersession, supersession, validityOf } from "../domain/validity";
import { bestHour } from "../domain/schedule";
import type {
  AccountFactsRepository,
  CustomerRepository,
  EngagementRepository,
  MessageRepository,
  PolicyRepository,
} from "./ports";
import type { NotificationSettings } from "./settings";

/** Dependencies of NotifyOnFact. */
export interface NotifyOnFactDeps {
  messages: MessageRepository;
  customers: CustomerRepository;
  engagements: EngagementRepository;
  /** Newest overdue notice per account and channel (supersession). */
  accounts: AccountFactsRepository;
  policy: PolicyRepository;
  clock: Clock;
  settings: NotificationSettings;
}

/** Result: the messages planned, or "duplicate" for a redelivered fact. */
export type NotifyOutcome =
  | { outcome: "planned"; messageIds: string[]; inserted: string[] }
  | { outcome: "duplicate" }
  | { outcome: "stale" };

/**
 * Reacts to a fact (DueSoon, Overdue, …): plans one message per selected channel
 * and stores the new ones. Idempotent by event id twice over: a processed-fact
 * marker, and message ids derived from (event id, channel) under a unique index.
 * An overdue notice supersedes the account's older ones still queued on the same
 * channels (and is remembered as the newest, so an older one found later is
 * superseded at dispatch).
 */
export class NotifyOnFact {
  constructor(private readonly d: NotifyOnFactDeps) {}

  /** Plans and stores the messages for `fact` (a batch of one). */
  async handle(fact: Fact): Promise<NotifyOutcome> {
    return (await this.handleBatch([fact]))[0]!;
  }

  /**
   * Plans and stores the messages of many facts (a batch of one partition, in order) with a handful of round trips
   * instead of a handful per fact, in four steps of latency: (1) the processed markers, the profiles, the engagement
   * samples and the accounts read at once; (2) the due entries, then the messages; (3) the account notices beside
   * the supersessions; (4) the markers. Same outcome as `handle` fact by fact: a fact's messages are stored before its marker (a crash
   * in between replans it, the message ids dedupe), a newer notice of an account in the batch supersedes an older
   * one's queued messages (ordered), a fact seen twice in a batch is planned once.
   */
  async handleBatch(facts: Fact[]): Promise<NotifyOutcome[]> {
    const { messages, customers, engagements, policy, clock, settings } = this.d;
    const now = clock.now();
    const out: NotifyOutcome[] = facts.map(() => ({ outcome: "duplicate" }));
    const fresh: number[] = [];
    const seen = new Set<string>();
    for (const [i, f] of facts.entries()) {
      if (isStale(f, now, settings.maxFactAgeHours)) out[i] = { outcome: "stale" };
      else if (!seen.has(f.eventId)) {
        seen.add(f.eventId);
        fresh.push(i);
      }
    }
    if (fresh.length === 0) return out;
    // Every read of the batch at once, the processed markers beside what planning needs (on a first delivery, the
    // usual case, every fresh fact is to do; a redelivered batch reads profiles it will not use): one round trip of
    // latency instead of three. The accounts are those of facts whose notices may supersede (validityOf).
    const ids = [...new Set(fresh.map((i) => facts[i]!.customerId))];
    const accountIds = [...new Set(fresh.filter((i) => validityOf(facts[i]!, settings.defaultTimeZone).supersedable).map((i) => facts[i]!.accountId))];
    const since = new Date(now.getTime() - settings.model.lookbackDays * 86_400_000);
    const [done, profiles, samples, rules, known] = await Promise.all([
      messages.factsProcessed(fresh.map((i) => facts[i]!.eventId)),
      customers.getMany(ids),
      engagements.listSinceMany(ids, since),
      policy.load(),
      accountIds.length > 0 ? this.d.accounts.getMany(accountIds) : Promise.resolve(new Map<string, AccountFacts>()),
    ]);
    const todo = fresh.filter((i) => !done.has(facts[i]!.eventId));
    if (todo.length === 0) return out;
    const planned = todo.map((i) => {
      const fact = facts[i]!;
      const profile = profiles.get(fact.customerId) ?? defaultProfile(fact.customerId, settings.defaultTimeZone, settings.defaultLocale);
      const best = bestHour(samples.get(fact.customerId) ?? [], now, settings.model, settings.window);
      return planMessages({ fact, rules, profile, best, now, window: settings.window, maxDeferralHours: settings.maxDeferralHours, businessTimeZone: settings.defaultTimeZone });
    });
    // A newer overdue notice supersedes the previous one of its account and channel while that is still queued —
    // by the id the account remembers (one write by id, no query over the account's messages); older ones were
    // superseded the same way when that one came, and the dispatcher checks again against `accounts` (facts on
    // different topics, or a notice older than the stored one, are caught there).
    const notices = todo
      .map((i, k) => ({ fact: facts[i]!, messages: planned[k]!.filter((m) => m.supersedable && m.status === "SCHEDULED") }))
      .filter((n) => n.messages.length > 0);
    const supersede: ({ id: string; before: Date } & Supersession)[] = [];
    const records: { accountId: string; at: Date; channels: Channel[]; ids: Partial<Record<Channel, string>> }[] = [];
    for (const { fact, messages: ms } of notices) {
      const acc = known.get(fact.accountId) ?? {};
      const at = { ...acc.latestNoticeAt };
      const ids = { ...acc.latestNoticeId };
      const newer: Partial<Record<Channel, string>> = {};
      for (const m of ms) {
        const prev = at[m.channel];
        if (prev && prev >= fact.occurredAt) continue; // an older notice than the stored one: the dispatcher supersedes it
        const prevId = ids[m.channel];
        if (prevId && prevId !== m.id) supersede.push({ id: prevId, before: fact.occurredAt, ...supersession("NEWER_NOTICE", fact.occurredAt) });
        newer[m.channel] = m.id;
        at[m.channel] = fact.occurredAt;
        ids[m.channel] = m.id;
      }
      known.set(fact.accountId, { ...acc, latestNoticeAt: at, latestNoticeId: ids });
      records.push({ accountId: fact.accountId, at: fact.occurredAt, channels: ms.map((m) => m.channel), ids: newer });
    }
    // The messages first (their due entries before them, inside insertNew): a notice the account names, or a
    // supersession of an older notice of the same account in this very batch, needs its message stored. Then the
    // account notices and the supersessions at once: if only the supersessions land, the redelivery (no marker yet)
    // computes the same ones again from the unchanged account; if only the notices land, the redelivery skips the
    // supersessions and the dispatcher's check against `accounts` does them (as a crash between the two always
    // could). The markers come last.
    const inserted = new Set(await messages.insertNew(planned.flat()));
    await Promise.all([
      records.length > 0 ? this.d.accounts.recordNotices(records) : Promise.resolve(),
      supersede.length > 0 ? messages.supersedeByIds(supersede, now) : Promise.resolve(0),
    ]);
    await messages.markFactsProcessed(todo.map((i, k) => ({ factEventId: facts[i]!.eventId, factType: facts[i]!.factType, messageIds: planned[k]!.map((m) => m.id) })), now);
    for (const [k, i] of todo.entries()) {
      const msgIds = planned[k]!.map((m) => m.id);
      out[i] = { outcome: "planned", messageIds: msgIds, inserted: msgIds.filter((id) => inserted.has(id)) };
    }
    return out;
  }
}
