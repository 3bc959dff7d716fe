import { aborted } from "@whiteslip/core";
import { applyOverdue, delinquencyCaseId, isActive, type OverdueFact, openFromOverdue } from "../domain/case";
import type { Deps } from "./ports";

/** What handling an Overdue did. */
export type OverdueEffect = "opened" | "updated" | "duplicate";

/**
 * Billing's daily Overdue: opens the account's case on the first one of a delinquency episode (or turns its
 * pre-delinquency case into an open one), then follows DPD, bucket and amounts. Idempotent by event id: a
 * redelivered Overdue opens nothing twice and changes nothing twice.
 */
export async function handleOverdue(deps: Deps, f: OverdueFact): Promise<OverdueEffect> {
  const ctx = () => ({ now: deps.clock.now(), strategies: deps.policy.strategies });
  for (let attempt = 0; attempt < 5; attempt++) {
    const tier = await deps.tiers.get(f.accountId);
    const active = await deps.cases.findActiveByAccount(f.accountId);
    if (active) {
      if (active.processedEventIds.includes(f.eventId)) return "duplicate";
      if ((await deps.cases.save(applyOverdue(active, f, tier, ctx()), active.version)) === "saved")
        return "updated";
      continue;
    }
    const existing = await deps.cases.get(delinquencyCaseId(f.accountId, f.delinquencyStartDate));
    if (existing) {
      // The episode's case exists but is closed: a late or redelivered Overdue changes nothing.
      if (!isActive(existing.status) || existing.processedEventIds.includes(f.eventId)) return "duplicate";
      continue;
    }
    const change = openFromOverdue(f, tier, deps.policy.localeFor(f.productCode), ctx());
    if ((await deps.cases.insert(change)) === "inserted") return "opened";
  }
  throw aborted("CASE_CONTENDED", `case of account ${f.accountId} changed concurrently; retry`);
}
