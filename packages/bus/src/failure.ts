import { isDomainError, isInfrastructureError } from "@whiteslip/core";
import { UndecodableEventError } from "./envelope";

/**
 * What a consumer does with a message whose handling failed (docs/architecture.md, "Failure classes in the bus"):
 *
 * - `permanent`: will fail the same way however often it is tried — the message cannot be decoded
 *   (`UndecodableEventError`), a handler rejected its payload (`DomainError` of kind `invalid_argument`), or the
 *   handler marked the error permanent (`PermanentEventError`, or any error with `permanent: true`). Dead-lettered
 *   at once.
 * - `infrastructure`: the database, the broker or a dependency is unreachable or too slow
 *   (`isInfrastructureError` from @whiteslip/core, the platform's one classifier). Never dead-lettered: the
 *   partition is held back and the message retried for as long as it takes.
 * - `unexpected`: anything else — a bug, or a rule that refused the fact (`not_found`, `failed_precondition`,
 *   `aborted`, …): retried a bounded number of times (it may be a race with another fact or a conflict), then
 *   dead-lettered with the error, its stack and the attempts.
 *
 * Infrastructure wins over a permanent mark: a database that is down is never a reason to lose a fact.
 */
export type FailureClass = "permanent" | "infrastructure" | "unexpected";

/** An error a handler throws to say "this fact can never be applied": the message is dead-lettered at once. */
export class PermanentEventError extends Error {
  override readonly name = "PermanentEventError";
  readonly permanent = true;
}

/** True when `e` (or an error in its cause chain) is marked permanent. */
function markedPermanent(e: unknown): boolean {
  const seen = new Set<unknown>();
  let cur: unknown = e;
  while (cur && typeof cur === "object" && !seen.has(cur)) {
    seen.add(cur);
    if ((cur as { permanent?: unknown }).permanent === true) return true;
    cur = (cur as { cause?: unknown }).cause;
  }
  return false;
}

/** The failure class of an error thrown while decoding or handling a message. */
export function classifyFailure(e: unknown): FailureClass {
  if (isInfrastructureError(e)) return "infrastructure";
  if (e instanceof UndecodableEventError) return "permanent";
  if (isDomainError(e) && e.kind === "invalid_argument") return "permanent";
  if (markedPermanent(e)) return "permanent";
  return "unexpected";
}

/**
 * Delay before retry number `attempt` (1-based): exponential from `baseMs`, capped at `maxMs`, with "equal jitter"
 * (a random point in the upper half of the step) so that many partitions held back by one outage do not retry
 * in lockstep. See https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const step = Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  return Math.round(step / 2 + random() * (step / 2));
}
