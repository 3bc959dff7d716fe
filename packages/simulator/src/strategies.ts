/** Reading a strategies file: collections' StrategySet as JSON (fen as strings), checked by collections' own validator. */
import defaults from "../config/default.json" with { type: "json" };
import { DEFAULT_STRATEGIES, type Strategy, type StrategySet } from "../../../services/collections/src/domain/strategy";
import { strategyTableViolations } from "../../../services/collections/src/domain/strategy-validation";
import { type CostConfig, parseCosts } from "./simulate";

/** The simulator's default costs: collections' contact costs and config/default.json (agency commission, attempts). */
export function defaultCosts(): CostConfig {
  return parseCosts({ ...defaults });
}

// biome-ignore lint/suspicious/noExplicitAny: JSON input, checked below
function strategyOf(raw: any): Strategy {
  return {
    id: String(raw.id),
    description: String(raw.description ?? ""),
    // biome-ignore lint/suspicious/noExplicitAny: JSON input
    rules: (raw.rules ?? []).map((r: any) => ({
      ...r,
      ...(r.minBalanceFen !== undefined ? { minBalanceFen: BigInt(r.minBalanceFen) } : {}),
      ...(r.maxBalanceFen !== undefined ? { maxBalanceFen: BigInt(r.maxBalanceFen) } : {}),
    })),
  };
}

/** Parses `{ champion, challengers, challengerPercent, costs? }`; throws naming each violation. */
export function parseStrategies(json: string): { strategies: StrategySet; costs?: CostConfig } {
  const raw = JSON.parse(json);
  const strategies: StrategySet = {
    champion: strategyOf(raw.champion),
    challengers: (raw.challengers ?? []).map(strategyOf),
    challengerPercent: Number(raw.challengerPercent ?? DEFAULT_STRATEGIES.challengerPercent),
  };
  const v = strategyTableViolations(strategies);
  if (v.length) throw new Error(`strategies: ${v.map((x) => `${x.field}: ${x.description}`).join("; ")}`);
  return { strategies, ...(raw.costs ? { costs: parseCosts(raw.costs) } : {}) };
}

export { DEFAULT_STRATEGIES };
