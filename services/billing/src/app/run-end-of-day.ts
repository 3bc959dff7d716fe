/**
 * RunEndOfDay(D): the batch that closes business date D.
 *
 * - Time: D may close only once D has ended in the business time zone plus the cutoff
 *   (`endOfDayNotBefore`); dates close in order; a completed D is a no-op that returns its run (and
 *   retries D's quarantined accounts, if any).
 * - Ownership: each (date, shard) record is a lease. RunEndOfDay starts the run or joins it; the owner
 *   renews the lease every third of its length; every replica's supervisor takes over a RUNNING shard
 *   whose lease expired and resumes after the last counted page; SIGTERM hands the lease back (expired
 *   at once). Every write of the owner is conditional on its lease token, so two replicas never both
 *   work a shard; account updates are guarded by `eodDate < D` besides, so even a stalled former owner
 *   cannot apply an account twice.
 * - Effects: a page of accounts is read with one query, computed in memory and written with one
 *   unordered bulk write; each account's update carries its effects, its events (outbox) and its
 *   contribution to the run's counts and stats (`eodMark`), all in one single-document update.
 * - Stats cannot disagree with effects: a page's counts are added to the shard once per page id
 *   (idempotent), computed from what that page's write applied — or, for a page retried after a
 *   failure, read back from the marks its writes left. A crash between an account write and its page's
 *   count leaves marks no page counted; so before a shard completes, its counted total is checked
 *   against the number of accounts carrying D's mark, and on a difference the shard's counts are
 *   recounted from the marks (what was committed is the truth).
 * - Failures: an account whose end-of-day throws a non-infrastructure error (a product no longer
 *   configured, an int64 overflow, a bug) is quarantined with its error and the rest of the book goes
 *   on; the next run (D+1, or a re-run of D) retries it, catching it up day by day. Infrastructure
 *   errors (`isInfrastructureError`) never quarantine: the run pauses and retries with capped,
 *   jittered backoff while the heartbeat keeps the lease.
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import {
  addDays,
  compareDates,
  DomainError,
  dateInZone,
  failedPrecondition,
  invalidArgument,
  isDomainError,
  isInfrastructureError,
  isLocalDate,
  type LocalDate,
  systemClock,
  timeInZone,
} from "@whiteslip/core";
import { every } from "@whiteslip/runtime";
import { type Logger, meter } from "@whiteslip/telemetry";
import { type EodSnapshot, endOfDayNotBefore, endOfDayThrough } from "../domain/end-of-day";
import { productOf } from "./context";
import type { BillingDeps, DateRun, EodCandidate, EodItem, EodMark, Lease, PageDelta, PortfolioAgg, Shard, ShardRun } from "./ports";

/** Request of a run. */
export interface RunEndOfDayInput {
  /** The business date to close. */
  businessDate: string;
  /** Shard index (0-based). */
  shardIndex: number;
  /** Shard count (0 or 1 = whole book). */
  shardCount: number;
}

/** Empty aggregates. */
export function emptyAgg(): PortfolioAgg {
  return { buckets: {}, roll: {}, chargedOffFen: 0n, inflows: {} };
}

function emptyDelta(): PageDelta {
  return { processed: 0, counts: { statementsIssued: 0, dueSoon: 0, overdue: 0, chargedOff: 0, lateFees: 0 }, stats: emptyAgg() };
}

/** Adds (sign 1) or removes (sign −1) one account's portfolio contribution to/from aggregates (stocks only: buckets, roll, inflows). */
export function addSnapshot(agg: PortfolioAgg, s: EodSnapshot, sign: 1 | -1): void {
  const n = BigInt(sign);
  const b = (agg.buckets[s.bucket] ??= { accounts: 0, balance: 0n });
  b.accounts += sign;
  b.balance += BigInt(s.balance) * n;
  // a charged-off account leaves the roll matrix: charge-offs are counted from the charged-off accounts
  if (s.bucketMonthAgo && s.bucket !== "CHARGED_OFF") agg.roll[`${s.bucketMonthAgo}>${s.bucket}`] = (agg.roll[`${s.bucketMonthAgo}>${s.bucket}`] ?? 0) + sign;
  for (const f of s.inflows) {
    const x = (agg.inflows[f.date] ??= { amount: 0n, accounts: 0 });
    x.amount += BigInt(f.amount) * n;
    x.accounts += sign;
  }
}

