import { addDays, dateInZone } from "@whiteslip/core";
import { rescore } from "../domain/rescoring";
import type { CreditDeps } from "./deps";
import { mutateLine } from "./mutate-line";

/** Outcome of a periodic rescoring run. */
export interface RescoringRunResult {
  readonly businessDate: string;
  readonly rescored: number;
  readonly tierChanges: number;
}

/**
 * The periodic rescoring run (*default* monthly): every line not rescored within
 * `rescoringCadenceDays` is rescored on its current behaviour and utilisation,
 * in batches by id. Idempotent per business date: the run marks each line with
 * the date and tier-change events derive their id from (line, date).
 */
export async function runRescoring(d: Pick<CreditDeps, "clock" | "timeZone" | "lines" | "model" | "policy">, batchSize = 200): Promise<RescoringRunResult> {
  const at = d.clock.now();
  const today = dateInZone(at, d.timeZone);
  const dueBefore = addDays(today, -d.policy.rescoringCadenceDays + 1);
  let after: string | null = null;
  let rescored = 0;
  let tierChanges = 0;
  for (;;) {
    const batch = await d.lines.listDueForRescoring(dueBefore, after, batchSize);
    for (const line of batch) {
      if (line.status === "CLOSED") continue;
      const r = await mutateLine(d.lines, line.id, null, (l) =>
        l.lastRescoredOn && l.lastRescoredOn >= dueBefore ? null : rescore(l, d.model, d.policy, { causeId: `periodic:${today}`, at, periodicOn: today, today }),
      );
      if (r.outcome === "applied" && r.update) {
        rescored++;
        if (r.update.changes.length > 0) tierChanges++;
      }
    }
    if (batch.length < batchSize) break;
    after = batch[batch.length - 1]!.id;
  }
  return { businessDate: today, rescored, tierChanges };
}
