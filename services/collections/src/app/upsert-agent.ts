import { Violations } from "@whiteslip/core";
import type { Agent, Deps } from "./ports";

/** Creates or updates an agent (id, skills as queue names, active flag). */
export async function upsertAgent(deps: Deps, a: Agent): Promise<Agent> {
  new Violations()
    .check(
      !/^[A-Za-z0-9_.:-]{1,64}$/.test(a.agentId),
      "agent.agent_id",
      "must be 1–64 letters, digits, _ . : -",
    )
    .check(
      a.skills.some((s) => s.trim() === ""),
      "agent.skills",
      "must not contain empty names",
    )
    .throwIfAny();
  const agent: Agent = { ...a, skills: [...new Set(a.skills.map((s) => s.trim()))] };
  await deps.agents.upsert(agent);
  return agent;
}
