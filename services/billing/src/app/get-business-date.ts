import { dateInZone } from "@whiteslip/core";
import type { BillingDeps, BusinessDate } from "./ports";

/** The current business date and the last completed end-of-day. */
export async function getBusinessDate(deps: BillingDeps): Promise<BusinessDate> {
  return deps.businessDates.get(dateInZone(deps.clock.now(), deps.timeZone));
}
