import { handleCommand, outcome, write } from "@whiteslip/store";
import type { CreditLine, LineUpdate } from "../domain/credit-line";
import type { CreditLineRepository } from "./ports";

/** What happened to a line mutation. */
export type MutationOutcome =
  | { readonly outcome: "applied"; readonly line: CreditLine; readonly update: LineUpdate | null }
  | { readonly outcome: "duplicate"; readonly line: CreditLine }
  | { readonly outcome: "not_found" };

/**
 * A command on one line (the store's handleCommand): loads the line, lets the
 * pure `decide` compute the update, and saves it conditionally on the version
 * (and, for a consumed event, on the event id being new). A concurrent change
 * makes it decide again on fresh state (ABORTED CONCURRENT_MODIFICATION when it
 * keeps changing); a replayed event is reported as a duplicate and changes
 * nothing.
 */
export function mutateLine(
  lines: CreditLineRepository,
  lineId: string,
  eventId: string | null,
  decide: (line: CreditLine) => LineUpdate | null,
): Promise<MutationOutcome> {
  return handleCommand<CreditLine | null, { loaded: CreditLine; update: LineUpdate }, MutationOutcome>(
    {
      load: () => lines.get(lineId),
      async write({ loaded, update }) {
        const r = await lines.save(update, eventId);
        if (r === "duplicate") return outcome({ outcome: "duplicate", line: loaded });
        return r === "saved";
      },
    },
    (line) => {
      if (!line) return outcome({ outcome: "not_found" });
      const update = decide(line);
      if (!update && !eventId) return outcome({ outcome: "applied", line, update: null });
      return write(
        { loaded: line, update: update ?? { line, events: [], changes: [] } },
        { outcome: "applied", line: { ...(update?.line ?? line), version: line.version + 1 }, update },
      );
    },
    { what: `credit line ${lineId}` },
  );
}
