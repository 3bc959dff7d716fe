/** Reads the cadence policy table in force with its version (for the console's policy editor). */
import type { CadencePolicyVersion, PolicyTableRepository } from "./ports";

/** The stored cadence table. */
export function getCadencePolicy(policies: PolicyTableRepository): Promise<CadencePolicyVersion> {
  return policies.current();
}
