import { dateInZone } from "@whiteslip/core";
import type { BillingDeps, BusinessDate } from "./ports";
import { notBeforeOf } from "./run-end-of-day";

/** The current business date, the last completed end-of-day, and the earliest time the current one may close. */
export async function getBusinessDate(deps: BillingDeps): Promise<BusinessDate & { endOfDayNotBefore: Date }> {
  const bd = await deps.businessDates.get(dateInZone(deps.clock.now(), deps.timeZone));
  return { ...bd, endOfDayNotBefore: notBeforeOf(deps, bd.current) };
}
