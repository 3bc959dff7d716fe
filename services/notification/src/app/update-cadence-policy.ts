/**
 * Replaces the cadence policy table: the whole table is validated with the same rules as on load (field violations
 * name the row, `rules[2].everyNDays`), and it is stored only when the editor read the current version (optimistic
 * concurrency; a stale version is refused with ABORTED and nothing changes). The actor is recorded for audit.
 */
import { aborted, type Clock, invalidArgument } from "@whiteslip/core";
import { type CadenceRule, validatePolicy } from "../domain/cadence-policy";
import type { CadencePolicyVersion, PolicyTableRepository } from "./ports";

/** Input of an update. */
export interface UpdateCadencePolicyInput {
  /** The new rows. */
  rules: CadenceRule[];
  /** The version the editor read. */
  expectedVersion: number;
  /** Who changes it. */
  actor: string;
}

/** Validates and stores a new cadence table; returns the stored version. */
export async function updateCadencePolicy(
  policies: PolicyTableRepository,
  clock: Clock,
  input: UpdateCadencePolicyInput,
): Promise<CadencePolicyVersion> {
  const v = [];
  if (!input.actor.trim()) v.push({ field: "actor", description: "must name who makes the change" });
  if (!Number.isInteger(input.expectedVersion) || input.expectedVersion < 1)
    v.push({ field: "expected_version", description: "must be the version read (≥ 1)" });
  if (input.rules.length === 0) v.push({ field: "rules", description: "must contain at least one rule" });
  if (v.length > 0) throw invalidArgument(v);
  validatePolicy(input.rules);
  const stored = await policies.replaceIfVersion(
    input.rules,
    input.expectedVersion,
    input.actor,
    clock.now(),
  );
  if (!stored)
    throw aborted(
      "STALE_POLICY_VERSION",
      `the cadence policy changed since version ${input.expectedVersion}; reload it and apply the edit again`,
    );
  return stored;
}
