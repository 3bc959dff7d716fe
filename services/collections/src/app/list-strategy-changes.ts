/** The strategy table's audit trail, newest first (for the console's history and a promotion's before/after). */
import { Violations } from "@whiteslip/core";
import type { Deps, StrategyChange } from "./ports";

/** At most `pageSize` versions (0 = 20, ≤ 100) below `beforeVersion` (0 = from the newest). */
export function listStrategyChanges(
  deps: Pick<Deps, "strategyTable">,
  pageSize: number,
  beforeVersion: number,
): Promise<StrategyChange[]> {
  new Violations()
    .check(!Number.isInteger(pageSize) || pageSize < 0 || pageSize > 100, "page_size", "must be 0–100 (0 = 20)")
    .check(!Number.isInteger(beforeVersion) || beforeVersion < 0, "before_version", "must be 0 or a version")
    .throwIfAny();
  return deps.strategyTable.changes(beforeVersion, pageSize || 20);
}
