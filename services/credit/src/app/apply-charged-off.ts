import { applyChargedOff } from "../domain/restrictions";
import type { CreditDeps } from "./deps";
import { type MutationOutcome, mutateLine } from "./mutate-line";

/** Billing charged the account off: the line is closed (CreditLineChanged, reason CHARGED_OFF). */
export async function applyChargedOffFact(d: Pick<CreditDeps, "clock" | "lines">, f: { eventId: string; accountId: string }): Promise<MutationOutcome["outcome"]> {
  const at = d.clock.now();
  return (await mutateLine(d.lines, f.accountId, f.eventId, (line) => applyChargedOff(line, { eventId: f.eventId, at }))).outcome;
}
