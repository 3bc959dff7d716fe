/**
 * The portfolio view management asks for, from the book's portfolio each end-of-day
 * stores per date (maintained from the changes, never a scan): delinquency by bucket, roll rates over the last month (bucket
 * a month earlier → bucket now, from each account's bucket log), charge-off and
 * cure rates, expected inflows by due date and the daily trend.
 */
import { addDays, addMonths, compareDates, failedPrecondition, type Fen, invalidArgument, isLocalDate, type LocalDate } from "@whiteslip/core";
import { bucketAt } from "../domain/account";
import { ACTIVE_BUCKETS, type Bucket } from "../domain/delinquency";
import { businessDate } from "./context";
import type { BillingDeps, DateRun, PortfolioAgg } from "./ports";
import { lastClosedRun, totalsOf } from "./run-end-of-day";

/** The portfolio at a date. */
export interface PortfolioStats {
  /** Date of the view. */
  asOf: LocalDate;
  /** Active accounts. */
  activeAccounts: number;
  /** Outstanding balance of the active book. */
  outstanding: Fen;
  /** Accounts and balances by bucket M0–M6. */
  buckets: { bucket: Bucket; accounts: number; balance: Fen; rate: number }[];
  /** Share of balances in M1+. */
  delinquencyRate: number;
  /** Roll rates from the bucket a month earlier. */
  rollRates: { from: Bucket; to: Bucket; accounts: number; rate: number }[];
  /** Charged off to date. */
  chargedOff: Fen;
  /** chargedOff / (outstanding + chargedOff). */
  chargeOffRate: number;
  /** Share of accounts delinquent a month earlier that are current now. */
  cureRate: number;
  /** Expected inflows by due date. */
  inflows: { date: LocalDate; amount: Fen; accounts: number }[];
  /** Daily trend. */
  trend: { date: LocalDate; delinquencyRate: number; chargedOff: Fen; outstanding: Fen }[];
}

const ratio = (a: bigint | number, b: bigint | number): number => (Number(b) === 0 ? 0 : Number(a) / Number(b));

/**
 * The whole book at a completed date: the portfolio maintained from the changes (the previous date's plus
 * the date's own, stored when the date completed); a run stored before portfolios were kept has only the
 * accounts it processed.
 */
function bookOf(run: DateRun): PortfolioAgg {
  return run.portfolio ?? totalsOf(run).stats;
}

/** Computes the portfolio view at `asOf` (default: the last completed business date). */
export async function getPortfolioStats(deps: BillingDeps, i: { asOfDate: string; inflowDays: number; trendDays: number }): Promise<PortfolioStats> {
  const v = [];
  if (i.asOfDate && !isLocalDate(i.asOfDate)) v.push({ field: "as_of_date", description: `${JSON.stringify(i.asOfDate)} is not a YYYY-MM-DD date` });
  if (i.inflowDays < 0 || i.inflowDays > 366) v.push({ field: "inflow_days", description: "inflow days must be 0–366" });
  if (i.trendDays < 0 || i.trendDays > 366) v.push({ field: "trend_days", description: "trend days must be 0–366" });
  if (v.length) throw invalidArgument(v);
  await businessDate(deps);
  const last = i.asOfDate ? undefined : await lastClosedRun(deps);
  const asOf = i.asOfDate || last?.date;
  if (!asOf) throw failedPrecondition("NO_END_OF_DAY_YET", "no end-of-day has completed yet");
  const run = last ?? (await deps.runs.get(asOf));
  if (!run || run.status !== "COMPLETED") throw failedPrecondition("EOD_NOT_COMPLETED", `end-of-day ${asOf} has not completed`, { asOfDate: asOf });
  const book = bookOf(run);
  const monthAgo = addMonths(asOf, -1);

  let activeAccounts = 0;
  let outstanding = 0n;
  let delinquent = 0n;
  for (const b of ACTIVE_BUCKETS) {
    const x = book.buckets[b];
    if (!x) continue;
    activeAccounts += x.accounts;
    outstanding += x.balance;
    if (b !== "M0") delinquent += x.balance;
  }
  const buckets = ACTIVE_BUCKETS.map((b) => {
    const x = book.buckets[b] ?? { accounts: 0, balance: 0n };
    return { bucket: b, accounts: x.accounts, balance: x.balance, rate: ratio(x.balance, outstanding) };
  });

  // Roll matrix: the active book (bucket a month earlier → now) plus the accounts charged off since a month ago.
  const roll: Record<string, number> = { ...book.roll };
  for (const a of await deps.accounts.chargedOffBetween(monthAgo, asOf)) {
    const from = bucketAt(a, monthAgo);
    if (from) roll[`${from}>CHARGED_OFF`] = (roll[`${from}>CHARGED_OFF`] ?? 0) + 1;
  }
  const fromTotals: Record<string, number> = {};
  for (const [k, n] of Object.entries(roll)) fromTotals[k.split(">")[0]!] = (fromTotals[k.split(">")[0]!] ?? 0) + n;
  const rollRates = Object.entries(roll)
    .map(([k, n]) => {
      const [from, to] = k.split(">") as [Bucket, Bucket];
      return { from, to, accounts: n, rate: ratio(n, fromTotals[from] ?? 0) };
    })
    .sort((a, b) => (a.from === b.from ? a.to.localeCompare(b.to) : a.from.localeCompare(b.from)));
  let wasDelinquent = 0;
  let cured = 0;
  for (const r of rollRates)
    if (r.from !== "M0" && r.from !== "CHARGED_OFF") {
      wasDelinquent += r.accounts;
      if (r.to === "M0") cured += r.accounts;
    }

  const chargedOff = await deps.accounts.chargedOffTotal(asOf);
  const inflowDays = i.inflowDays || 30;
  const horizon = addDays(asOf, inflowDays);
  const inflows = Object.entries(book.inflows)
    .filter(([d]) => compareDates(d, asOf) > 0 && compareDates(d, horizon) <= 0)
    .map(([date, x]) => ({ date, amount: x.amount, accounts: x.accounts }))
    .sort((a, b) => compareDates(a.date, b.date));

  const trendDays = i.trendDays || 30;
  const runs = (await deps.runs.list(addDays(asOf, -(trendDays - 1)), asOf)).filter((r) => r.status === "COMPLETED").sort((a, b) => compareDates(a.date, b.date));
  let laterChargeOffs = 0n;
  const trend = runs
    .reverse()
    .map((r) => {
      const x = totalsOf(r);
      const bk = bookOf(r);
      let out = 0n;
      let del = 0n;
      for (const b of ACTIVE_BUCKETS) {
        out += bk.buckets[b]?.balance ?? 0n;
        if (b !== "M0") del += bk.buckets[b]?.balance ?? 0n;
      }
      const point = { date: r.date, delinquencyRate: ratio(del, out), chargedOff: chargedOff - laterChargeOffs, outstanding: out };
      laterChargeOffs += x.stats.chargedOffFen;
      return point;
    })
    .reverse();

  return {
    asOf,
    activeAccounts,
    outstanding,
    buckets,
    delinquencyRate: ratio(delinquent, outstanding),
    rollRates,
    chargedOff,
    chargeOffRate: ratio(chargedOff, outstanding + chargedOff),
    cureRate: ratio(cured, wasDelinquent),
    inflows,
    trend,
  };
}
