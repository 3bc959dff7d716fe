import { dateInZone, isLocalDate, Violations } from "@whiteslip/core";
import { breakDuePromises } from "../domain/case";
import { mutateCase } from "./mutate-case";
import type { Deps } from "./ports";

/** What the promise check did. */
export interface PromiseCheckResult {
  asOfDate: string;
  /** Promises broken by this run. */
  broken: number;
}

/**
 * The daily promise check, driven by the clock: every pending promise dated before today (business time zone) is
 * broken and its case escalates. Idempotent: a second run on the same day breaks nothing more.
 */
export async function checkPromises(deps: Deps, asOfDate?: string): Promise<PromiseCheckResult> {
  const asOf = asOfDate || dateInZone(deps.clock.now(), deps.policy.businessTimeZone);
  new Violations().check(!isLocalDate(asOf), "as_of_date", "must be a YYYY-MM-DD date").throwIfAny();
  let broken = 0;
  for (const caseId of await deps.cases.withPromisesDueBefore(asOf)) {
    let n = 0;
    await mutateCase(deps.cases, caseId, (c) => {
      const change = breakDuePromises(c, asOf, { now: deps.clock.now(), strategies: deps.policy.strategies });
      n = change.events.filter((e) => e.type === "PromiseBroken").length;
      return { change };
    });
    broken += n;
  }
  return { asOfDate: asOf, broken };
}
