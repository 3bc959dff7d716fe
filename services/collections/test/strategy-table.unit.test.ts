import { DomainError } from "@whiteslip/core";
import { describe, expect, it } from "vitest";
import { buildPolicy } from "../src/adapters/policy";
import { getStrategies } from "../src/app/get-strategies";
import { handleOverdue } from "../src/app/handle-overdue";
import { updateStrategies } from "../src/app/update-strategies";
import {
  DEFAULT_CHAMPION,
  DEFAULT_STRATEGIES,
  type StrategySet,
  selectTreatment,
} from "../src/domain/strategy";
import { covers, strategyTableViolations } from "../src/domain/strategy-validation";
import { fakeDeps, type MemoryStrategyTable, overdue, testPolicy } from "./fakes";

const fieldsOf = async (p: Promise<unknown>) => {
  const e = await p.catch((x: unknown) => x);
  expect(e).toBeInstanceOf(DomainError);
  return (e as DomainError).violations.map((v) => v.field);
};

function setup() {
  const f = fakeDeps();
  const table = f.deps.strategyTable as MemoryStrategyTable;
  f.deps.policy = buildPolicy({
    strategies: () => table.stored.table,
    productLocales: new Map(),
    defaultLocale: { jurisdiction: "CN", timeZone: "Asia/Shanghai" },
    creditor: testPolicy.creditor,
    waiverMaxPerCaseFen: testPolicy.waiverMaxPerCaseFen,
    businessTimeZone: "Asia/Shanghai",
    contactCostFen: testPolicy.contactCostFen,
  });
  return { ...f, table };
}

describe("strategy table validation", () => {
  it("accepts the default table", () => {
    expect(strategyTableViolations(DEFAULT_STRATEGIES)).toEqual([]);
  });

  it("names every bad field by its proto path", () => {
    const bad: StrategySet = {
      challengerPercent: 120,
      champion: {
        id: "Champion!",
        description: "",
        rules: [
          {
            buckets: ["M9" as never],
            tiers: ["Z" as never],
            minBalanceFen: 500n,
            maxBalanceFen: 100n,
            minDpd: -1,
            treatment: "UNSPECIFIED" as never,
          },
        ],
      },
      challengers: [{ ...DEFAULT_CHAMPION, rules: [] }],
    };
    expect(strategyTableViolations(bad).map((v) => v.field)).toEqual([
      "table.challenger_percent",
      "table.champion.id",
      "table.champion.rules[0].buckets[0]",
      "table.champion.rules[0].tiers[0]",
      "table.champion.rules[0].max_balance_fen",
      "table.champion.rules[0].min_dpd",
      "table.champion.rules[0].treatment",
      "table.challengers[0].rules",
    ]);
  });

  it("refuses a challenger percent outside 0–100, with more than two decimals, or without challengers", () => {
    for (const p of [-1, 100.01, Number.NaN, 12.345])
      expect(strategyTableViolations({ ...DEFAULT_STRATEGIES, challengerPercent: p })[0]?.field).toBe(
        "table.challenger_percent",
      );
    expect(strategyTableViolations({ ...DEFAULT_STRATEGIES, challengers: [] })[0]?.description).toMatch(
      /no challenger/,
    );
    expect(strategyTableViolations({ ...DEFAULT_STRATEGIES, challengers: [], challengerPercent: 0 })).toEqual(
      [],
    );
  });

  it("refuses a rule an earlier rule covers (unsorted/overlapping segments) and duplicate ids", () => {
    const unsorted: StrategySet = {
      ...DEFAULT_STRATEGIES,
      champion: {
        ...DEFAULT_CHAMPION,
        rules: [{ buckets: ["M1"], treatment: "DIGITAL_ONLY" }, ...DEFAULT_CHAMPION.rules],
      },
      challengers: [{ ...DEFAULT_CHAMPION }],
    };
    const v = strategyTableViolations(unsorted);
    expect(v.map((x) => x.field)).toEqual([
      "table.champion.rules[4]",
      "table.champion.rules[5]",
      "table.champion.rules[6]",
      "table.challengers[0].id",
    ]);
    expect(v[0]!.description).toMatch(/never reached: rules\[0\]/);
  });

  it("a balance band is covered only by a wider band", () => {
    const wide = {
      buckets: ["M1" as const],
      minBalanceFen: 0n,
      maxBalanceFen: 1000n,
      treatment: "AGENT_CALLS" as const,
    };
    expect(covers(wide, { ...wide, minBalanceFen: 100n, maxBalanceFen: 900n })).toBe(true);
    expect(covers(wide, { ...wide, maxBalanceFen: undefined as never })).toBe(false);
    expect(covers({ ...wide, tiers: ["D"] }, wide)).toBe(false);
  });

  it("max balance bounds the segment (exclusive)", () => {
    const s = {
      id: "s",
      description: "",
      rules: [{ buckets: ["M1" as const], maxBalanceFen: 1000n, treatment: "AGENT_CALLS" as const }],
    };
    const seg = { bucket: "M1" as const, tier: "C" as const, dpd: 1, escalationLevel: 0 };
    expect(selectTreatment(s, { ...seg, totalBalanceFen: 999n })).toBe("AGENT_CALLS");
    expect(selectTreatment(s, { ...seg, totalBalanceFen: 1000n })).toBe("DIGITAL_ONLY");
  });
});

