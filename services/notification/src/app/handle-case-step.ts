/**
 * Steps of collection treatment paths (collections' TreatmentStepRequested): collections decides which message goes
 * on which channel on which DPD; notification still decides whether and when it may go — the customer's preferences,
 * quiet hours and the send-time model when planning, the frequency caps and the validity window at dispatch, the
 * legal-notice rules by category — exactly as for its own cadence, because the step is planned by the same
 * `planMessages` with a one-rule table (the step's channel and template, category COLLECTION).
 *
 * Never twice: the step's message id derives from the step's event id (one per step and channel, as for any fact);
 * once an account's case runs a path, the global overdue cadence plans nothing more for it until the account is
 * cured ({@link CasePathAwareNotify}); a cadence notice of that day still queued is superseded by the step, and one
 * already sent on the step's channel that business day makes the step's message SUPPRESSED ("already sent"), not a
 * second SMS.
 */
import { type Clock, dateInZone, invalidArgument } from "@whiteslip/core";
import type { CadenceRule } from "../domain/cadence-policy";
import { defaultProfile, type Channel, type Fact, isStale, type Message } from "../domain/model";
import { planMessages } from "../domain/plan";
import { hasTemplate, interpolate } from "../domain/templates";
import { type Supersession, supersession } from "../domain/validity";
import { loadBestHour } from "./best-hour";
import { NotifyOnFact, type NotifyOnFactDeps, type NotifyOutcome } from "./notify-on-fact";
import type { AccountFactsRepository, CustomerRepository, EngagementRepository, MessageRepository } from "./ports";
import type { NotificationSettings } from "./settings";

/** Which accounts run a case path: the time of the latest step asked for. */
export interface CasePathRepository {
  /** Latest step time, or null when the account never had one. */
  lastStepAt(accountId: string): Promise<Date | null>;
  /** Keeps the later of the stored time and `at`. */
  recordStep(accountId: string, at: Date): Promise<void>;
  /** Latest step time of many accounts (one query by id); absent = never had one. */
  lastStepAtMany(accountIds: string[]): Promise<Map<string, Date>>;
}

/** A digital step to send: the fact (an OVERDUE-like fact whose id is the step id) and what collections chose. */
export interface CaseStepRequest {
  fact: Fact;
  channel: Channel;
  /** Template `id@version`. */
  template: string;
  /** Collections' own wording of the body (checked for banned claims when the strategy was saved). */
  text?: string;
}

/** Dependencies of HandleCaseStep. */
export interface HandleCaseStepDeps {
  messages: MessageRepository;
  customers: CustomerRepository;
  engagements: EngagementRepository;
  accounts: AccountFactsRepository;
  casePaths: CasePathRepository;
  clock: Clock;
  settings: NotificationSettings;
}

/** Statuses of a message that went (or is going) out. */
const OUT: ReadonlySet<Message["status"]> = new Set(["SENDING", "SENT", "DELIVERED"]);

/** True while the account's case path is newer than its latest cure. */
export function pathActive(lastStepAt: Date | null, curedAt: Date | undefined): boolean {
  return lastStepAt !== null && (curedAt === undefined || curedAt.getTime() < lastStepAt.getTime());
}

/** Plans the message of one treatment-path step. */
export class HandleCaseStep {
  constructor(private readonly d: HandleCaseStepDeps) {}

  /** Plans and stores the step's message (SCHEDULED, or SUPPRESSED with the reason). */
  async handle(req: CaseStepRequest): Promise<NotifyOutcome> {
    const { messages, customers, engagements, accounts, casePaths, clock, settings } = this.d;
    const { fact } = req;
    if (!hasTemplate(req.template))
      throw invalidArgument([{ field: "template", description: `unknown template ${req.template}` }]);
    const now = clock.now();
    if (isStale(fact, now, settings.maxFactAgeHours)) return { outcome: "stale" };
    if (await messages.factProcessed(fact.eventId)) return { outcome: "duplicate" };
    // from now on the overdue cadence leaves this account to its case path
    await casePaths.recordStep(fact.accountId, fact.occurredAt);
    const profile =
      (await customers.get(fact.customerId)) ??
      defaultProfile(fact.customerId, settings.defaultTimeZone, settings.defaultLocale);
    const rule: CadenceRule = {
      id: "case-step",
      priority: 0,
      trigger: fact.trigger,
      channels: [req.channel],
      template: req.template,
      category: "COLLECTION",
    };
    const rendered = planMessages({
      fact,
      rules: [rule],
      profile,
      best: await loadBestHour(engagements, fact.customerId, now, settings),
      now,
      window: settings.window,
      maxDeferralHours: settings.maxDeferralHours,
      businessTimeZone: settings.defaultTimeZone,
    });
    // the strategy's own wording replaces the template's body (subject and greeting stay the template's)
    const planned = req.text ? rendered.map((m) => ({ ...m, body: interpolate(req.text!, fact.vars, m.locale) })) : rendered;
    // a cadence notice already out on this channel this business day: the step would double it
    const today = dateInZone(fact.occurredAt, settings.defaultTimeZone);
    const recent = await messages.listForCustomer(fact.customerId, fact.accountId, { offset: 0, limit: 50 });
    const sent = recent.find(
      (m) =>
        m.channel === req.channel &&
        m.category === "COLLECTION" &&
        m.factEventId !== fact.eventId &&
        OUT.has(m.status) &&
        dateInZone(m.factAt ?? m.createdAt, settings.defaultTimeZone) === today,
    );
    const out = planned.map((m) =>
      sent && m.status === "SCHEDULED"
        ? {
            ...m,
            status: "SUPPRESSED" as const,
            scheduledAt: now,
            scheduleReason: `already sent today on ${m.channel} (message ${sent.id})`,
            lastError: "already sent",
            reasonCode: "ALREADY_SENT" as const,
            statusReason: `already sent today on ${m.channel} (message ${sent.id})`,
          }
        : m,
    );
    const live = out.filter((m) => m.status === "SCHEDULED").map((m) => m.channel);
    if (live.length > 0) {
      // the step supersedes the overdue notices still queued on its channel — the cadence's of the same day too, even
      // one whose fact carries the same instant (hence "up to 1 ms after", before the step's own message is stored)
      await accounts.record(fact.accountId, { notice: { channels: live, at: fact.occurredAt } });
      const upTo = new Date(fact.occurredAt.getTime() + 1);
      await messages.supersedeQueued(fact.accountId, upTo, supersession("NEWER_NOTICE", fact.occurredAt), now, live);
    }
    const inserted = out.length > 0 ? await messages.insertNew(out) : [];
    const ids = out.map((m) => m.id);
    await messages.markFactProcessed(fact.eventId, fact.factType, ids, now);
    return { outcome: "planned", messageIds: ids, inserted };
  }
}

