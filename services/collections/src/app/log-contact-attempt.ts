import { deterministicId, notFound, Violations } from "@whiteslip/core";
import type { CollectionCase, ContactAttempt } from "../domain/types";
import { type ContactInput, logContact, validateContact } from "../domain/work";
import { mutateCase, refusalError } from "./mutate-case";
import type { Deps } from "./ports";

/** LogContactAttempt input (the attempt id is derived from the case and the idempotency key). */
export type LogContactInput = Omit<ContactInput, "attemptId"> & { caseId: string; idempotencyKey: string };

/** The logged attempt and the case after it. */
export interface LogContactResult {
  attempt: ContactAttempt;
  case: CollectionCase;
}

/**
 * Checks compliance for the case's jurisdiction, then logs the attempt. A breach is recorded as a refused attempt
 * (with an audit line) and then reported as FAILED_PRECONDITION whose reason names the rule (e.g. `CN_QUIET_HOURS`).
 * The same idempotency key returns the first answer again without counting twice.
 */
export async function logContactAttempt(deps: Deps, i: LogContactInput): Promise<LogContactResult> {
  new Violations()
    .check(i.caseId.trim() === "", "case_id", "must be set")
    .check(i.idempotencyKey.trim() === "", "idempotency_key", "must be set")
    .throwIfAny();
  const attemptId = deterministicId("attempt", i.caseId, i.idempotencyKey);
  validateContact({ ...i, attemptId });
  const before = await deps.cases.get(i.caseId);
  if (!before) throw notFound("case", i.caseId);
  const known = before.attempts.find((a) => a.attemptId === attemptId);
  if (known) {
    if (known.refused)
      throw refusalError(
        { rule: known.refusedRule, message: "contact attempt was refused", citation: "" },
        i.caseId,
      );
    return { attempt: known, case: before };
  }
  let attempt: ContactAttempt | undefined;
  // the CN per-contact-point rules count the customer's other cases too (read once; a race between two cases of
  // one customer at the 6th call can let a 7th through — see README)
  const peers = before.customerId ? await deps.cases.attemptsOfCustomer(before.customerId, before.caseId) : [];
  const after = await mutateCase(deps.cases, i.caseId, (c) => {
    const r = logContact(
      c,
      { ...i, attemptId },
      { now: deps.clock.now(), strategies: deps.policy.strategies },
      peers,
    );
    attempt = r.attempt;
    return { change: r.change, refusal: r.refusal };
  });
  return { attempt: attempt!, case: after };
}
