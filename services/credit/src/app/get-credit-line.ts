import { invalidArgument, notFound } from "@whiteslip/core";
import type { CreditLine } from "../domain/credit-line";
import type { CreditDeps } from "./deps";

/** Returns a line (available credit is derived from it); NOT_FOUND when unknown. */
export async function getCreditLine(d: Pick<CreditDeps, "lines">, creditLineId: string): Promise<CreditLine> {
  if (!creditLineId) throw invalidArgument([{ field: "credit_line_id", description: "is required" }]);
  const line = await d.lines.get(creditLineId);
  if (!line) throw notFound("credit line", creditLineId);
  return line;
}
