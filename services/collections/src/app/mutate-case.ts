import { aborted, type DomainError, failedPrecondition, notFound } from "@whiteslip/core";
import type { CaseChange, CollectionCase, Refusal } from "../domain/types";
import { noteBillingRequest } from "../domain/work";
import type { CaseRepository, Deps } from "./ports";

/** What a mutation decides: a change to save, optionally followed by a refusal to report (after saving it). */
export type Mutation =
  | { change: CaseChange; refusal?: Refusal | null }
  | { refusal: Refusal; change?: undefined };

/** A refusal as a FAILED_PRECONDITION error whose reason is the rule. */
export function refusalError(r: Refusal, caseId: string): DomainError {
  return failedPrecondition(r.rule, r.message, { caseId, rule: r.rule, citation: r.citation });
}

/**
 * Loads a case, applies `fn`, and saves with an optimistic version check, retrying on a concurrent change.
 * Throws NOT_FOUND for an unknown case and FAILED_PRECONDITION (after saving the change) for a refusal.
 */
export async function mutateCase(
  repo: CaseRepository,
  caseId: string,
  fn: (c: CollectionCase) => Mutation,
): Promise<CollectionCase> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const c = await repo.get(caseId);
    if (!c) throw notFound("case", caseId);
    const m = fn(c);
    let saved = c;
    if (m.change && (m.change.audit.length > 0 || m.change.events.length > 0)) {
      if ((await repo.save(m.change, c.version)) === "conflict") continue;
      saved = { ...m.change.case, version: c.version + 1 };
    }
    if (m.refusal) throw refusalError(m.refusal, caseId);
    return saved;
  }
  throw aborted("CASE_CONTENDED", `case ${caseId} changed concurrently; retry`);
}

/** Outcome of applying an event to an account's active case. */
export type EventEffect = "applied" | "duplicate" | "no-case";

/**
 * Applies an event to the account's active case, once: an event id already on the case changes nothing.
 * Retries on a concurrent change.
 */
export async function applyToActiveCase(
  repo: CaseRepository,
  accountId: string,
  eventId: string,
  fn: (c: CollectionCase) => CaseChange,
): Promise<EventEffect> {
  return applyToFoundCase(repo, () => repo.findActiveByAccount(accountId), accountId, eventId, fn);
}

/** Like applyToActiveCase, for the case that `find` returns. */
export async function applyToFoundCase(
  repo: CaseRepository,
  find: () => Promise<CollectionCase | null>,
  accountId: string,
  eventId: string,
  fn: (c: CollectionCase) => CaseChange,
): Promise<EventEffect> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const c = await find();
    if (!c) return "no-case";
    if (c.processedEventIds.includes(eventId)) return "duplicate";
    if ((await repo.save(fn(c), c.version)) === "saved") return "applied";
  }
  throw aborted("CASE_CONTENDED", `active case of account ${accountId} changed concurrently; retry`);
}

/**
 * Admits a request that billing will carry out (a plan, a deferral) under the client's idempotency key: the first
 * time, the case must pass `gate` and the key is noted on the case (audited) before billing is asked; a retry with a
 * noted key skips the gate, so it gets billing's idempotent answer even after billing's AccountCured closed the case.
 */
export async function admitBillingRequest(
  deps: Pick<Deps, "cases" | "clock">,
  c: CollectionCase,
  req: { op: "plan" | "deferral"; key: string; actor: string; what: string },
  gate: (c: CollectionCase) => Refusal | null,
): Promise<void> {
  if (c.requestKeys.includes(`${req.op}:${req.key}`)) return;
  const refusal = gate(c);
  if (refusal) throw refusalError(refusal, c.caseId);
  await mutateCase(deps.cases, c.caseId, (cur) => ({
    change: noteBillingRequest(cur, req.op, req.key, req.actor, req.what, deps.clock.now()),
  }));
}
