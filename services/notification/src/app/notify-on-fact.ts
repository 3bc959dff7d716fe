import type { Clock } from "@whiteslip/core";
import { defaultProfile, type Fact, isStale } from "../domain/model";
import { planMessages } from "../domain/plan";
import { supersededReason } from "../domain/validity";
import { loadBestHour } from "./best-hour";
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

  /** Plans and stores the messages for `fact`. */
  async handle(fact: Fact): Promise<NotifyOutcome> {
    const { messages, customers, engagements, policy, clock, settings } = this.d;
    const now = clock.now();
    if (isStale(fact, now, settings.maxFactAgeHours)) return { outcome: "stale" };
    if (await messages.factProcessed(fact.eventId)) return { outcome: "duplicate" };
    const profile =
      (await customers.get(fact.customerId)) ??
      defaultProfile(fact.customerId, settings.defaultTimeZone, settings.defaultLocale);
    const best = await loadBestHour(engagements, fact.customerId, now, settings);
    const planned = planMessages({
      fact,
      rules: await policy.load(),
      profile,
      best,
      now,
      window: settings.window,
      maxDeferralHours: settings.maxDeferralHours,
      businessTimeZone: settings.defaultTimeZone,
    });
    const inserted = planned.length > 0 ? await messages.insertNew(planned) : [];
    const notices = planned.filter((m) => m.supersedable && m.status === "SCHEDULED").map((m) => m.channel);
    if (notices.length > 0) {
      await this.d.accounts.record(fact.accountId, { notice: { channels: notices, at: fact.occurredAt } });
      await messages.supersedeQueued(
        fact.accountId,
        fact.occurredAt,
        supersededReason("NEWER_NOTICE", fact.occurredAt),
        notices,
      );
    }
    const ids = planned.map((m) => m.id);
    await messages.markFactProcessed(fact.eventId, fact.factType, ids, now);
    return { outcome: "planned", messageIds: ids, inserted };
  }
}
