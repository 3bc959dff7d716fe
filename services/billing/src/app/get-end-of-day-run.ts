import { invalidArgument, isLocalDate, notFound } from "@whiteslip/core";
import type { BillingDeps, DateRun, QuarantinedAccount } from "./ports";

/** Most quarantined accounts listed with a run (the count is always complete). */
export const QUARANTINE_LIST_LIMIT = 1000;

/** The run of a business date with its shards and the accounts it quarantined. */
export async function getEndOfDayRun(deps: BillingDeps, businessDate: string): Promise<{ run: DateRun; quarantine: { count: number; accounts: QuarantinedAccount[] } }> {
  if (!isLocalDate(businessDate)) throw invalidArgument([{ field: "business_date", description: `${JSON.stringify(businessDate)} is not a YYYY-MM-DD date` }]);
  const run = await deps.runs.get(businessDate);
  if (!run) throw notFound("EndOfDayRun", businessDate);
  return { run, quarantine: await deps.runs.quarantined(businessDate, QUARANTINE_LIST_LIMIT) };
}