/**
 * NotifyOnFact whose overdue cadence stays quiet for accounts whose case runs a treatment path (until a cure newer
 * than the latest step); every other fact — DueSoon, payments, legal notices, accounts without a case path — as
 * before. A skipped Overdue is marked processed with no messages.
 */
export class CasePathAwareNotify extends NotifyOnFact {
  constructor(
    private readonly deps: NotifyOnFactDeps,
    private readonly casePaths: CasePathRepository,
  ) {
    super(deps);
  }

  override async handle(fact: Fact): Promise<NotifyOutcome> {
    if (fact.trigger === "OVERDUE") {
      const [last, facts] = await Promise.all([
        this.casePaths.lastStepAt(fact.accountId),
        this.deps.accounts.get(fact.accountId),
      ]);
      if (pathActive(last, facts?.curedAt)) {
        if (await this.deps.messages.factProcessed(fact.eventId)) return { outcome: "duplicate" };
        await this.deps.messages.markFactProcessed(fact.eventId, fact.factType, [], this.deps.clock.now());
        return { outcome: "planned", messageIds: [], inserted: [] };
      }
    }
    return super.handle(fact);
  }

  /**
   * The batch path (the due wave's consumer): Overdue facts of accounts on a treatment path go through `handle`
   * (skipped as above), the rest are planned together. (`handle` of a fact off the path plans it as a batch of one,
   * which comes back here and finds it off the path again.)
   */
  override async handleBatch(facts: Fact[]): Promise<NotifyOutcome[]> {
    const onPath = await Promise.all(
      facts.map(async (fact) => {
        if (fact.trigger !== "OVERDUE") return false;
        const [last, f] = await Promise.all([this.casePaths.lastStepAt(fact.accountId), this.deps.accounts.get(fact.accountId)]);
        return pathActive(last, f?.curedAt);
      }),
    );
    if (!onPath.some(Boolean)) return this.yieldToPath(facts, await super.handleBatch(facts));
    const rest = facts.filter((_, i) => !onPath[i]);
    const planned = rest.length > 0 ? await this.yieldToPath(rest, await super.handleBatch(rest)) : [];
    const out: NotifyOutcome[] = [];
    let k = 0;
    for (const [i, fact] of facts.entries()) out.push(onPath[i] ? await this.handle(fact) : planned[k++]!);
    return out;
  }

  /**
   * The race with a concurrent step (the Overdue and collections' step for it arrive on different topics, whose
   * partitions are consumed concurrently): the cadence found no path, then the step recorded its path and superseded
   * the queued notices on its channel — before the cadence's own notice was stored — so the cadence's SMS would go
   * out beside the step's (both facts carry the same instant, so the dispatcher's "newer notice" check, strictly
   * later, does not catch it either). Hence, after storing, the path is read again: an Overdue of an account whose
   * path is active now yields its queued messages to it (SUPERSEDED, reported), as if it had been skipped. Either
   * the step's supersession runs after the cadence's insert, or this read runs after the step's record: one of the
   * two sees the other. (A crash between the cadence's marker and this write leaves that notice queued: the window
   * of the original race, now only on a crash.)
   */
  private async yieldToPath(facts: Fact[], outcomes: NotifyOutcome[]): Promise<NotifyOutcome[]> {
    const planned = facts.flatMap((f, i) => {
      const o = outcomes[i]!;
      return f.trigger === "OVERDUE" && o.outcome === "planned" && o.messageIds.length > 0 ? [{ f, ids: o.messageIds }] : [];
    });
    if (planned.length === 0) return outcomes;
    const last = await this.casePaths.lastStepAtMany([...new Set(planned.map((p) => p.f.accountId))]);
    if (last.size === 0) return outcomes;
    const facts2 = await this.deps.accounts.getMany([...last.keys()]);
    const items: ({ id: string; before: Date } & Supersession)[] = [];
    for (const { f, ids } of planned) {
      const at = last.get(f.accountId);
      if (!at || !pathActive(at, facts2.get(f.accountId)?.curedAt)) continue;
      const before = new Date(Math.max(at.getTime(), f.occurredAt.getTime()) + 1);
      for (const id of ids) items.push({ id, before, ...supersession("NEWER_NOTICE", at) });
    }
    if (items.length > 0) await this.deps.messages.supersedeByIds(items, this.deps.clock.now());
    return outcomes;
  }
}
