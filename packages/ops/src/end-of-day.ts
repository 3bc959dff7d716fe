import { timestampDate } from "@bufbuild/protobuf/wkt";
import { billing } from "@whiteslip/contracts";
import { addDays, isInfrastructureError, type LocalDate } from "@whiteslip/core";
import { isGrpcError } from "@whiteslip/grpc";
import type { PlatformClients } from "./clients";

/** Progress of a run, for a progress bar. */
export type Progress = (run: billing.EndOfDayRun) => void;

/** Options of `runEndOfDay`. */
export interface RunEndOfDayOptions {
  /** The date to close; default: every business date that has ended and is not closed yet, in order. */
  date?: LocalDate;
  onProgress?: Progress;
  /** Poll interval of GetEndOfDayRun (default 200 ms). */
  pollMs?: number;
  /** How often RunEndOfDay is called again while the run goes on (default 5 s): joining is free, and a run whose owner died is resumed by the replica that answers. */
  rejoinMs?: number;
  /** Told when there is nothing to close. */
  onNothingToClose?: (message: string) => void;
  /** The shard this caller runs (0-based; an Indexed Job's JOB_COMPLETION_INDEX) of `shardCount`; default the whole book. */
  shardIndex?: number;
  /** Shards of the book (default 1). Every caller of one date must give the same count. */
  shardCount?: number;
}

/**
 * The shard of an Indexed Job's pod: JOB_COMPLETION_INDEX of EOD_SHARD_COUNT (the Job's `completions`), or the
 * whole book outside one. Refuses an index outside the count.
 */
export function shardFromEnv(env: Record<string, string | undefined> = process.env): { shardIndex: number; shardCount: number } {
  const shardCount = Number(env.EOD_SHARD_COUNT ?? "1");
  const shardIndex = Number(env.JOB_COMPLETION_INDEX ?? "0");
  if (!Number.isInteger(shardCount) || shardCount < 1 || shardCount > 1024) throw new Error(`EOD_SHARD_COUNT ${env.EOD_SHARD_COUNT} must be 1–1024`);
  if (!Number.isInteger(shardIndex) || shardIndex < 0 || shardIndex >= shardCount) throw new Error(`JOB_COMPLETION_INDEX ${env.JOB_COMPLETION_INDEX} must be 0–${shardCount - 1}`);
  return { shardIndex, shardCount };
}

/**
 * Runs billing's end-of-day as the CronJob does. With `date`, closes that date (a completed date is a
 * no-op). Without, closes the current business date if it has ended, then the next, until billing answers
 * EOD_DAY_NOT_ENDED — so a retry right after a completed run (or a second call) changes nothing and
 * returns the completed run, and a missed night is caught up in order. Follows each run through
 * GetEndOfDayRun, riding out UNAVAILABLE from a replica that went away. Rejects on FAILED.
 */
export async function runEndOfDay(clients: Pick<PlatformClients, "billing">, opts: RunEndOfDayOptions = {}): Promise<billing.EndOfDayRun> {
  if (opts.date) return closeDate(clients, opts.date, opts);
  let last: billing.EndOfDayRun | undefined;
  for (;;) {
    const bd = await clients.billing.getBusinessDate({});
    const date = bd.businessDate || addDays(bd.lastCompletedDate, 1);
    try {
      last = await closeDate(clients, date, opts);
    } catch (e) {
      if (!isGrpcError(e) || e.reason !== "EOD_DAY_NOT_ENDED") throw e;
      if (!last && !bd.lastCompletedDate) throw e;
      opts.onNothingToClose?.(`nothing to close: ${e.message}`);
      return last ?? (await clients.billing.runEndOfDay({ businessDate: bd.lastCompletedDate })).run!;
    }
  }
}

async function closeDate(clients: Pick<PlatformClients, "billing">, date: LocalDate, opts: RunEndOfDayOptions): Promise<billing.EndOfDayRun> {
  const shard = { shardIndex: opts.shardIndex ?? 0, shardCount: opts.shardCount ?? 1 };
  const join = async () => (await clients.billing.runEndOfDay({ businessDate: date, async: true, ...shard })).run;
  let run = await join();
  let joined = Date.now();
  for (;;) {
    if (run) opts.onProgress?.(run);
    if (run?.status === billing.EndOfDayStatus.COMPLETED) return run;
    if (run?.status === billing.EndOfDayStatus.FAILED) throw new Error(`end-of-day ${date} failed: ${run.error}`);
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 200));
    try {
      if (Date.now() - joined >= (opts.rejoinMs ?? 5_000)) {
        joined = Date.now();
        run = await join();
      } else run = (await clients.billing.getEndOfDayRun({ businessDate: date })).run;
    } catch (e) {
      if (!isInfrastructureError(e)) throw e; // a replica stopping or restarting: ask again
    }
  }
}

/** The date after the last completed end-of-day. */
export async function nextBusinessDate(clients: Pick<PlatformClients, "billing">): Promise<LocalDate> {
  const r = await clients.billing.getBusinessDate({});
  return r.businessDate || addDays(r.lastCompletedDate, 1);
}

/** The earliest instant billing lets end-of-day of its current business date run (the end of the day plus the cutoff). */
export async function endOfDayNotBefore(clients: Pick<PlatformClients, "billing">): Promise<Date | undefined> {
  const r = await clients.billing.getBusinessDate({});
  return r.endOfDayNotBefore ? timestampDate(r.endOfDayNotBefore) : undefined;
}

/** One line: `2026-03-02 [##########----------] 512/1024 accounts · 3 statements · 12 due-soon · 4 overdue`. */
export function progressLine(run: billing.EndOfDayRun): string {
  const total = Number(run.accountsTotal);
  const done = Number(run.accountsProcessed);
  const width = 20;
  // Accounts opened while the run goes on can make `done` pass the total counted at its start.
  const ratio = total > 0 ? Math.min(1, done / total) : run.status === billing.EndOfDayStatus.COMPLETED ? 1 : 0;
  const filled = Math.round(ratio * width);
  const bar = `${"#".repeat(filled)}${"-".repeat(width - filled)}`;
  const quarantined = run.accountsQuarantined > 0n ? ` · ${run.accountsQuarantined} quarantined` : "";
  return `${run.businessDate} [${bar}] ${done}/${total} accounts · ${run.statementsIssued} statements · ${run.dueSoonEmitted} due-soon · ${run.overdueEmitted} overdue · ${run.chargedOff} charged off${quarantined}`;
}
