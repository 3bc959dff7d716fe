import { invalidArgument, isLocalDate, notFound } from "@whiteslip/core";
import type { BillingDeps, DateRun } from "./ports";

/** The run of a business date with its shards. */
export async function getEndOfDayRun(deps: BillingDeps, businessDate: string): Promise<DateRun> {
  if (!isLocalDate(businessDate)) throw invalidArgument([{ field: "business_date", description: `${JSON.stringify(businessDate)} is not a YYYY-MM-DD date` }]);
  const run = await deps.runs.get(businessDate);
  if (!run) throw notFound("EndOfDayRun", businessDate);
  return run;
}
