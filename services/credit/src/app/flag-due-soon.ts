import type { Fen, LocalDate } from "@whiteslip/core";
import { flagDueSoon } from "../domain/rescoring";
import type { CreditDeps } from "./deps";
import { type MutationOutcome, mutateLine } from "./mutate-line";

/** The DueSoon facts credit uses. */
export interface DueSoonInput {
  readonly eventId: string;
  readonly accountId: string;
  readonly dueDate: LocalDate;
  readonly amountDueFen: Fen;
}

/**
 * Reaction to DueSoon: a high-risk (tier D/E by default) line approaching a due
 * date raises RiskFlagRaised `HIGH_RISK_DUE_SOON` (through the line's outbox) so
 * collections can open an early-warning treatment before the account rolls into
 * M1 and risk teams can watch it. Idempotent by event id.
 */
export async function flagHighRiskDueSoon(d: Pick<CreditDeps, "clock" | "lines" | "policy">, f: DueSoonInput): Promise<MutationOutcome["outcome"]> {
  const at = d.clock.now();
  const r = await mutateLine(d.lines, f.accountId, f.eventId, (line) => {
    const flag = flagDueSoon(line, { eventId: f.eventId, dueDate: f.dueDate, amountDueFen: f.amountDueFen, at }, d.policy);
    return flag ? { line, events: [flag], changes: [] } : null;
  });
  return r.outcome;
}
