/** In-memory fakes of the ports, for unit tests of the use cases only (int tests use Mongo). */

import type {
  AccountFactsRepository,
  ChannelProvider,
  ContactPatch,
  CustomerRepository,
  EngagementRepository,
  MessageRepository,
  NotificationEvent,
  OutboundMessage,
  Page,
  PolicyRepository,
  PolicyTableRepository,
  ProviderReceipt,
} from "../src/app/ports";
import type { CadenceRule } from "../src/domain/cadence-policy";
import { DEFAULT_CADENCE_POLICY } from "../src/domain/cadence-policy";
import {
  type CustomerProfile,
  type EngagementKind,
  isProminent,
  isUnsent,
  type Channel,
  type Message,
  type Preferences,
} from "../src/domain/model";
import type { EngagementSample } from "../src/domain/schedule";
import type { AccountFacts, Supersession } from "../src/domain/validity";

export class FakeCustomers implements CustomerRepository {
  readonly rows = new Map<string, CustomerProfile>();
  async get(id: string) {
    const p = this.rows.get(id);
    return p ? structuredClone(p) : null;
  }
  async getMany(ids: string[]) {
    const out = new Map<string, CustomerProfile>();
    for (const id of ids) {
      const p = this.rows.get(id);
      if (p) out.set(id, structuredClone(p));
    }
    return out;
  }
  async upsertContacts(id: string, patch: ContactPatch) {
    const cur = this.rows.get(id) ?? {
      customerId: id,
      timeZone: "Asia/Shanghai",
      locale: "zh-CN",
      preferences: {},
      quietHoursConsent: false,
    };
    const next = { ...cur, ...patch } as CustomerProfile;
    this.rows.set(id, next);
    return structuredClone(next);
  }
  async setPreferences(id: string, preferences: Preferences, quietHoursConsent: boolean) {
    const cur = this.rows.get(id) ?? {
      customerId: id,
      timeZone: "Asia/Shanghai",
      locale: "zh-CN" as const,
      preferences: {},
      quietHoursConsent: false,
    };
    const next = { ...cur, preferences, quietHoursConsent };
    this.rows.set(id, next);
    return structuredClone(next);
  }
}

