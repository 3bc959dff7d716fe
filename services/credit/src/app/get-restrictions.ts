import { invalidArgument, notFound } from "@whiteslip/core";
import type { Restriction } from "../domain/credit-line";
import type { CreditDeps } from "./deps";

/** The features an account (= credit line) has lost and why; NOT_FOUND when unknown. */
export async function getRestrictions(d: Pick<CreditDeps, "lines">, accountId: string): Promise<Restriction> {
  if (!accountId) throw invalidArgument([{ field: "account_id", description: "is required" }]);
  const line = await d.lines.get(accountId);
  if (!line) throw notFound("credit line", accountId);
  return line.restriction;
}
