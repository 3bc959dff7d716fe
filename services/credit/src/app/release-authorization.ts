import { type Fen, invalidArgument, notFound } from "@whiteslip/core";
import { availableFen } from "../domain/credit-line";
import type { CreditDeps } from "./deps";

/** ReleaseAuthorization result. */
export interface ReleaseResult {
  /** False when the hold was already released, captured, expired or never approved. */
  readonly released: boolean;
  readonly availableFen: Fen;
}

/** Releases an open hold (order cancelled): the credit is available again at once. */
export async function releaseAuthorization(d: Pick<CreditDeps, "clock" | "lines" | "authorizations">, authorizationId: string): Promise<ReleaseResult> {
  if (!authorizationId) throw invalidArgument([{ field: "authorization_id", description: "is required" }]);
  const auth = await d.authorizations.get(authorizationId);
  if (!auth) throw notFound("authorization", authorizationId);
  if (auth.decision === "APPROVED") {
    const after = await d.lines.removeHold(auth.creditLineId, auth.id, auth.amountFen);
    if (after !== null) {
      await d.authorizations.closeOpen(auth.id, "RELEASED", d.clock.now());
      return { released: true, availableFen: after < 0n ? 0n : after };
    }
  }
  const line = await d.lines.get(auth.creditLineId);
  return { released: false, availableFen: line ? availableFen(line) : 0n };
}
