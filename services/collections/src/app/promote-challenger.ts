/**
 * Promotes a challenger to champion (issue 18.2): the table the risk manager read (`expectedVersion`, ABORTED when
 * someone stored another since) becomes a new version in which the challenger is the champion under its own id, the
 * former champion retired or kept as a control challenger. The verified actor, the reason (required: a promotion is
 * a decision someone must be able to explain later), both versions and both strategy ids go into the audit trail.
 * Cases already open keep the strategy they were assigned; cases assigned afterwards in the champion's share follow
 * the promoted strategy.
 */
import { aborted, invalidArgument, notFound, type FieldViolation } from "@whiteslip/core";
import { promoteChallenger as promote } from "../domain/strategy";
import { strategyTableViolations } from "../domain/strategy-validation";
import type { Deps, StrategyChange, StrategyTableVersion } from "./ports";

/** Input of a promotion. */
export interface PromoteChallengerInput {
  challengerId: string;
  expectedVersion: number;
  reason: string;
  /** The verified actor. */
  actor: string;
  keepFormerChampion?: boolean;
}

/** Stores the promoted table; returns it with its audit record. */
export async function promoteChallenger(
  deps: Pick<Deps, "strategyTable" | "clock">,
  input: PromoteChallengerInput,
): Promise<{ current: StrategyTableVersion; change: StrategyChange }> {
  const v: FieldViolation[] = [];
  if (!input.actor.trim()) v.push({ field: "actor", description: "must name who makes the change" });
  if (!input.challengerId.trim()) v.push({ field: "challenger_id", description: "must be set" });
  if (!input.reason.trim()) v.push({ field: "reason", description: "must say why the challenger is promoted" });
  else if (input.reason.length > 500) v.push({ field: "reason", description: "must be at most 500 characters" });
  if (!Number.isInteger(input.expectedVersion) || input.expectedVersion < 1)
    v.push({ field: "expected_version", description: "must be the version read (≥ 1)" });
  if (v.length > 0) throw invalidArgument(v);
  const read = await deps.strategyTable.current();
  const stale = () =>
    aborted(
      "STALE_STRATEGY_VERSION",
      `the strategy table changed since version ${input.expectedVersion}; reload it and decide again`,
    );
  if (read.version !== input.expectedVersion) throw stale();
  const next = promote(read.table, input.challengerId, input.keepFormerChampion ?? false);
  if ("refused" in next) throw notFound("challenger strategy", input.challengerId);
  // the promoted table is a table like any other: the same checks as an edit (it was valid; this keeps it so)
  const violations = strategyTableViolations(next);
  if (violations.length > 0) throw invalidArgument(violations);
  const note = {
    actor: input.actor,
    kind: "PROMOTION" as const,
    reason: input.reason.trim(),
    promotedStrategyId: next.champion.id,
    formerChampionId: read.table.champion.id,
  };
  const now = deps.clock.now();
  const stored = await deps.strategyTable.replaceIfVersion(next, input.expectedVersion, note, now);
  if (!stored) throw stale();
  return {
    current: stored,
    change: { ...note, version: stored.version, previousVersion: input.expectedVersion, at: now, table: next },
  };
}
