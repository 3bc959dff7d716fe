import { billing } from "@whiteslip/contracts";
import { addDays, type LocalDate } from "@whiteslip/core";
import type { PlatformClients } from "./clients";

/** Progress of a run, for a progress bar. */
export type Progress = (run: billing.EndOfDayRun) => void;

/**
 * Runs billing's end-of-day for `date` (default: the current business date),
 * polling GetEndOfDayRun for progress until it completes. Rejects on FAILED.
 */
export async function runEndOfDay(
  clients: Pick<PlatformClients, "billing">,
  opts: { date?: LocalDate; onProgress?: Progress; pollMs?: number } = {},
): Promise<billing.EndOfDayRun> {
  const date = opts.date ?? (await clients.billing.getBusinessDate({})).businessDate;
  const started = await clients.billing.runEndOfDay({ businessDate: date, async: true });
  let run = started.run;
  for (;;) {
    if (run) opts.onProgress?.(run);
    if (run?.status === billing.EndOfDayStatus.COMPLETED) return run;
    if (run?.status === billing.EndOfDayStatus.FAILED) throw new Error(`end-of-day ${date} failed: ${run.error}`);
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 200));
    run = (await clients.billing.getEndOfDayRun({ businessDate: date })).run;
  }
}

/** The date after the last completed end-of-day. */
export async function nextBusinessDate(clients: Pick<PlatformClients, "billing">): Promise<LocalDate> {
  const r = await clients.billing.getBusinessDate({});
  return r.businessDate || addDays(r.lastCompletedDate, 1);
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
  return `${run.businessDate} [${bar}] ${done}/${total} accounts · ${run.statementsIssued} statements · ${run.dueSoonEmitted} due-soon · ${run.overdueEmitted} overdue · ${run.chargedOff} charged off`;
}
