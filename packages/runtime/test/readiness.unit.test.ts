import { describe, expect, it } from "vitest";
import { failingChecks, type ReadinessCheck } from "../src/index";

describe("failingChecks", () => {
  it("names the terms that are false, throw, or take longer than the timeout", async () => {
    let slowCalls = 0;
    let answerSlow: ((ready: boolean) => void) | undefined;
    const checks: ReadinessCheck[] = [
      { name: "database", check: async () => true },
      { name: "broker", check: async () => false },
      {
        name: "consumers",
        check: async () => {
          throw new Error("stalled");
        },
      },
      {
        name: "slow",
        check: () => {
          slowCalls++;
          // answers only when the test says so: the timeouts below bound the waits, the clock decides nothing
          return new Promise<boolean>((r) => {
            answerSlow = r;
          });
        },
      },
    ];
    expect(await failingChecks(checks, 50)).toEqual(["broker", "consumers", "slow"]);
    // the slow check is still running: a second round waits on it instead of starting another
    expect(await failingChecks(checks, 50)).toEqual(["broker", "consumers", "slow"]);
    expect(slowCalls).toBe(1);
    // once it answers, the next round sees its answer
    answerSlow?.(true);
    expect(await failingChecks(checks, 1_000)).toEqual(["broker", "consumers"]);
  });

  it("is ready (nothing failing) when every term holds", async () => {
    expect(await failingChecks([{ name: "database", check: async () => true }])).toEqual([]);
    expect(await failingChecks([])).toEqual([]);
  });
});