/** Adds aggregates `b` to `a` (stocks and the flow); drops entries that came to zero. */
export function addAgg(a: PortfolioAgg, b: PortfolioAgg): PortfolioAgg {
  for (const [k, v] of Object.entries(b.buckets)) {
    const x = (a.buckets[k as keyof PortfolioAgg["buckets"]] ??= { accounts: 0, balance: 0n });
    x.accounts += v!.accounts;
    x.balance += BigInt(v!.balance);
    if (x.accounts === 0 && x.balance === 0n) delete a.buckets[k as keyof PortfolioAgg["buckets"]];
  }
  for (const [k, n] of Object.entries(b.roll)) {
    a.roll[k] = (a.roll[k] ?? 0) + n;
    if (a.roll[k] === 0) delete a.roll[k];
  }
  a.chargedOffFen = BigInt(a.chargedOffFen) + BigInt(b.chargedOffFen);
  for (const [day, v] of Object.entries(b.inflows)) {
    const x = (a.inflows[day] ??= { amount: 0n, accounts: 0 });
    x.amount += BigInt(v.amount);
    x.accounts += v.accounts;
    if (x.accounts === 0 && x.amount === 0n) delete a.inflows[day];
  }
  return a;
}

/**
 * Adds one account's end-of-day (its mark) to a page's or a recount's totals: its counts, and the change
 * of its portfolio contribution — the new snapshot less the previous one it replaces — plus today's
 * charge-off (a flow).
 */
function addToDelta(d: PageDelta, m: Pick<EodMark, "counts" | "snapshot" | "prev">): void {
  d.processed++;
  for (const k of Object.keys(d.counts) as (keyof PageDelta["counts"])[]) d.counts[k] += m.counts[k];
  addSnapshot(d.stats, m.snapshot, 1);
  if (m.prev) addSnapshot(d.stats, m.prev, -1);
  d.stats.chargedOffFen += BigInt(m.snapshot.chargedOffFen);
}

/** The counts and stats of a date's shard recounted from the marks its committed account updates carry. */
export async function recountShard(deps: BillingDeps, date: LocalDate, shard: Shard): Promise<PageDelta> {
  const d = emptyDelta();
  for await (const m of deps.accounts.marksOf(date, shard)) addToDelta(d, m);
  return d;
}

/** The earliest instant end-of-day of `date` may run under this billing's cutoff. */
export function notBeforeOf(deps: BillingDeps, date: LocalDate): Date {
  return endOfDayNotBefore(date, deps.timeZone, deps.eodCutoffMs);
}

function describeInstant(at: Date, timeZone: string): string {
  const t = timeInZone(at, timeZone);
  const hm = `${String(t.hour).padStart(2, "0")}:${String(t.minute).padStart(2, "0")}`;
  return `${dateInZone(at, timeZone)} ${hm} ${timeZone} (${at.toISOString()})`;
}

/**
 * The run of the last completed business date, or none yet. The business date moves on just before the run
 * record completes (see `completeDateIfDone`); in that moment the date before is the last one closed.
 */
export async function lastClosedRun(deps: Pick<BillingDeps, "businessDates" | "runs">): Promise<DateRun | undefined> {
  const { lastCompleted } = await deps.businessDates.get("1970-01-01");
  if (!lastCompleted) return undefined;
  const run = await deps.runs.get(lastCompleted);
  if (run?.status === "COMPLETED") return run;
  const before = await deps.runs.get(addDays(lastCompleted, -1));
  return before?.status === "COMPLETED" ? before : undefined;
}

