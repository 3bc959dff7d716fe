/**
 * Replaces the strategy table: the whole table is validated (field violations name the proto path,
 * `table.champion.rules[2].treatment`) and stored only when the editor read the current version (optimistic
 * concurrency: a stale version is refused with ABORTED and nothing changes). The actor and the reason go into the
 * audit trail (`strategy_history`) with both versions. `validateOnly` checks the table exactly as a save would (the
 * console's check at edit time: banned claims refused with their rule codes) and stores nothing. Cases
 * opened or re-segmented afterwards use the new table. Existing cases keep their strategy id; changing the challenger
 * share moves only accounts whose new cases are assigned afterwards.
 */
import { aborted, type FieldViolation, invalidArgument } from "@whiteslip/core";
import type { StrategySet } from "../domain/strategy";
import { strategyTableViolations } from "../domain/strategy-validation";
import type { Deps, StrategyTableVersion } from "./ports";

/** Input of an update; `table` is undefined when the request carried none. */
export interface UpdateStrategiesInput {
  /** The new table. */
  table: StrategySet | undefined;
  /** Violations found while decoding the request (e.g. an unset treatment), reported with the others. */
  decodeViolations?: FieldViolation[];
  /** The version the editor read. */
  expectedVersion: number;
  /** Who changes it. */
  actor: string;
  /** Why (optional). */
  reason?: string;
  /** Check only; store nothing and return the current version. */
  validateOnly?: boolean;
}

/** Validates and stores a new strategy table; returns the stored version. */
export async function updateStrategies(
  deps: Pick<Deps, "strategyTable" | "clock">,
  input: UpdateStrategiesInput,
): Promise<StrategyTableVersion> {
  const v: FieldViolation[] = [];
  if (!input.actor.trim()) v.push({ field: "actor", description: "must name who makes the change" });
  if (!Number.isInteger(input.expectedVersion) || input.expectedVersion < 1)
    v.push({ field: "expected_version", description: "must be the version read (≥ 1)" });
  v.push(...(input.decodeViolations ?? []));
  if (input.table) v.push(...strategyTableViolations(input.table));
  else if (!input.decodeViolations?.length) v.push({ field: "table", description: "must be set" });
  if ((input.reason ?? "").length > 500) v.push({ field: "reason", description: "must be at most 500 characters" });
  if (v.length > 0 || !input.table) throw invalidArgument(v);
  if (input.validateOnly) return deps.strategyTable.current();
  const stored = await deps.strategyTable.replaceIfVersion(
    input.table,
    input.expectedVersion,
    { actor: input.actor, kind: "UPDATE", reason: input.reason ?? "" },
    deps.clock.now(),
  );
  if (!stored)
    throw aborted(
      "STALE_STRATEGY_VERSION",
      `the strategy table changed since version ${input.expectedVersion}; reload it and apply the edit again`,
    );
  return stored;
}
