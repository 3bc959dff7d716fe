import { Violations } from "@whiteslip/core";
import type { CollectionCase } from "../domain/types";
import { resolveDispute as resolve } from "../domain/work";
import { mutateCase } from "./mutate-case";
import type { Deps } from "./ports";

/** Ends a dispute pause so collection resumes. */
export async function resolveDispute(
  deps: Deps,
  i: { caseId: string; actor: string; resolution: string },
): Promise<CollectionCase> {
  new Violations()
    .check(i.caseId.trim() === "", "case_id", "must be set")
    .check(i.actor.trim() === "", "actor", "must be set")
    .throwIfAny();
  return mutateCase(deps.cases, i.caseId, (c) => {
    const d = resolve(c, i.actor, i.resolution, deps.clock.now());
    return d.ok ? { change: d.change } : { refusal: d.refusal };
  });
}
