import { type DomainError, failedPrecondition, notFound } from "@whiteslip/core";
import { handleCommand, outcome, write } from "@whiteslip/store";
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

/** A case write: the change and the version it was decided on. */
type CaseWrite = { change: CaseChange; expected: number };

/** The store's command port over the case repository: save conditional on the version read. */
function caseStore<S>(repo: CaseRepository, load: () => Promise<S>) {
  return { load, write: async ({ change, expected }: CaseWrite) => (await repo.save(change, expected)) === "saved" };
}

/**
 * A command on one case (the store's handleCommand): loads it, applies `fn`, and saves with an optimistic
 * version check, deciding again on a concurrent change (ABORTED CONCURRENT_MODIFICATION when it keeps changing).
 * Throws NOT_FOUND for an unknown case and FAILED_PRECONDITION (after saving the change) for a refusal.
 */
export async function mutateCase(
  repo: CaseRepository,
  caseId: string,
  fn: (c: CollectionCase) => Mutation,
): Promise<CollectionCase> {
  const done = await handleCommand<CollectionCase | null, CaseWrite, { saved: CollectionCase; refusal: Refusal | null }>(
    caseStore(repo, () => repo.get(caseId)),
    (c) => {
      if (!c) throw notFound("case", caseId);
      const m = fn(c);
      const refusal = m.refusal ?? null;
      if (m.change && (m.change.audit.length > 0 || m.change.events.length > 0))
        return write({ change: m.change, expected: c.version }, { saved: { ...m.change.case, version: c.version + 1 }, refusal });
      return outcome({ saved: c, refusal });
    },
    { what: `case ${caseId}` },
  );
  if (done.refusal) throw refusalError(done.refusal, caseId);
  return done.saved;
}

/** Outcome of applying an event to an account's active case. */
export type EventEffect = "applied" | "duplicate" | "no-case";

/**
 * Applies an event to the account's active case, once: an event id already on the case changes nothing.
 * Decides again on a concurrent change.
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
export function applyToFoundCase(
  repo: CaseRepository,
  find: () => Promise<CollectionCase | null>,
  accountId: string,
  eventId: string,
  fn: (c: CollectionCase) => CaseChange,
): Promise<EventEffect> {
  return handleCommand<CollectionCase | null, CaseWrite, EventEffect>(
    caseStore(repo, find),
    (c) => {
      if (!c) return outcome("no-case");
      if (c.processedEventIds.includes(eventId)) return outcome("duplicate");
      return write({ change: fn(c), expected: c.version }, "applied");
    },
    { what: `active case of account ${accountId}` },
  );
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
