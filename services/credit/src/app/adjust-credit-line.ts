import { deterministicId, invalidArgument, notFound } from "@whiteslip/core";
import { type Adjustment, type CreditLine, adjustLine } from "../domain/credit-line";
import type { CreditDeps } from "./deps";
import { mutateLine } from "./mutate-line";

/** AdjustCreditLine input. */
export interface AdjustCreditLineInput extends Omit<Adjustment, "at"> {
  readonly creditLineId: string;
}

/**
 * Changes a line's limit and/or freezes/unfreezes it with a required reason; the
 * change is audited in the line's history and published as CreditLineChanged.
 * The same idempotency key applies once.
 */
export async function adjustCreditLine(d: Pick<CreditDeps, "clock" | "lines" | "policy">, input: AdjustCreditLineInput): Promise<CreditLine> {
  if (!input.creditLineId) throw invalidArgument([{ field: "credit_line_id", description: "is required" }]);
  const at = d.clock.now();
  const key = input.idempotencyKey ? deterministicId("credit.adjust", input.creditLineId, input.idempotencyKey) : null;
  const r = await mutateLine(d.lines, input.creditLineId, key, (line) => adjustLine(line, { ...input, at }, d.policy));
  if (r.outcome === "not_found") throw notFound("credit line", input.creditLineId);
  return r.line;
}
