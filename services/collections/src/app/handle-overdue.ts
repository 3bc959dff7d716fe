import { handleCommand, outcome, write } from "@whiteslip/store";
import { applyOverdue, delinquencyCaseId, isActive, type OverdueFact, openFromOverdue } from "../domain/case";
import { advancePath } from "../domain/path-run";
import type { Deps } from "./ports";
import type { CaseChange, CollectionCase } from "../domain/types";

/** What handling an Overdue did. */
export type OverdueEffect = "opened" | "updated" | "duplicate";

/**
 * Billing's daily Overdue: opens the account's case on the first one of a delinquency episode (or turns its
 * pre-delinquency case into an open one), then follows DPD, bucket and amounts. Idempotent by event id: a
 * redelivered Overdue opens nothing twice and changes nothing twice. A command (the store's handleCommand): a lost
 * race (the case changed, or another consumer opened it first) is decided again on fresh state.
 */
export function handleOverdue(deps: Deps, f: OverdueFact): Promise<OverdueEffect> {
  const ctx = () => ({ now: deps.clock.now(), strategies: deps.policy.strategies });
  // `reread`: the state read was between two writes of another command (see below); nothing to write, read again
  type Write = { save: CaseChange; expected: number } | { insert: CaseChange } | { reread: true };
  return handleCommand<{ tier: Awaited<ReturnType<Deps["tiers"]["get"]>>; active: CollectionCase | null; existing: CollectionCase | null }, Write, OverdueEffect>(
    {
      async load() {
        const tier = await deps.tiers.get(f.accountId);
        const active = await deps.cases.findActiveByAccount(f.accountId);
        const existing = active ? null : await deps.cases.get(delinquencyCaseId(f.accountId, f.delinquencyStartDate));
        return { tier, active, existing };
      },
      async write(w) {
        if ("reread" in w) return false;
        if ("insert" in w) return (await deps.cases.insert(w.insert)) === "inserted";
        return (await deps.cases.save(w.save, w.expected)) === "saved";
      },
    },
    ({ tier, active, existing }) => {
      if (active) {
        if (active.processedEventIds.includes(f.eventId)) return outcome("duplicate");
        return write({ save: advancePath(applyOverdue(active, f, tier, ctx()), deps.clock.now(), deps.policy), expected: active.version }, "updated");
      }
      if (existing) {
        // The episode's case exists but is closed: a late or redelivered Overdue changes nothing.
        if (!isActive(existing.status) || existing.processedEventIds.includes(f.eventId)) return outcome("duplicate");
        // active by now, though not found as the account's active case a moment ago: read again
        return write({ reread: true }, "updated");
      }
      const opened = openFromOverdue(f, tier, deps.policy.localeFor(f.productCode), ctx());
      return write({ insert: advancePath(opened, deps.clock.now(), deps.policy) }, "opened");
    },
    { what: `case of account ${f.accountId}` },
  );
}