/** Validates the request and the rules of time and order; a completed date comes back as `completed`. */
async function checkRequest(deps: BillingDeps, i: RunEndOfDayInput): Promise<{ shard: Shard; date: LocalDate; completed?: DateRun }> {
  const count = i.shardCount <= 1 ? 1 : i.shardCount;
  const v = [];
  if (!isLocalDate(i.businessDate)) v.push({ field: "business_date", description: `${JSON.stringify(i.businessDate)} is not a YYYY-MM-DD date` });
  if (!Number.isInteger(i.shardCount) || i.shardCount < 0 || i.shardCount > 1024) v.push({ field: "shard_count", description: `shard count ${i.shardCount} must be 0–1024` });
  if (!Number.isInteger(i.shardIndex) || i.shardIndex < 0 || i.shardIndex >= count) v.push({ field: "shard_index", description: `shard index ${i.shardIndex} must be 0–${count - 1}` });
  if (v.length) throw invalidArgument(v);
  const date = i.businessDate;
  const shard = { index: i.shardIndex, count };
  const now = deps.clock.now();
  const bd = await deps.businessDates.get(dateInZone(now, deps.timeZone));
  if (compareDates(date, bd.current) < 0) {
    const done = await deps.runs.get(date);
    if (done?.status === "COMPLETED") return { shard, date, completed: done };
    // Its shards are done and the business date has moved on; the run record completes next.
    if (done && addDays(date, 1) === bd.current) return { shard, date };
    throw failedPrecondition("EOD_DATE_CLOSED", `business date ${date} is before the current business date ${bd.current}`, { businessDate: date, currentBusinessDate: bd.current });
  }
  if (compareDates(date, bd.current) > 0)
    throw failedPrecondition("EOD_DATE_OUT_OF_ORDER", `end-of-day ${date} cannot run before ${bd.current}; dates are closed in order`, { businessDate: date, currentBusinessDate: bd.current });
  const notBefore = notBeforeOf(deps, date);
  if (now.getTime() < notBefore.getTime())
    throw failedPrecondition(
      "EOD_DAY_NOT_ENDED",
      `end-of-day ${date} may run only once ${date} has ended in ${deps.timeZone} plus the ${Math.round(deps.eodCutoffMs / 1000)} s cutoff: not before ${describeInstant(notBefore, deps.timeZone)}`,
      { businessDate: date, notBefore: notBefore.toISOString(), timeZone: deps.timeZone, cutoffSeconds: String(Math.round(deps.eodCutoffMs / 1000)) },
    );
  return { shard, date };
}

/** How an execution of a shard ended. */
type Outcome =
  | { kind: "completed" }
  /** Handed back on stop (or after an infrastructure error while stopping): another replica continues. */
  | { kind: "released" }
  /** Another replica took the lease over. */
  | { kind: "lost" }
  /** The test hook stopped it dead, as a SIGKILL would. */
  | { kind: "abandoned" }
  | { kind: "failed"; error: Error };

interface Execution {
  date: LocalDate;
  shard: Shard;
  lease: Lease;
  abort: AbortController;
  done: Promise<Outcome>;
}

/** What one page's processing needs to know. */
interface PageCtx {
  date: LocalDate;
  shard: Shard;
  signal: AbortSignal;
  /** Accounts quarantined before the execution began (cleared when they go through). */
  quarantined: Set<string>;
}

const quarantinedCounter = meter("billing").createCounter("billing_eod_accounts_quarantined", {
  description: "Accounts quarantined by end-of-day (held out of a run after a non-infrastructure error), by reason",
});

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });

const keyOf = (date: LocalDate, s: Shard) => `${date}#${s.index}`;

/**
 * The end-of-day worker of one billing replica: starts or joins runs for RunEndOfDay, owns the shards
 * whose lease it holds, takes over orphaned ones (`supervise`, run periodically by `supervisor()`), and
 * hands its leases back on `stop`.
 */