export class FakeMessages implements MessageRepository {
  readonly rows = new Map<string, Message>();
  readonly facts = new Set<string>();
  readonly events: { messageId: string; event: NotificationEvent }[] = [];
  async factProcessed(id: string) {
    return this.facts.has(id);
  }
  async markFactProcessed(id: string) {
    this.facts.add(id);
  }
  async factsProcessed(ids: string[]) {
    return new Set(ids.filter((id) => this.facts.has(id)));
  }
  async markFactsProcessed(facts: { factEventId: string }[]) {
    for (const f of facts) this.facts.add(f.factEventId);
  }
  async supersedeByIds(items: ({ id: string; before: Date } & Supersession)[], at: Date) {
    let n = 0;
    for (const x of items) {
      const m = this.rows.get(x.id);
      if (!m || !m.supersedable || !["SCHEDULED", "HELD"].includes(m.status) || !m.factAt || m.factAt >= x.before) continue;
      m.status = "SUPERSEDED";
      m.statusReason = x.reason;
      m.reasonCode = x.code;
      this.events.push({ messageId: m.id, event: { type: "UNSENT", at } });
      n++;
    }
    return n;
  }
  async insertNew(ms: Message[]) {
    const out: string[] = [];
    for (const m of ms) {
      if (this.rows.has(m.id)) continue;
      this.rows.set(m.id, structuredClone(m));
      if (isUnsent(m.status)) this.events.push({ messageId: m.id, event: { type: "UNSENT", at: m.createdAt } });
      out.push(m.id);
    }
    return out;
  }
  async findDue(now: Date, limit: number) {
    return [...this.rows.values()]
      .filter(
        (m) =>
          (["SCHEDULED", "HELD"].includes(m.status) && m.scheduledAt <= now) ||
          (m.status === "SENDING" && m.claimExpiresAt !== undefined && m.claimExpiresAt <= now) ||
          (m.status === "RECONCILE" && m.reconcileAt !== undefined && m.reconcileAt <= now),
      )
      .sort((a, b) => a.scheduledAt.getTime() - b.scheduledAt.getTime() || a.id.localeCompare(b.id))
      .slice(0, limit)
      .map((m) => structuredClone(m));
  }
  async transition(
    next: Message,
    events: NotificationEvent[],
    expected: Pick<Message, "status" | "scheduledAt" | "claimToken">,
  ) {
    const cur = this.rows.get(next.id);
    if (
      !cur ||
      cur.status !== expected.status ||
      cur.scheduledAt.getTime() !== expected.scheduledAt.getTime() ||
      (cur.claimToken ?? null) !== (expected.claimToken ?? null)
    )
      return false;
    this.rows.set(next.id, structuredClone(next));
    for (const event of events) this.events.push({ messageId: next.id, event });
    return true;
  }
  async supersedeQueued(accountId: string, before: Date, s: Supersession, at: Date, channels?: readonly Channel[]) {
    let n = 0;
    for (const m of this.rows.values()) {
      if (m.accountId !== accountId || !m.supersedable || !["SCHEDULED", "HELD"].includes(m.status)) continue;
      if (!m.factAt || m.factAt >= before || (channels && !channels.includes(m.channel))) continue;
      m.status = "SUPERSEDED";
      m.statusReason = s.reason;
      m.reasonCode = s.code;
      this.events.push({ messageId: m.id, event: { type: "UNSENT", at } });
      n++;
    }
    return n;
  }
  async get(id: string) {
    const m = this.rows.get(id);
    return m ? structuredClone(m) : null;
  }
  async listForFact(f: string) {
    return [...this.rows.values()].filter((m) => m.factEventId === f);
  }
  async cappedSentPerDay(customerId: string, days: string[]) {
    const out: Record<string, number> = {};
    for (const m of this.rows.values())
      if (m.customerId === customerId && m.capDay && days.includes(m.capDay))
        out[m.capDay] = (out[m.capDay] ?? 0) + 1;
    return out;
  }
  async cappedSentPerDayMany(customerIds: string[], days: string[]) {
    const out = new Map<string, Record<string, number>>();
    for (const c of customerIds) {
      const per = await this.cappedSentPerDay(c, days);
      if (Object.keys(per).length > 0) out.set(c, per);
    }
    return out;
  }
  async countDue(now: Date) {
    return (await this.findDue(now, Number.MAX_SAFE_INTEGER)).length + [...this.rows.values()].filter((m) => m.status === "SENDING" && !(m.claimExpiresAt && m.claimExpiresAt <= now)).length;
  }
  async listReconcile(operatorOnly: boolean, p: { offset: number; limit: number }) {
    return [...this.rows.values()]
      .filter((m) => m.status === "RECONCILE" && (!operatorOnly || m.reconcileAt === undefined))
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id))
      .slice(p.offset, p.offset + p.limit)
      .map((m) => structuredClone(m));
  }
  async countByChannelStatus(range: { from?: Date; to?: Date }) {
    const cells = new Map<string, { channel: Message["channel"]; status: Message["status"]; count: number }>();
    for (const m of this.rows.values()) {
      if ((range.from && m.createdAt < range.from) || (range.to && m.createdAt >= range.to)) continue;
      const k = `${m.channel}/${m.status}`;
      const c = cells.get(k) ?? { channel: m.channel, status: m.status, count: 0 };
      c.count++;
      cells.set(k, c);
    }
    return [...cells.values()];
  }
  async listForCustomer(customerId: string, accountId: string | undefined, p: Page) {
    return [...this.rows.values()]
      .filter((m) => m.customerId === customerId && (!accountId || m.accountId === accountId))
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || a.id.localeCompare(b.id))
      .slice(p.offset, p.offset + p.limit);
  }
  private inbox(customerId: string) {
    return [...this.rows.values()].filter(
      (m) => m.customerId === customerId && m.channel === "IN_APP" && m.status === "DELIVERED",
    );
  }
  async listInbox(customerId: string, unreadOnly: boolean, p: Page) {
    const rank = (m: Message) => (!m.readAt && isProminent(m.category) ? 1 : 0);
    return this.inbox(customerId)
      .filter((m) => !unreadOnly || !m.readAt)
      .sort(
        (a, b) =>
          rank(b) - rank(a) ||
          b.deliveredAt!.getTime() - a.deliveredAt!.getTime() ||
          b.createdAt.getTime() - a.createdAt.getTime() ||
          a.id.localeCompare(b.id),
      )
      .slice(p.offset, p.offset + p.limit);
  }
  async countUnread(customerId: string) {
    return this.inbox(customerId).filter((m) => !m.readAt).length;
  }
  async markRead(customerId: string, ids: string[] | undefined, now: Date) {
    let n = 0;
    for (const m of this.inbox(customerId)) {
      if (m.readAt || (ids && !ids.includes(m.id))) continue;
      m.readAt = now;
      n++;
    }
    return n;
  }
  async recordEngagement(m: Message, kind: EngagementKind, at: Date) {
    const cur = this.rows.get(m.id)!;
    if (cur.engagedKinds.includes(kind)) return "duplicate" as const;
    cur.engagedKinds.push(kind);
    this.events.push({ messageId: m.id, event: { type: "ENGAGED", at, kind } });
    return "applied" as const;
  }
}

