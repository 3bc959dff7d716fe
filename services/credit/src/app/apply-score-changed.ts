import { dateInZone } from "@whiteslip/core";
import { chain } from "../domain/credit-line";
import { rescore } from "../domain/rescoring";
import type { CreditDeps } from "./deps";
import { type MutationOutcome, mutateLine } from "./mutate-line";

/** Credit-reporting's internal score changed: it feeds the overlay and the line is re-tiered. Idempotent by event id. */
export async function applyScoreChanged(d: Pick<CreditDeps, "clock" | "lines" | "model" | "policy" | "timeZone">, f: { eventId: string; accountId: string; score: number }): Promise<MutationOutcome["outcome"]> {
  const at = d.clock.now();
  const r = await mutateLine(d.lines, f.accountId, f.eventId, (line) =>
    chain(line, { line: { ...line, behaviour: { ...line.behaviour, bureauScore: f.score } }, events: [], changes: [] }, (l) =>
      rescore(l, d.model, d.policy, { causeId: f.eventId, at, today: dateInZone(at, d.timeZone) }),
    ),
  );
  return r.outcome;
}
