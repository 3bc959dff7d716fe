/** In-memory ports for unit tests of the use cases (the int tests use Mongo). */
import { addDays, compareDates, type LocalDate, ManualClock } from "@whiteslip/core";
import type { Account } from "../src/domain/account";
import type { BillingEvent } from "../src/domain/events";
import { defaultProduct, productCatalog, type ProductConfig } from "../src/domain/product";
import type { AccountRepository, BillingDeps, BusinessDate, BusinessDateRepository, DateRun, EodItem, EodMark, EodRunRepository, Lease, PageDelta, PortfolioAgg, QuarantinedAccount, Shard, ShardRun } from "../src/app/ports";
import { emptyAgg } from "../src/app/run-end-of-day";

export class MemoryAccounts implements AccountRepository {
  readonly docs = new Map<string, Account>();
  readonly outbox: BillingEvent[] = [];
  async get(id: string) {
    const a = this.docs.get(id);
    return a ? structuredClone(a) : null;
  }
  async insert(a: Account, events: BillingEvent[]) {
    if (this.docs.has(a.id)) return "exists" as const;
    this.docs.set(a.id, structuredClone(a));
    this.outbox.push(...events);
    return "inserted" as const;
  }
  async update(a: Account, v: number, events: BillingEvent[]) {
    if (this.docs.get(a.id)?.version !== v) return false;
    this.docs.set(a.id, structuredClone(a));
    this.outbox.push(...events);
    return true;
  }
  private inShard(a: Account, s: Shard) {
    return a.shardKey % s.count === s.index;
  }
  /** The agenda: what the Mongo adapter keeps per date, here the accounts whose hint is due (plus scheduled ids). */
  readonly scheduled = new Map<LocalDate, Set<string>>();
  private onAgenda(a: Account, date: LocalDate) {
    return (a.nextActionDate !== undefined && compareDates(a.nextActionDate, date) <= 0) || (this.scheduled.get(date)?.has(a.id) ?? false);
  }
  async countScheduled(date: LocalDate, s: Shard) {
    return [...this.docs.values()].filter((a) => a.status === "ACTIVE" && this.inShard(a, s) && this.onAgenda(a, date) && compareDates(a.eodDate, date) < 0).length;
  }
  async schedule(ids: string[], date: LocalDate) {
    const x = this.scheduled.get(date) ?? this.scheduled.set(date, new Set()).get(date)!;
    for (const id of ids) x.add(id);
  }
  async retireAgenda(_date: LocalDate) {}
  async getManyForEod(ids: string[]) {
    return ids.flatMap((id) => (this.docs.has(id) ? [{ account: structuredClone(this.docs.get(id)!), ...(this.marks.has(id) ? { mark: structuredClone(this.marks.get(id)!) } : {}) }] : []));
  }
  async *scanAll() {
    for (const a of this.docs.values()) yield { account: structuredClone(a), ...(this.marks.has(a.id) ? { mark: structuredClone(this.marks.get(a.id)!) } : {}) };
  }
  readonly marks = new Map<string, EodMark>();
  async getMany(ids: string[]) {
    return ids.flatMap((id) => (this.docs.has(id) ? [structuredClone(this.docs.get(id)!)] : []));
  }
  async eodPage(date: LocalDate, s: Shard, afterId: string | undefined, limit: number, throughId?: string) {
    return [...this.docs.values()]
      .filter(
        (a) =>
          a.status === "ACTIVE" &&
          this.inShard(a, s) &&
          a.nextActionDate !== undefined &&
          compareDates(a.nextActionDate, date) <= 0 &&
          compareDates(a.eodDate, date) < 0 &&
          (afterId === undefined || a.id > afterId) &&
          (throughId === undefined || a.id <= throughId),
      )
      .sort((x, y) => (x.id < y.id ? -1 : 1))
      .slice(0, limit)
      .map((a) => ({ account: structuredClone(a), ...(this.marks.has(a.id) ? { mark: structuredClone(this.marks.get(a.id)!) } : {}) }));
  }
  async applyEodPage(date: LocalDate, items: EodItem[]) {
    const applied: string[] = [];
    const redo: string[] = [];
    for (const i of items) {
      const cur = this.docs.get(i.account.id)!;
      if (cur.version === i.expectedVersion && compareDates(cur.eodDate, date) < 0) {
        this.docs.set(i.account.id, structuredClone(i.account));
        this.marks.set(i.account.id, structuredClone(i.mark));
        this.outbox.push(...i.events);
        applied.push(i.account.id);
      } else if (compareDates(cur.eodDate, date) < 0) redo.push(i.account.id);
    }
    return { applied, redo };
  }
  async publishPending() {
    return 0; // events go to the outbox with the write
  }
  async pageMarks(_date: LocalDate, _s: Shard, pageId: string, afterId: string | undefined, throughId: string) {
    return [...this.marks].filter(([id, m]) => m.page === pageId && (afterId === undefined || id > afterId) && id <= throughId).map(([, m]) => m);
  }
  async *marksOf(date: LocalDate, s: Shard) {
    for (const [id, m] of this.marks) if (m.date === date && this.inShard(this.docs.get(id)!, s)) yield m;
  }
  async countMarks(date: LocalDate, s: Shard) {
    let n = 0;
    for await (const _ of this.marksOf(date, s)) n++;
    return n;
  }
  async chargedOffBetween(from: LocalDate, to: LocalDate) {
    return [...this.docs.values()].filter((a) => a.chargedOffDate && a.chargedOffDate > from && a.chargedOffDate <= to);
  }
  async chargedOffTotal(date: LocalDate) {
    return [...this.docs.values()].filter((a) => a.chargedOffDate && a.chargedOffDate <= date).reduce((s, a) => s + a.chargedOffFen, 0n);
  }
}