export class FakeAccounts implements AccountFactsRepository {
  readonly rows = new Map<string, AccountFacts>();
  async get(accountId: string) {
    const f = this.rows.get(accountId);
    return f ? structuredClone(f) : null;
  }
  async getMany(ids: string[]) {
    const out = new Map<string, NonNullable<Awaited<ReturnType<FakeAccounts["get"]>>>>();
    for (const id of ids) {
      const f = await this.get(id);
      if (f) out.set(id, f);
    }
    return out;
  }
  async recordNotices(notices: { accountId: string; at: Date; channels: readonly Channel[]; ids: Partial<Record<Channel, string>> }[]) {
    for (const n of notices) {
      await this.record(n.accountId, { notice: { channels: n.channels, at: n.at } });
      const cur = this.rows.get(n.accountId)!;
      this.rows.set(n.accountId, { ...cur, latestNoticeId: { ...cur.latestNoticeId, ...n.ids } });
    }
  }
  async record(
    accountId: string,
    f: { paymentAt?: Date; curedAt?: Date; notice?: { channels: readonly Channel[]; at: Date } },
  ) {
    const cur = this.rows.get(accountId) ?? {};
    const max = (a: Date | undefined, b: Date | undefined) => (!a ? b : !b ? a : a > b ? a : b);
    const latestNoticeAt = { ...cur.latestNoticeAt };
    for (const c of f.notice?.channels ?? []) latestNoticeAt[c] = max(latestNoticeAt[c], f.notice!.at);
    this.rows.set(accountId, {
      ...cur,
      lastPaymentAt: max(cur.lastPaymentAt, f.paymentAt),
      curedAt: max(cur.curedAt, f.curedAt),
      latestNoticeAt,
    });
  }
}

export class FakeEngagements implements EngagementRepository {
  readonly rows = new Map<string, { customerId: string; sample: EngagementSample }>();
  async add(customerId: string, messageId: string, sample: EngagementSample) {
    const key = `${messageId}:${sample.kind}`;
    if (!this.rows.has(key)) this.rows.set(key, { customerId, sample });
  }
  async listSince(customerId: string, since: Date) {
    return [...this.rows.values()]
      .filter((r) => r.customerId === customerId && r.sample.occurredAt >= since)
      .map((r) => r.sample);
  }
  async listSinceMany(customerIds: string[], since: Date) {
    const out = new Map<string, Awaited<ReturnType<FakeEngagements["listSince"]>>>();
    for (const c of customerIds) {
      const l = await this.listSince(c, since);
      if (l.length > 0) out.set(c, l);
    }
    return out;
  }
}

export class FakePolicy implements PolicyRepository, PolicyTableRepository {
  version = 1;
  updatedAt = new Date(0);
  updatedBy = "";
  constructor(public rules: CadenceRule[] = [...DEFAULT_CADENCE_POLICY]) {}
  async load() {
    return this.rules;
  }
  async current() {
    return { rules: this.rules, version: this.version, updatedAt: this.updatedAt, updatedBy: this.updatedBy };
  }
  async replaceIfVersion(rules: CadenceRule[], expected: number, actor: string, now: Date) {
    if (expected !== this.version) return undefined;
    Object.assign(this, { rules, version: expected + 1, updatedAt: now, updatedBy: actor });
    return this.current();
  }
}

/** A provider that records what it got and fails as scripted. */
export class RecordingProvider implements ChannelProvider {
  readonly sent: OutboundMessage[] = [];
  /** Set by a test that wants the provider asked whether it had a message. */
  lookup?: (messageId: string) => Promise<ProviderReceipt | null>;
  /** Set by a test of a provider whose lookup lags. */
  lookupSettleMs?: number;
  constructor(readonly deduplicates = true) {}
  failures: Error[] = [];
  delivered = true;
  async send(m: OutboundMessage): Promise<ProviderReceipt> {
    const f = this.failures.shift();
    if (f) throw f;
    this.sent.push(m);
    return { providerMessageId: `p-${this.sent.length}`, delivered: this.delivered };
  }
}