export class EndOfDayRunner {
  /** This replica's name in leases: host, process and a random part (a restarted process is someone else). */
  readonly workerId: string;
  private readonly active = new Map<string, Execution>();
  private readonly starting = new Map<string, Promise<Execution | undefined>>();
  private stopping = false;
  private readonly leaseClock;

  constructor(
    private readonly deps: BillingDeps,
    private readonly log: Pick<Logger, "info" | "warn" | "error">,
    workerId?: string,
  ) {
    this.workerId = workerId ?? `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
    this.leaseClock = deps.leaseClock ?? systemClock;
  }

  /**
   * RunEndOfDay: checks the rules, then starts the shard here, joins the execution already here, or
   * (another replica holding a live lease) follows it. With `wait`, resolves with the run once the shard
   * is done; otherwise at once.
   */
  async run(i: RunEndOfDayInput, opts: { wait: boolean }): Promise<DateRun> {
    if (this.stopping) throw stoppingError();
    const { shard, date, completed } = await checkRequest(this.deps, i);
    const { runs } = this.deps;
    if (completed) {
      await this.retryQuarantined(date, completed);
      return (await runs.get(date))!;
    }
    const run = await runs.createIfAbsent(date, shard.count, this.deps.clock.now());
    if (run.shardCount !== shard.count)
      throw failedPrecondition("EOD_SHARD_COUNT_MISMATCH", `end-of-day ${date} was started with ${run.shardCount} shards, not ${shard.count}`, { businessDate: date, shardCount: String(run.shardCount) });
    await runs.reopen(date, shard); // a FAILED shard resumes when asked again
    for (;;) {
      const ex = this.active.get(keyOf(date, shard)) ?? (await this.tryStart(date, shard));
      if (!opts.wait) return (await runs.get(date))!;
      if (ex) {
        const out = await ex.done;
        if (out.kind === "failed") throw out.error;
        if (out.kind === "released") throw stoppingError();
        if (out.kind === "completed") return (await runs.get(date))!;
        continue; // lost or abandoned: follow whoever holds it now
      }
      const now = await runs.get(date);
      const s = now?.shards.find((x) => x.index === shard.index);
      if (!s || s.status === "COMPLETED") {
        await this.completeDateIfDone(date);
        return (await runs.get(date))!;
      }
      if (s.status === "FAILED") throw new Error(`end-of-day ${date} shard ${shard.index} failed: ${s.error ?? "unknown error"}`);
      await sleep(Math.min(1_000, this.deps.eodLeaseMs / 4));
      if (this.stopping) throw stoppingError();
    }
  }

  /** One supervisor round: take over every RUNNING shard whose lease expired (or that nobody holds). */
  async supervise(): Promise<void> {
    if (this.stopping) return;
    const orphans = await this.deps.runs.orphaned(this.leaseClock.now());
    for (const { date, shard } of orphans) {
      if (this.stopping) return;
      if (this.active.has(keyOf(date, shard))) continue;
      const ex = await this.tryStart(date, shard);
      if (ex) this.log.info({ businessDate: date, shard: shard.index, owner: this.workerId }, "end-of-day: took over an orphaned shard");
    }
    // Events of page writes whose writer died before publishing them and no run took up since (a retry of a
    // completed date's quarantined accounts; an execution lost before its shard completed).
    const published = await this.deps.accounts.publishPending({ before: new Date(this.leaseClock.now().getTime() - 2 * this.deps.eodLeaseMs) });
    if (published > 0) this.log.warn({ events: published }, "end-of-day: published events of page writes whose writer died before publishing them");
    // A run whose last shard completed just before its owner died still needs its date closed.
    for (const date of await this.deps.runs.unfinishedDates()) await this.completeDateIfDone(date);
  }

  /** The supervisor as a periodic job (every `intervalMs`, jittered, one round at a time). */
  supervisor(intervalMs: number) {
    return every({ name: "end-of-day supervisor", intervalMs, jitter: 0.2, runAtStart: true, logger: this.log }, () => this.supervise());
  }

  /** Graceful stop: every execution stops after its current page and hands its lease back. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.starting.values()]);
    for (const ex of this.active.values()) ex.abort.abort();
    await Promise.all([...this.active.values()].map((ex) => ex.done));
  }

  private async completeDateIfDone(date: LocalDate): Promise<void> {
    const run = await this.deps.runs.get(date);
    if (!run || run.status === "COMPLETED") return;
    if (run.shards.length === run.shardCount && run.shards.every((s) => s.status === "COMPLETED")) {
      // The book at D = the book at D − 1 + D's changes (charge-offs are D's own). Dates close one after
      // another, so the last completed date before D is D − 1 when there is one.
      const prev = (await this.deps.runs.get(addDays(date, -1)))?.portfolio;
      const portfolio = addAgg({ ...structuredClone(prev ?? emptyAgg()), chargedOffFen: 0n }, totalsOf(run).stats);
      // The business date moves first: whoever sees the run COMPLETED then also sees D + 1 as the current
      // date (a caller closing days one after another asks for the next date right away). A crash between
      // the two leaves the run for the supervisor's `unfinishedDates` round, which gets here again.
      await this.deps.businessDates.advance(date);
      await this.deps.runs.complete(date, this.deps.clock.now(), portfolio);
      await this.deps.accounts.retireAgenda(date);
    }
  }

  private tryStart(date: LocalDate, shard: Shard): Promise<Execution | undefined> {
    const key = keyOf(date, shard);
    const pending = this.starting.get(key);
    if (pending) return pending;
    const p = (async () => {
      if (this.stopping) return undefined;
      const existing = this.active.get(key);
      if (existing) return existing;
      const lease: Lease = { owner: this.workerId, token: randomUUID() };
      const now = this.leaseClock.now();
      const acquired = await this.deps.runs.acquire(date, shard, lease, now, this.until(now), () => this.deps.accounts.countScheduled(date, shard));
      if (!acquired) return undefined;
      const abort = new AbortController();
      const ex: Execution = { date, shard, lease, abort, done: undefined as never };
      ex.done = this.execute(ex, acquired).finally(() => this.active.delete(key));
      this.active.set(key, ex);
      ex.done.then((o) => this.log.info({ businessDate: date, shard: shard.index, outcome: o.kind }, "end-of-day shard execution ended"));
      return ex;
    })().finally(() => this.starting.delete(key));
    this.starting.set(key, p);
    return p;
  }

  private until(now: Date): Date {
    return new Date(now.getTime() + this.deps.eodLeaseMs);
  }

  /** Works one shard from its cursor to completion while holding its lease. */
  private async execute(ex: Execution, acquired: ShardRun): Promise<Outcome> {
    const { date, shard, lease } = ex;
    const { deps } = this;
    const signal = ex.abort.signal;
    let lost = false;
    let abandoned = false;
    const heartbeat = every({ name: "end-of-day heartbeat", intervalMs: deps.eodLeaseMs / 3, jitter: 0.1, logger: this.log }, async () => {
      const now = this.leaseClock.now();
      if (!(await deps.runs.renew(date, shard, lease.token, now, this.until(now)))) {
        lost = true;
        ex.abort.abort();
      }
    });
    heartbeat.start();
    this.log.info({ businessDate: date, shard: shard.index, owner: this.workerId, takeovers: acquired.takeovers, cursor: acquired.cursor ?? null }, "end-of-day shard acquired");
    try {
      const ctx: PageCtx = { date, shard, signal, quarantined: new Set(await this.retrying(signal, () => deps.runs.quarantinedIds(date))) };
      let cursor = acquired.cursor;
      const tag = lease.token.slice(0, 8);
      for (let seq = 0, pages = 0; ; seq++) {
        if (signal.aborted) return lost ? { kind: "lost" } : { kind: "released" };
        const pageId = `${date}#${shard.index}#${tag}#${seq}`;
        const page = await this.runPage(ctx, pageId, cursor);
        if (!page) break;
        if ((await deps.hooks?.beforeCount?.(pages + 1, date, shard)) === "abandon") {
          abandoned = true;
          return { kind: "abandoned" };
        }
        const now = this.leaseClock.now();
        const added = await this.retrying(signal, () => deps.runs.addPage(date, shard, lease.token, pageId, page.delta, page.lastId, this.until(now)));
        if (added === "lost") {
          lost = true;
          return { kind: "lost" };
        }
        cursor = page.lastId;
        pages++;
        if ((await deps.hooks?.afterPage?.(pages, date, shard)) === "abandon") {
          abandoned = true;
          return { kind: "abandoned" };
        }
      }
      // Stats derived from what was committed: the counted total must equal the accounts carrying D's mark.
      // Only a resumed shard can differ (a crash between a write and its count); a shard this execution ran
      // from its start counted every page it wrote (a page retried after an error counts from its marks).
      const resumed = acquired.cursor !== undefined || acquired.processed > 0 || acquired.takeovers > 0;
      const committed = resumed ? await this.retrying(signal, () => deps.accounts.countMarks(date, shard)) : undefined;
      const stored = resumed ? (await this.retrying(signal, () => deps.runs.get(date)))?.shards.find((s) => s.index === shard.index) : undefined;
      if (stored && stored.processed !== committed) {
        this.log.warn({ businessDate: date, shard: shard.index, counted: stored.processed, committed }, "end-of-day: page counts differ from the committed accounts (a crash between a write and its count); recounting from the marks");
        const recount = await this.retrying(signal, () => recountShard(deps, date, shard));
        if (!(await this.retrying(signal, () => deps.runs.replaceCounts(date, shard, lease.token, recount)))) return { kind: "lost" };
      }
      // Every event of the shard on the broker before it completes: a page whose publication was not recorded
      // (this execution's broker failed after the write, or a former owner died between write and publish).
      await this.retrying(signal, () => deps.accounts.publishPending({ date, shard }));
      if (!(await this.retrying(signal, () => deps.runs.finishShard(date, shard, lease.token, "COMPLETED", deps.clock.now())))) return { kind: "lost" };
      await this.retrying(signal, () => this.completeDateIfDone(date));
      return { kind: "completed" };
    } catch (e) {
      if (signal.aborted || isInfrastructureError(e)) return lost ? { kind: "lost" } : { kind: "released" };
      const error = e as Error;
      this.log.error({ businessDate: date, shard: shard.index, err: error.message, stack: error.stack }, "end-of-day shard failed");
      await deps.runs.finishShard(date, shard, lease.token, "FAILED", deps.clock.now(), error.message).catch(() => undefined);
      return { kind: "failed", error };
    } finally {
      await heartbeat.stop();
      if (!lost && !abandoned) await deps.runs.release(date, shard, lease.token).catch(() => undefined);
    }
  }

  /**
   * Reads and applies the next page after `cursor`. Its range is fixed by the first read; a retry after
   * an infrastructure error reads that range again and counts the page from the marks its writes left,
   * since part of it may have committed before the failure.
   */
  private async runPage(ctx: PageCtx, pageId: string, cursor: string | undefined): Promise<{ lastId: string; delta: PageDelta } | null> {
    const pageSize = this.deps.eodPageSize ?? 1000;
    let through: string | undefined;
    let dirty = false;
    return this.retrying(ctx.signal, async () => {
      const accounts = await this.deps.accounts.eodPage(ctx.date, ctx.shard, cursor, pageSize, through);
      if (through === undefined) {
        if (accounts.length === 0) return null;
        through = accounts[accounts.length - 1]!.account.id;
      }
      let delta: PageDelta;
      try {
        delta = await this.applyAccounts(ctx, pageId, accounts);
      } catch (e) {
        dirty = true;
        throw e;
      }
      if (!dirty) return { lastId: through, delta };
      const counted = emptyDelta();
      for (const m of await this.deps.accounts.pageMarks(ctx.date, ctx.shard, pageId, cursor, through)) addToDelta(counted, m);
      return { lastId: through, delta: counted };
    });
  }

  /** Computes and writes the accounts of a page (quarantining those that fail); returns what it applied. */
  private async applyAccounts(ctx: PageCtx, pageId: string, accounts: EodCandidate[]): Promise<PageDelta> {
    const { deps } = this;
    const delta = emptyDelta();
    const cleared: string[] = [];
    let todo = accounts;
    for (let attempt = 0; todo.length > 0; attempt++) {
      if (attempt >= 10) {
        for (const { account: a } of todo) await this.quarantine(ctx, a.id, failedPrecondition("EOD_CONTENDED", `account ${a.id} kept changing during end-of-day (${attempt} attempts)`));
        break;
      }
      const items: EodItem[] = [];
      for (const { account: a, mark, outboxPage } of todo) {
        try {
          const r = endOfDayThrough(a, ctx.date, productOf(deps, a.productCode));
          const prev: EodSnapshot | undefined = mark?.snapshot;
          items.push({
            account: r.account,
            expectedVersion: a.version,
            events: r.events,
            mark: { date: ctx.date, page: pageId, counts: r.counts, snapshot: r.snapshot, version: r.account.version, ...(prev ? { prev } : {}) },
            ...(outboxPage ? { outboxPage } : {}),
          });
        } catch (e) {
          if (isInfrastructureError(e)) throw e;
          await this.quarantine(ctx, a.id, e);
        }
      }
      let res: { applied: string[]; redo: string[] };
      try {
        res = await deps.accounts.applyEodPage(ctx.date, items, ctx.shard);
      } catch (e) {
        if (isInfrastructureError(e)) throw e;
        // The database refused the page as a whole (a document it cannot store): one by one, to find it.
        res = { applied: [], redo: [] };
        for (const it of items) {
          try {
            const one = await deps.accounts.applyEodPage(ctx.date, [it], ctx.shard);
            res.applied.push(...one.applied);
            res.redo.push(...one.redo);
          } catch (e1) {
            if (isInfrastructureError(e1)) throw e1;
            await this.quarantine(ctx, it.account.id, e1);
          }
        }
      }
      const applied = new Set(res.applied);
      for (const it of items) {
        if (!applied.has(it.account.id)) continue;
        addToDelta(delta, it.mark);
        if (ctx.quarantined.has(it.account.id)) cleared.push(it.account.id);
      }
      // Changed concurrently (a repayment between read and write): reload and recompute those.
      todo = (await deps.accounts.getManyForEod(res.redo)).filter(({ account: a }) => a.status === "ACTIVE" && compareDates(a.eodDate, ctx.date) < 0);
    }
    if (cleared.length) {
      await deps.runs.clearQuarantine(cleared, ctx.date);
      for (const id of cleared) ctx.quarantined.delete(id);
      this.log.info({ businessDate: ctx.date, accounts: cleared }, "end-of-day: quarantined accounts went through and were cleared");
    }
    return delta;
  }

  private async quarantine(ctx: PageCtx, accountId: string, e: unknown): Promise<void> {
    const err = e as Error & { reason?: unknown };
    const reason = isDomainError(e) ? e.reason : typeof err?.reason === "string" ? err.reason : err?.name || "ERROR";
    const message = String(err?.message ?? e).slice(0, 500);
    const isNew = await this.deps.runs.quarantine({ accountId, date: ctx.date, shardIndex: ctx.shard.index, reason, message, at: this.deps.clock.now() });
    await this.deps.accounts.schedule([accountId], addDays(ctx.date, 1)); // retried by the next date's run
    ctx.quarantined.add(accountId);
    if (isNew) quarantinedCounter.add(1, { reason });
    this.log.warn({ businessDate: ctx.date, accountId, reason, err: message }, "end-of-day: account quarantined; the rest of the book goes on");
  }

  /** A re-run of a completed date: retries the date's quarantined accounts (nothing else changes). */
  private async retryQuarantined(date: LocalDate, run: DateRun): Promise<void> {
    const { accounts: entries } = await this.deps.runs.quarantined(date, 10_000);
    if (entries.length === 0) return;
    const ids = [...new Set(entries.map((q) => q.accountId))];
    const signal = new AbortController().signal;
    const byShard = new Map<number, EodCandidate[]>();
    const gone: string[] = [];
    for (const c of await this.deps.accounts.getManyForEod(ids)) {
      const a = c.account;
      if (a.status !== "ACTIVE" || compareDates(a.eodDate, date) >= 0) {
        gone.push(a.id);
        continue;
      }
      const idx = entries.find((q) => q.accountId === a.id)!.shardIndex;
      byShard.set(idx, [...(byShard.get(idx) ?? []), c]);
    }
    if (gone.length) await this.deps.runs.clearQuarantine(gone, date);
    for (const [index, accs] of byShard) {
      const shard = { index, count: run.shardCount };
      const ctx: PageCtx = { date, shard, signal, quarantined: new Set(ids) };
      const pageId = `${date}#${index}#retry-${randomUUID().slice(0, 8)}`;
      const delta = await this.applyAccounts(ctx, pageId, accs);
      await this.deps.accounts.publishPending({ date, shard });
      if (delta.processed > 0) await this.deps.runs.addPage(date, shard, null, pageId, delta, undefined, new Date(0));
    }
  }

  /** Runs `fn`, retrying infrastructure errors with capped, jittered backoff until it works or `signal` aborts. */
  private async retrying<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (!isInfrastructureError(e) || signal.aborted) throw e;
        const ms = Math.round(Math.min(10_000, 200 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random()));
        this.log.warn({ err: (e as Error).message, attempt: attempt + 1, retryInMs: ms }, "end-of-day paused: infrastructure unavailable; retrying (lease kept)");
        await sleep(ms, signal);
      }
    }
  }
}

