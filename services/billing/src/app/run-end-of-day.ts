/**
 * RunEndOfDay(D): the batch that closes business date D. Idempotent per date
 * (each account carries an `eodDate` marker written in the same update as the
 * day's effects and events), refuses to skip a date, resumable after a crash
 * (a restarted run only sees accounts not yet through D), batched (a page of
 * accounts is read with one query, computed in memory and written with one
 * unordered bulk write), and split into shards by `shardKey mod shard_count`.
 */
import { compareDates, dateInZone, failedPrecondition, invalidArgument, isLocalDate, type LocalDate } from "@whiteslip/core";
import type { Account } from "../domain/account";
import { type AccountEod, endOfDayForAccount } from "../domain/end-of-day";
import { productOf } from "./context";
import type { BillingDeps, DateRun, PageDelta, PortfolioAgg, Shard } from "./ports";

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

function addToDelta(d: PageDelta, r: AccountEod): void {
  d.processed++;
  for (const k of Object.keys(d.counts) as (keyof PageDelta["counts"])[]) d.counts[k] += r.counts[k];
  const s = r.snapshot;
  const b = (d.stats.buckets[s.bucket] ??= { accounts: 0, balance: 0n });
  b.accounts++;
  b.balance += s.balance;
  if (s.bucketMonthAgo) d.stats.roll[`${s.bucketMonthAgo}>${s.bucket}`] = (d.stats.roll[`${s.bucketMonthAgo}>${s.bucket}`] ?? 0) + 1;
  d.stats.chargedOffFen += s.chargedOffFen;
  for (const f of s.inflows) {
    const x = (d.stats.inflows[f.date] ??= { amount: 0n, accounts: 0 });
    x.amount += f.amount;
    x.accounts++;
  }
}

/** Validates the request and the date order; returns the normalised shard. */
async function checkRequest(deps: BillingDeps, i: RunEndOfDayInput): Promise<{ shard: Shard; date: LocalDate; noop?: DateRun }> {
  const count = i.shardCount <= 1 ? 1 : i.shardCount;
  const v = [];
  if (!isLocalDate(i.businessDate)) v.push({ field: "business_date", description: `${JSON.stringify(i.businessDate)} is not a YYYY-MM-DD date` });
  if (!Number.isInteger(i.shardCount) || i.shardCount < 0 || i.shardCount > 1024) v.push({ field: "shard_count", description: `shard count ${i.shardCount} must be 0–1024` });
  if (!Number.isInteger(i.shardIndex) || i.shardIndex < 0 || i.shardIndex >= count) v.push({ field: "shard_index", description: `shard index ${i.shardIndex} must be 0–${count - 1}` });
  if (v.length) throw invalidArgument(v);
  const date = i.businessDate;
  const today = dateInZone(deps.clock.now(), deps.timeZone);
  const bd = await deps.businessDates.get(today);
  if (compareDates(date, bd.current) < 0) {
    const done = await deps.runs.get(date);
    if (done?.status === "COMPLETED") return { shard: { index: i.shardIndex, count }, date, noop: done };
    throw failedPrecondition("EOD_DATE_CLOSED", `business date ${date} is before the current business date ${bd.current}`, { businessDate: date, currentBusinessDate: bd.current });
  }
  if (compareDates(date, bd.current) > 0)
    throw failedPrecondition("EOD_DATE_OUT_OF_ORDER", `end-of-day ${date} cannot run before ${bd.current}; dates are closed in order`, { businessDate: date, currentBusinessDate: bd.current });
  if (compareDates(date, today) > 0) throw failedPrecondition("EOD_DATE_IN_FUTURE", `business date ${date} has not started yet (today is ${today} in ${deps.timeZone})`, { businessDate: date, today });
  return { shard: { index: i.shardIndex, count }, date };
}

/**
 * Validates and registers the run (throws synchronously for bad input or order);
 * returns a function that processes the shard to completion.
 */
export async function prepareEndOfDay(deps: BillingDeps, i: RunEndOfDayInput): Promise<{ run: DateRun; execute: () => Promise<DateRun> }> {
  const { shard, date, noop } = await checkRequest(deps, i);
  if (noop) return { run: noop, execute: async () => noop };
  const run = await deps.runs.createIfAbsent(date, shard.count, deps.clock.now());
  if (run.shardCount !== shard.count)
    throw failedPrecondition("EOD_SHARD_COUNT_MISMATCH", `end-of-day ${date} was started with ${run.shardCount} shards, not ${shard.count}`, { businessDate: date, shardCount: String(run.shardCount) });
  if (run.shards.find((s) => s.index === shard.index)?.status === "COMPLETED") return { run, execute: async () => run };
  const total = await deps.accounts.countActive(shard);
  await deps.runs.startShard(date, shard, total, deps.clock.now());
  return { run: (await deps.runs.get(date))!, execute: () => processShard(deps, date, shard) };
}

/** Runs (or resumes) end-of-day for one date and shard and returns the date's run. */
export async function runEndOfDay(deps: BillingDeps, i: RunEndOfDayInput): Promise<DateRun> {
  const { execute } = await prepareEndOfDay(deps, i);
  return execute();
}

function compute(deps: BillingDeps, a: Account, date: LocalDate): AccountEod {
  return endOfDayForAccount(a, date, productOf(deps, a.productCode));
}

async function processShard(deps: BillingDeps, date: LocalDate, shard: Shard): Promise<DateRun> {
  const pageSize = deps.eodPageSize ?? 1000;
  try {
    let afterId: string | undefined;
    let page = 0;
    for (;;) {
      const accounts = await deps.accounts.eodPage(date, shard, afterId, pageSize);
      if (accounts.length === 0) break;
      afterId = accounts[accounts.length - 1]!.id;
      const delta = emptyDelta();
      let todo = accounts;
      for (let attempt = 0; todo.length > 0; attempt++) {
        if (attempt >= 5) throw new Error(`accounts kept changing during end-of-day: ${todo.map((a) => a.id).join(", ")}`);
        const results = todo.map((a) => ({ a, r: compute(deps, a, date) }));
        const failed = new Set(await deps.accounts.applyEodPage(date, results.map(({ a, r }) => ({ account: r.account, expectedVersion: a.version, events: r.events }))));
        for (const { a, r } of results) if (!failed.has(a.id)) addToDelta(delta, r);
        if (failed.size === 0) break;
        // Changed concurrently (a repayment between read and write): reload and recompute those.
        todo = (await Promise.all([...failed].map((id) => deps.accounts.get(id)))).filter((a): a is Account => a !== null && compareDates(a.eodDate, date) < 0 && a.status === "ACTIVE");
      }
      await deps.runs.addPage(date, shard, delta);
      page++;
      await deps.hooks?.afterPage?.(page, date, shard);
    }
    await deps.runs.finishShard(date, shard, "COMPLETED", deps.clock.now());
    const run = (await deps.runs.get(date))!;
    if (run.shards.length === run.shardCount && run.shards.every((s) => s.status === "COMPLETED")) {
      await deps.runs.complete(date, deps.clock.now());
      await deps.businessDates.advance(date);
    }
    return (await deps.runs.get(date))!;
  } catch (e) {
    await deps.runs.finishShard(date, shard, "FAILED", deps.clock.now(), (e as Error).message).catch(() => {});
    throw e;
  }
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

