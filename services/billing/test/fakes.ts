/** In-memory ports for unit tests of the use cases (the int tests use Mongo). */
import { addDays, compareDates, type LocalDate, ManualClock } from "@whiteslip/core";
import type { Account } from "../src/domain/account";
import type { BillingEvent } from "../src/domain/events";
import { defaultProduct, productCatalog, type ProductConfig } from "../src/domain/product";
import type { AccountRepository, BillingDeps, BusinessDate, BusinessDateRepository, DateRun, EodRunRepository, PageDelta, RunStatus, Shard } from "../src/app/ports";
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
  async countActive(s: Shard) {
    return [...this.docs.values()].filter((a) => a.status === "ACTIVE" && this.inShard(a, s)).length;
  }
  async eodPage(date: LocalDate, s: Shard, afterId: string | undefined, limit: number) {
    return [...this.docs.values()]
      .filter((a) => a.status === "ACTIVE" && this.inShard(a, s) && compareDates(a.eodDate, date) < 0 && (afterId === undefined || a.id > afterId))
      .sort((x, y) => (x.id < y.id ? -1 : 1))
      .slice(0, limit)
      .map((a) => structuredClone(a));
  }
  async applyEodPage(date: LocalDate, items: { account: Account; expectedVersion: number; events: BillingEvent[] }[]) {
    const failed: string[] = [];
    for (const i of items) {
      const cur = this.docs.get(i.account.id)!;
      if (cur.version === i.expectedVersion && compareDates(cur.eodDate, date) < 0) {
        this.docs.set(i.account.id, structuredClone(i.account));
        this.outbox.push(...i.events);
      } else if (compareDates(cur.eodDate, date) < 0) failed.push(i.account.id);
    }
    return failed;
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
  async get(date: LocalDate) {
    const r = this.runs.get(date);
    return r ? structuredClone(r) : null;
  }
  async createIfAbsent(date: LocalDate, shardCount: number, at: Date) {
    if (!this.runs.has(date)) this.runs.set(date, { date, shardCount, status: "RUNNING", startedAt: at, shards: [] });
    return structuredClone(this.runs.get(date)!);
  }
  async startShard(date: LocalDate, s: Shard, total: number, at: Date) {
    const r = this.runs.get(date)!;
    const x = r.shards.find((y) => y.index === s.index);
    if (x) {
      x.status = "RUNNING";
      x.total = total;
    } else r.shards.push({ index: s.index, status: "RUNNING", total, processed: 0, counts: { statementsIssued: 0, dueSoon: 0, overdue: 0, chargedOff: 0, lateFees: 0 }, stats: emptyAgg(), startedAt: at });
  }
  async addPage(date: LocalDate, s: Shard, d: PageDelta) {
    const x = this.runs.get(date)!.shards.find((y) => y.index === s.index)!;
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
  }
  async finishShard(date: LocalDate, s: Shard, status: RunStatus, at: Date, error?: string) {
    const x = this.runs.get(date)!.shards.find((y) => y.index === s.index)!;
    x.status = status;
    if (status === "COMPLETED") x.completedAt = at;
    if (error) x.error = error;
  }
  async complete(date: LocalDate, at: Date) {
    const r = this.runs.get(date)!;
    r.status = "COMPLETED";
    r.completedAt = at;
  }
  async list(from: LocalDate, to: LocalDate) {
    return [...this.runs.values()].filter((r) => r.date >= from && r.date <= to).map((r) => structuredClone(r));
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
  };
  return { deps, accounts, clock };
}
