import { failedPrecondition, notFound, Violations } from "@whiteslip/core";
import { SYSTEM } from "../domain/case";
import type { CollectionCase } from "../domain/types";
import { type AgentView, assignAgent, pickAgent } from "../domain/work";
import { mutateCase } from "./mutate-case";
import type { Deps } from "./ports";

/** AssignCase input. */
export interface AssignCaseInput {
  caseId: string;
  /** Empty: the least-loaded active agent skilled for the case's queue. */
  agentId: string;
  actor: string;
  reassign: boolean;
}

/**
 * Assigns a case to an agent. With no agent given, picks the active agent skilled for the case's queue with the
 * fewest open cases. One agent holds a case at a time: the save is conditional on the version read, so of two
 * concurrent assignments one wins and the other sees the case held (CASE_ALREADY_ASSIGNED).
 */
export async function assignCase(deps: Deps, i: AssignCaseInput): Promise<CollectionCase> {
  new Violations().check(i.caseId.trim() === "", "case_id", "must be set").throwIfAny();
  const current = await deps.cases.get(i.caseId);
  if (!current) throw notFound("case", i.caseId);
  let agent: AgentView | null;
  const counts = await deps.cases.activeCountsByAgent();
  if (i.agentId) {
    const a = await deps.agents.get(i.agentId);
    if (!a) throw notFound("agent", i.agentId);
    agent = { ...a, openCases: counts.get(a.agentId) ?? 0 };
  } else {
    const all = (await deps.agents.list()).map((a) => ({ ...a, openCases: counts.get(a.agentId) ?? 0 }));
    agent = pickAgent(all, current.queue);
    if (!agent)
      throw failedPrecondition(
        "NO_AGENT_AVAILABLE",
        `no active agent is skilled for queue ${current.queue}`,
        { queue: current.queue },
      );
  }
  const chosen = agent;
  return mutateCase(deps.cases, i.caseId, (c) => {
    const d = assignAgent(c, chosen, i.actor || SYSTEM, i.reassign, deps.clock.now());
    return d.ok ? { change: d.change } : { refusal: d.refusal };
  });
}