describe("updating the strategy table", () => {
  it("stores a valid table with version + 1 and the actor; cases opened afterwards use it", async () => {
    const { deps, table, cases } = setup();
    await handleOverdue(deps, overdue("before", "2026-03-02", 1));
    const allCalls: StrategySet = {
      challengerPercent: 0,
      challengers: [],
      champion: {
        id: "all-calls",
        description: "calls everyone",
        rules: [{ buckets: ["M1"], treatment: "AGENT_CALLS" }],
      },
    };
    const saved = await updateStrategies(deps, { table: allCalls, expectedVersion: 1, actor: "risk.rita" });
    expect(saved).toMatchObject({ version: 2, updatedBy: "risk.rita", updatedAt: deps.clock.now() });
    expect((await getStrategies(deps)).table).toBe(allCalls);
    expect(table.stored.version).toBe(2);
    await handleOverdue(deps, overdue("after", "2026-03-02", 1));
    const byAccount = new Map([...cases.docs.values()].map((c) => [c.accountId, c]));
    expect(byAccount.get("before")).toMatchObject({ treatment: "DIGITAL_ONLY" });
    expect(byAccount.get("after")).toMatchObject({ treatment: "AGENT_CALLS", strategyId: "all-calls" });
  });

  it("refuses a bad table with INVALID_ARGUMENT and stores nothing", async () => {
    const { deps, table } = setup();
    const before = table.stored;
    expect(
      await fieldsOf(
        updateStrategies(deps, {
          table: { ...DEFAULT_STRATEGIES, challengerPercent: 101 },
          expectedVersion: 1,
          actor: "risk.rita",
        }),
      ),
    ).toEqual(["table.challenger_percent"]);
    expect(
      await fieldsOf(updateStrategies(deps, { table: undefined, expectedVersion: 0, actor: "" })),
    ).toEqual(["actor", "expected_version", "table"]);
    expect(table.stored).toBe(before);
  });

  it("refuses a stale version with ABORTED and keeps the newer table", async () => {
    const { deps, table } = setup();
    const first = { ...DEFAULT_STRATEGIES, challengerPercent: 10 };
    await updateStrategies(deps, { table: first, expectedVersion: 1, actor: "a" });
    const err = await updateStrategies(deps, {
      table: { ...DEFAULT_STRATEGIES, challengerPercent: 30 },
      expectedVersion: 1,
      actor: "b",
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: "aborted", reason: "STALE_STRATEGY_VERSION" });
    expect(table.stored).toMatchObject({ version: 2, updatedBy: "a", table: first });
  });
});
