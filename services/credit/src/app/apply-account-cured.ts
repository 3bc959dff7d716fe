import { dateInZone, type LocalDate } from "@whiteslip/core";
import { chain } from "../domain/credit-line";
import { rescore } from "../domain/rescoring";
import { applyCured } from "../domain/restrictions";
import type { CreditDeps } from "./deps";
import { type MutationOutcome, mutateLine } from "./mutate-line";

/** The AccountCured facts credit uses. */
export interface CuredInput {
  readonly eventId: string;
  readonly accountId: string;
  readonly businessDate: LocalDate;
}

/** Billing reports the account cured: restrictions are lifted and the line rescored. Idempotent by event id. */
export async function applyAccountCured(d: Pick<CreditDeps, "clock" | "lines" | "model" | "policy" | "timeZone">, f: CuredInput): Promise<MutationOutcome["outcome"]> {
  const at = d.clock.now();
  const r = await mutateLine(d.lines, f.accountId, f.eventId, (line) =>
    chain(line, applyCured(line, { eventId: f.eventId, businessDate: f.businessDate, at }), (l) => rescore(l, d.model, d.policy, { causeId: f.eventId, at, today: dateInZone(at, d.timeZone) })),
  );
  return r.outcome;
}