export class MemoryBusinessDates implements BusinessDateRepository {
  state?: BusinessDate;
  async get(initial: LocalDate) {
    this.state ??= { current: initial };
    return { ...this.state };
  }
  async advance(date: LocalDate) {
    if (this.state?.current === date) this.state = { current: addDays(date, 1), lastCompleted: date };
  }
}

export class MemoryRuns implements EodRunRepository {
  readonly runs = new Map<string, DateRun>();
  readonly pages = new Set<string>();
  readonly quarantine_ = new Map<string, QuarantinedAccount>();
  private shard(date: LocalDate, s: Shard): ShardRun | undefined {
    return this.runs.get(date)?.shards.find((y) => y.index === s.index);
  }
  async get(date: LocalDate) {
    const r = this.runs.get(date);
    if (!r) return null;
    const c = structuredClone(r);
    if (c.status !== "COMPLETED" && c.shards.some((s) => s.status === "FAILED")) c.status = "FAILED";
    return c;
  }
  async createIfAbsent(date: LocalDate, shardCount: number, at: Date) {
    if (!this.runs.has(date)) this.runs.set(date, { date, shardCount, status: "RUNNING", startedAt: at, shards: [] });
    return (await this.get(date))!;
  }
  async reopen(date: LocalDate, s: Shard) {
    const x = this.shard(date, s);
    if (x?.status === "FAILED") {
      x.status = "RUNNING";
      delete x.error;
      delete x.owner;
      delete x.leaseToken;
    }
  }
  async acquire(date: LocalDate, s: Shard, lease: Lease, now: Date, until: Date, total: () => Promise<number>) {
    if (!this.shard(date, s))
      this.runs.get(date)!.shards.push({ index: s.index, status: "RUNNING", total: 0, processed: 0, counts: { statementsIssued: 0, dueSoon: 0, overdue: 0, chargedOff: 0, lateFees: 0 }, stats: emptyAgg(), startedAt: now, takeovers: 0 });
    this.runs.get(date)!.shards.sort((a, b) => a.index - b.index);
    const x = this.shard(date, s)!;
    if (x.status !== "RUNNING") return null;
    const free = !x.leaseToken;
    if (!free && !(x.leaseUntil! < now)) return null;
    x.total = await total();
    if (!free) x.takeovers++;
    Object.assign(x, { owner: lease.owner, leaseToken: lease.token, leaseUntil: until, heartbeatAt: now });
    return structuredClone(x);
  }
  async renew(date: LocalDate, s: Shard, token: string, now: Date, until: Date) {
    const x = this.shard(date, s);
    if (x?.leaseToken !== token) return false;
    Object.assign(x, { leaseUntil: until, heartbeatAt: now });
    return true;
  }
  async release(date: LocalDate, s: Shard, token: string) {
    const x = this.shard(date, s);
    if (x?.leaseToken !== token) return;
    x.leaseUntil = new Date(0);
    delete x.owner;
    delete x.leaseToken;
  }
  async addPage(date: LocalDate, s: Shard, token: string | null, pageId: string, d: PageDelta, cursor: string | undefined, until: Date) {
    const x = this.shard(date, s)!;
    if (this.pages.has(pageId)) return "duplicate" as const;
    if (token ? x.leaseToken !== token : x.status !== "COMPLETED") return "lost" as const;
    this.pages.add(pageId);
    if (token) {
      x.leaseUntil = until;
      if (cursor !== undefined) x.cursor = cursor;
    }
    x.processed += d.processed;
    for (const k of Object.keys(d.counts) as (keyof PageDelta["counts"])[]) x.counts[k] += d.counts[k];
    for (const [b, v] of Object.entries(d.stats.buckets)) {
      const t = (x.stats.buckets[b as "M0"] ??= { accounts: 0, balance: 0n });
      t.accounts += v!.accounts;
      t.balance += v!.balance;
    }
    for (const [k, n] of Object.entries(d.stats.roll)) x.stats.roll[k] = (x.stats.roll[k] ?? 0) + n;
    x.stats.chargedOffFen += d.stats.chargedOffFen;
    for (const [k, v] of Object.entries(d.stats.inflows)) {
      const t = (x.stats.inflows[k] ??= { amount: 0n, accounts: 0 });
      t.amount += v.amount;
      t.accounts += v.accounts;
    }
    return "applied" as const;
  }
  async replaceCounts(date: LocalDate, s: Shard, token: string, c: PageDelta) {
    const x = this.shard(date, s)!;
    if (x.leaseToken !== token) return false;
    Object.assign(x, structuredClone({ processed: c.processed, counts: c.counts, stats: c.stats }));
    return true;
  }
  async finishShard(date: LocalDate, s: Shard, token: string, status: "COMPLETED" | "FAILED", at: Date, error?: string) {
    const x = this.shard(date, s)!;
    if (x.leaseToken !== token) return false;
    x.status = status;
    if (status === "COMPLETED") {
      x.completedAt = at;
      delete x.error;
    }
    if (error) x.error = error;
    x.leaseUntil = new Date(0);
    delete x.owner;
    delete x.leaseToken;
    return true;
  }
  async complete(date: LocalDate, at: Date, portfolio: PortfolioAgg) {
    const r = this.runs.get(date)!;
    if (r.status === "COMPLETED") return;
    r.status = "COMPLETED";
    r.completedAt = at;
    r.portfolio = structuredClone(portfolio);
  }
  async list(from: LocalDate, to: LocalDate) {
    return [...this.runs.values()].filter((r) => r.date >= from && r.date <= to).map((r) => structuredClone(r));
  }
  async unfinishedDates() {
    return [...this.runs.values()].filter((r) => r.status !== "COMPLETED").map((r) => r.date);
  }
  async orphaned(now: Date) {
    return [...this.runs.values()].flatMap((r) =>
      r.shards.filter((s) => s.status === "RUNNING" && (!s.leaseToken || s.leaseUntil! < now)).map((s) => ({ date: r.date, shard: { index: s.index, count: r.shardCount } })),
    );
  }
  async quarantine(q: QuarantinedAccount) {
    const k = `${q.date}#${q.shardIndex}#${q.accountId}`;
    const isNew = !this.quarantine_.has(k);
    this.quarantine_.set(k, structuredClone(q));
    return isNew;
  }
  async clearQuarantine(ids: string[], date: LocalDate) {
    for (const [k, q] of this.quarantine_) if (ids.includes(q.accountId) && q.date <= date) this.quarantine_.delete(k);
  }
  async quarantinedIds(date: LocalDate) {
    return [...new Set([...this.quarantine_.values()].filter((q) => q.date <= date).map((q) => q.accountId))];
  }
  async quarantined(date: LocalDate, limit: number) {
    const all = [...this.quarantine_.values()].filter((q) => q.date === date).sort((a, b) => a.at.getTime() - b.at.getTime());
    return { count: all.length, accounts: all.slice(0, limit).map((q) => structuredClone(q)) };
  }
}

/** Deps over in-memory ports with a manual clock at `start` 02:00 Shanghai time. */
export function memoryDeps(start: LocalDate = "2025-01-01", products: ProductConfig[] = [defaultProduct]) {
  const clock = new ManualClock(`${start}T18:00:00Z`); // 02:00 the next day in Shanghai
  clock.set(`${addDays(start, -1)}T18:00:00Z`);
  const accounts = new MemoryAccounts();
  const deps: BillingDeps = {
    accounts,
    businessDates: new MemoryBusinessDates(),
    runs: new MemoryRuns(),
    catalog: productCatalog(products),
    clock,
    timeZone: "Asia/Shanghai",
    eodPageSize: 2,
    eodCutoffMs: 3 * 60_000,
    eodLeaseMs: 60_000,
  };
  return { deps, accounts, clock };
}