function stoppingError(): DomainError {
  return new DomainError("unavailable", "this billing replica is stopping; the end-of-day run continues on another replica (call again)", "EOD_REPLICA_STOPPING");
}

/** Sums the shards of a run into one set of counts and aggregates. */
export function totalsOf(run: DateRun): { total: number; processed: number; counts: PageDelta["counts"]; stats: PortfolioAgg; shardsCompleted: number } {
  const d = emptyDelta();
  let total = 0;
  for (const s of run.shards) {
    total += s.total;
    d.processed += s.processed;
    for (const k of Object.keys(d.counts) as (keyof PageDelta["counts"])[]) d.counts[k] += s.counts[k];
    for (const [b, v] of Object.entries(s.stats.buckets)) {
      const x = (d.stats.buckets[b as keyof PortfolioAgg["buckets"]] ??= { accounts: 0, balance: 0n });
      x.accounts += v!.accounts;
      x.balance += BigInt(v!.balance);
    }
    for (const [k, n] of Object.entries(s.stats.roll)) d.stats.roll[k] = (d.stats.roll[k] ?? 0) + n;
    d.stats.chargedOffFen += BigInt(s.stats.chargedOffFen);
    for (const [day, v] of Object.entries(s.stats.inflows)) {
      const x = (d.stats.inflows[day] ??= { amount: 0n, accounts: 0 });
      x.amount += BigInt(v.amount);
      x.accounts += v.accounts;
    }
  }
  return { total, processed: d.processed, counts: d.counts, stats: d.stats, shardsCompleted: run.shards.filter((s) => s.status === "COMPLETED").length };
}

/** Runs (or resumes) end-of-day for one date and shard to completion with a one-off runner (tests, bench). */
export async function runEndOfDay(deps: BillingDeps, i: RunEndOfDayInput, log: Pick<Logger, "info" | "warn" | "error"> = silent): Promise<DateRun> {
  const runner = new EndOfDayRunner(deps, log);
  try {
    return await runner.run(i, { wait: true });
  } finally {
    await runner.stop();
  }
}

const silent = { info: () => {}, warn: () => {}, error: () => {} } as unknown as Pick<Logger, "info" | "warn" | "error">;
