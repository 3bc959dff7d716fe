/** Reads the strategy table in force with its version (for the console's policy editor). */
import type { Deps, StrategyTableVersion } from "./ports";

/** The stored strategy table. */
export function getStrategies(deps: Pick<Deps, "strategyTable">): Promise<StrategyTableVersion> {
  return deps.strategyTable.current();
}
