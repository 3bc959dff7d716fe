import { aborted } from "@whiteslip/core";
import type { CreditLine, LineUpdate } from "../domain/credit-line";
import type { CreditLineRepository } from "./ports";

/** What happened to a line mutation. */
export type MutationOutcome =
  | { readonly outcome: "applied"; readonly line: CreditLine; readonly update: LineUpdate | null }
  | { readonly outcome: "duplicate"; readonly line: CreditLine }
  | { readonly outcome: "not_found" };

/**
 * Read–decide–write on one line with optimistic concurrency: loads the line,
 * lets the pure `decide` compute the update, and saves it conditionally on the
 * version (and, for a consumed event, on the event id being new). A concurrent
 * change makes it retry on fresh state; a replayed event is reported as a
 * duplicate and changes nothing.
 */
export async function mutateLine(
  lines: CreditLineRepository,
  lineId: string,
  eventId: string | null,
  decide: (line: CreditLine) => LineUpdate | null,
  attempts = 20,
): Promise<MutationOutcome> {
  for (let i = 0; i < attempts; i++) {
    const line = await lines.get(lineId);
    if (!line) return { outcome: "not_found" };
    const update = decide(line);
    if (!update && !eventId) return { outcome: "applied", line, update: null };
    const result = await lines.save(update ?? { line, events: [], changes: [] }, eventId);
    if (result === "saved") return { outcome: "applied", line: { ...(update?.line ?? line), version: line.version + 1 }, update };
    if (result === "duplicate") return { outcome: "duplicate", line };
  }
  throw aborted("CONCURRENT_MODIFICATION", `credit line ${lineId} kept changing; retry`);
}
