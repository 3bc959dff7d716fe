import { dateInZone, deterministicId, type Fen, notFound, Violations } from "@whiteslip/core";
import type { PromiseToPay } from "../domain/types";
import { recordPromise, validatePromise } from "../domain/work";
import { mutateCase } from "./mutate-case";
import type { Deps } from "./ports";

/** RecordPromiseToPay input. */
export interface RecordPromiseInput {
  caseId: string;
  amountFen: Fen;
  promisedDate: string;
  agentId: string;
  idempotencyKey: string;
}

/** Records a promise to pay (amount > 0, date today..today+30); the same idempotency key records it once. */
export async function recordPromiseToPay(deps: Deps, i: RecordPromiseInput): Promise<PromiseToPay> {
  new Violations()
    .check(i.caseId.trim() === "", "case_id", "must be set")
    .check(i.idempotencyKey.trim() === "", "idempotency_key", "must be set")
    .throwIfAny();
  const promiseId = deterministicId("promise", i.caseId, i.idempotencyKey);
  const today = dateInZone(deps.clock.now(), deps.policy.businessTimeZone);
  validatePromise(
    { promiseId, amountFen: i.amountFen, promisedDate: i.promisedDate, agentId: i.agentId },
    today,
  );
  const c = await mutateCase(deps.cases, i.caseId, (c) => {
    const d = recordPromise(
      c,
      { promiseId, amountFen: i.amountFen, promisedDate: i.promisedDate, agentId: i.agentId },
      deps.clock.now(),
    );
    return d.ok ? { change: d.change } : { refusal: d.refusal };
  });
  const p = c.promises.find((x) => x.promiseId === promiseId);
  if (!p) throw notFound("promise", promiseId);
  return p;
}
