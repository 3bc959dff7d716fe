import { type Fen, notFound, Violations } from "@whiteslip/core";
import { recordWaiver, waiverGate } from "../domain/work";
import { mutateCase, refusalError } from "./mutate-case";
import type { Deps } from "./ports";

/** RequestFeeWaiver input. */
export interface FeeWaiverInput {
  caseId: string;
  amountFen: Fen;
  agentId: string;
  idempotencyKey: string;
}

/**
 * Hardship → fee waiver within policy: the case's latest reason must be hardship and the case total must stay under
 * the per-case limit; billing's WaiveFees does the waiving (with a derived idempotency key).
 */
export async function requestFeeWaiver(
  deps: Deps,
  i: FeeWaiverInput,
): Promise<{ waivedFen: Fen; caseWaivedFen: Fen }> {
  new Violations()
    .check(i.caseId.trim() === "", "case_id", "must be set")
    .check(i.amountFen <= 0n, "amount_fen", "must be > 0")
    .check(i.idempotencyKey.trim() === "", "idempotency_key", "must be set")
    .throwIfAny();
  const c = await deps.cases.get(i.caseId);
  if (!c) throw notFound("case", i.caseId);
  const known = c.waivers.find((w) => w.key === i.idempotencyKey);
  if (known) return { waivedFen: known.waivedFen, caseWaivedFen: c.waivedFen };
  const gate = waiverGate(c, i.amountFen, deps.policy.waiverMaxPerCaseFen);
  if (gate) throw refusalError(gate, c.caseId);
  const waived = await deps.billing.waiveFees({
    accountId: c.accountId,
    maxAmountFen: i.amountFen,
    reason: "hardship",
    approvedBy: i.agentId || "collections",
    idempotencyKey: `collections:${c.caseId}:waiver:${i.idempotencyKey}`,
  });
  const after = await mutateCase(deps.cases, c.caseId, (cur) => ({
    change: recordWaiver(cur, i.idempotencyKey, waived, i.agentId || "system", deps.clock.now()),
  }));
  return { waivedFen: waived, caseWaivedFen: after.waivedFen };
}
