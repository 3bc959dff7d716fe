import { dateInZone, type LocalDate } from "@whiteslip/core";
import { chain } from "../domain/credit-line";
import { rescore } from "../domain/rescoring";
import { applyOverdue } from "../domain/restrictions";
import type { CreditDeps } from "./deps";
import { type MutationOutcome, mutateLine } from "./mutate-line";

/** The Overdue facts credit uses. */
export interface OverdueInput {
  readonly eventId: string;
  readonly accountId: string;
  readonly businessDate: LocalDate;
  readonly daysPastDue: number;
}

/**
 * Billing reports the account overdue: from DPD 1 the configured features are
 * restricted (RestrictionChanged only when the set changes) and the line is
 * rescored on the DPD reached. Idempotent by event id.
 */
export async function applyOverdueFact(d: Pick<CreditDeps, "clock" | "lines" | "model" | "policy" | "timeZone">, f: OverdueInput): Promise<MutationOutcome["outcome"]> {
  const at = d.clock.now();
  const r = await mutateLine(d.lines, f.accountId, f.eventId, (line) =>
    chain(line, applyOverdue(line, { eventId: f.eventId, businessDate: f.businessDate, daysPastDue: f.daysPastDue, at }, d.policy), (l) =>
      rescore(l, d.model, d.policy, { causeId: f.eventId, at, today: dateInZone(at, d.timeZone) }),
    ),
  );
  return r.outcome;
}
