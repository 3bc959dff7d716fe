/**
 * RecountPortfolio: the operator's check that the portfolio end-of-day maintains from state changes
 * (each touched account's new contribution less its previous one, added to the previous date's book)
 * equals a full recount of the book from every account's state at the last completed business date.
 * A full scan — never on a schedule; `npm run ops -- portfolio --recount` calls it and prints every
 * figure that differs.
 */
import { compareDates, failedPrecondition, isDomainError, type LocalDate } from "@whiteslip/core";
import { type EodSnapshot, endOfDayThrough, snapshotOf } from "../domain/end-of-day";
import { productOf } from "./context";
import type { BillingDeps, PortfolioAgg } from "./ports";
import { addSnapshot, emptyAgg, lastClosedRun } from "./run-end-of-day";

/** One figure that differs. */
export interface PortfolioDifference {
  /** `buckets.M1.accounts`, `roll.M0>M1`, `inflows.<date>.amount_fen`, … */
  figure: string;
  /** Maintained value. */
  maintained: string;
  /** Recounted value. */
  recounted: string;
}

/** The outcome of a recount. */
export interface PortfolioRecount {
  /** Date recounted. */
  asOf: LocalDate;
  /** Accounts read. */
  scanned: number;
  /** Accounts recomputed from their state. */
  recounted: number;
  /** Accounts changed by a command since `asOf` (their maintained contribution taken as is). */
  changedSince: number;
  /** Accounts opened since `asOf`. */
  openedSince: number;
  /** Accounts behind `asOf` (quarantined; maintained contribution taken as is). */
  lagging: number;
  /** Figures compared. */
  compared: number;
  /** Figures that differ. */
  differences: PortfolioDifference[];
  /** The recount. */
  recount: PortfolioAgg;
}

/** Compares two portfolios figure by figure (inflows: the dates after `asOf`, the ones the stats show). */
export function comparePortfolios(maintained: PortfolioAgg, recount: PortfolioAgg, asOf: LocalDate): { compared: number; differences: PortfolioDifference[] } {
  const differences: PortfolioDifference[] = [];
  let compared = 0;
  const cmp = (figure: string, m: bigint | number | undefined, r: bigint | number | undefined) => {
    compared++;
    const ms = String(m ?? 0);
    const rs = String(r ?? 0);
    if (ms !== rs) differences.push({ figure, maintained: ms, recounted: rs });
  };
  for (const b of [...new Set([...Object.keys(maintained.buckets), ...Object.keys(recount.buckets)])].sort()) {
    const m = maintained.buckets[b as keyof PortfolioAgg["buckets"]];
    const r = recount.buckets[b as keyof PortfolioAgg["buckets"]];
    cmp(`buckets.${b}.accounts`, m?.accounts, r?.accounts);
    cmp(`buckets.${b}.balance_fen`, m?.balance, r?.balance);
  }
  for (const k of [...new Set([...Object.keys(maintained.roll), ...Object.keys(recount.roll)])].sort()) cmp(`roll.${k}`, maintained.roll[k], recount.roll[k]);
  const days = [...new Set([...Object.keys(maintained.inflows), ...Object.keys(recount.inflows)])].filter((d) => compareDates(d, asOf) > 0).sort();
  for (const d of days) {
    cmp(`inflows.${d}.accounts`, maintained.inflows[d]?.accounts, recount.inflows[d]?.accounts);
    cmp(`inflows.${d}.amount_fen`, maintained.inflows[d]?.amount, recount.inflows[d]?.amount);
  }
  return { compared, differences };
}

/** Recounts the last completed business date's portfolio from every account and compares. */
export async function recountPortfolio(deps: BillingDeps): Promise<PortfolioRecount> {
  const bd = await deps.businessDates.get("1970-01-01");
  const run = await lastClosedRun(deps);
  if (!run) throw failedPrecondition("NO_END_OF_DAY_YET", "no end-of-day has completed yet");
  const asOf = run.date;
  if (!run.portfolio) throw failedPrecondition("PORTFOLIO_NOT_MAINTAINED", `end-of-day ${asOf} stored no portfolio (it ran before portfolios were maintained)`, { asOfDate: asOf });
  const running = await deps.runs.get(bd.current);
  if (running && running.status !== "COMPLETED")
    throw failedPrecondition("EOD_RUNNING", `end-of-day ${bd.current} is running; recount once it has completed`, { businessDate: bd.current });
  const recount = emptyAgg();
  const out = { scanned: 0, recounted: 0, changedSince: 0, openedSince: 0, lagging: 0 };
  for await (const { account: a, mark } of deps.accounts.scanAll()) {
    out.scanned++;
    if (!mark) {
      out.openedSince++; // never through an end-of-day: opened after asOf
      continue;
    }
    const take = (s: EodSnapshot) => addSnapshot(recount, s, 1);
    if (mark.version !== undefined && mark.version !== a.version) {
      out.changedSince++;
      take(mark.snapshot);
      continue;
    }
    let snapshot: EodSnapshot | undefined;
    try {
      const p = productOf(deps, a.productCode);
      if (a.status === "ACTIVE" && compareDates(a.eodDate, asOf) < 0) {
        const r = endOfDayThrough(a, asOf, p); // pure: the idle days caught up in memory, nothing written
        if (r.events.length === 0) snapshot = r.snapshot;
      } else if (compareDates(a.eodDate, asOf) === 0 || a.status !== "ACTIVE") snapshot = snapshotOf(a, asOf, p, 0n);
    } catch (e) {
      if (!isDomainError(e) && !(e instanceof RangeError)) throw e;
    }
    if (!snapshot) {
      out.lagging++; // has work it has not done (quarantined) or cannot be run: its maintained contribution stands
      take(mark.snapshot);
      continue;
    }
    out.recounted++;
    take(snapshot);
  }
  const { compared, differences } = comparePortfolios(run.portfolio, recount, asOf);
  return { asOf, ...out, compared, differences, recount };
}
