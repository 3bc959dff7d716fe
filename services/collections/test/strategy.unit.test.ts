import { describe, expect, it } from "vitest";
import { bucketFor } from "@whiteslip/core";
import {
  assignStrategy,
  DEFAULT_CHALLENGER,
  DEFAULT_CHAMPION,
  DEFAULT_STRATEGIES,
  queueFor,
  type Segment,
  selectTreatment,
} from "../src/domain/strategy";

const seg = (s: Partial<Segment>): Segment => ({
  bucket: "M1",
  tier: "B",
  totalBalanceFen: 10_000n,
  dpd: 1,
  escalationLevel: 0,
  ...s,
});

describe("buckets", () => {
  it.each([
    [0, "M0"],
    [1, "M1"],
    [30, "M1"],
    [31, "M2"],
    [60, "M2"],
    [61, "M3"],
    [90, "M3"],
    [91, "M4"],
    [180, "M6"],
    [181, "CHARGED_OFF"],
  ])("DPD %i is %s", (dpd, b) => expect(bucketFor(dpd)).toBe(b));
});

describe("champion strategy (bucket × tier × balance)", () => {
  it("keeps early, low-risk cases digital only", () => {
    expect(selectTreatment(DEFAULT_CHAMPION, seg({ tier: "A", dpd: 20 }))).toBe("DIGITAL_ONLY");
  });
  it("calls high-risk tiers from DPD 3, not before", () => {
    expect(selectTreatment(DEFAULT_CHAMPION, seg({ tier: "D", dpd: 2 }))).toBe("DIGITAL_ONLY");
    expect(selectTreatment(DEFAULT_CHAMPION, seg({ tier: "D", dpd: 3 }))).toBe("AGENT_CALLS");
    expect(selectTreatment(DEFAULT_CHAMPION, seg({ tier: "E", dpd: 3 }))).toBe("AGENT_CALLS");
  });
  it("calls large balances (≥ ¥10,000) from DPD 3", () => {
    expect(selectTreatment(DEFAULT_CHAMPION, seg({ totalBalanceFen: 999_999n, dpd: 5 }))).toBe(
      "DIGITAL_ONLY",
    );
    expect(selectTreatment(DEFAULT_CHAMPION, seg({ totalBalanceFen: 1_000_000n, dpd: 5 }))).toBe(
      "AGENT_CALLS",
    );
  });
  it("calls everyone in M2, legal notice at M3, external agency from M4", () => {
    expect(selectTreatment(DEFAULT_CHAMPION, seg({ bucket: "M2", tier: "A", dpd: 31 }))).toBe("AGENT_CALLS");
    expect(selectTreatment(DEFAULT_CHAMPION, seg({ bucket: "M3", dpd: 61 }))).toBe("LEGAL_NOTICE");
    expect(selectTreatment(DEFAULT_CHAMPION, seg({ bucket: "M4", dpd: 91 }))).toBe("EXTERNAL_AGENCY");
    expect(selectTreatment(DEFAULT_CHAMPION, seg({ bucket: "M6", dpd: 170 }))).toBe("EXTERNAL_AGENCY");
  });
  it("gives an escalated case at least agent calls", () => {
    expect(selectTreatment(DEFAULT_CHAMPION, seg({ tier: "A", escalationLevel: 1 }))).toBe("AGENT_CALLS");
  });
  it("the challenger calls medium risk from DPD 1", () => {
    expect(selectTreatment(DEFAULT_CHALLENGER, seg({ tier: "C", dpd: 1 }))).toBe("AGENT_CALLS");
    expect(selectTreatment(DEFAULT_CHAMPION, seg({ tier: "C", dpd: 1 }))).toBe("DIGITAL_ONLY");
  });
  it("queues by treatment and bucket", () => {
    expect(queueFor("AGENT_CALLS", "M2")).toBe("calls-M2");
    expect(queueFor("LEGAL_NOTICE", "M3")).toBe("legal-M3");
    expect(queueFor("DIGITAL_ONLY", "M1")).toBe("digital");
    expect(queueFor("DIGITAL_ONLY", "M0", true)).toBe("early-warning");
  });
});

describe("champion/challenger split", () => {
  const ids = Array.from({ length: 10_000 }, (_, i) => `acct-${i}`);
  it("assigns the same account to the same strategy every time", () => {
    for (const id of ids.slice(0, 200))
      expect(assignStrategy(id, DEFAULT_STRATEGIES).id).toBe(assignStrategy(id, DEFAULT_STRATEGIES).id);
  });
  it("sends about the configured share (default 20%) to the challenger", () => {
    const n = ids.filter((id) => assignStrategy(id, DEFAULT_STRATEGIES).id === DEFAULT_CHALLENGER.id).length;
    expect(n / ids.length).toBeGreaterThan(0.18);
    expect(n / ids.length).toBeLessThan(0.22);
  });
  it("0% keeps everyone on the champion, 100% moves everyone", () => {
    expect(
      ids.every(
        (id) => assignStrategy(id, { ...DEFAULT_STRATEGIES, challengerPercent: 0 }).id === "champion",
      ),
    ).toBe(true);
    expect(
      ids.every(
        (id) =>
          assignStrategy(id, { ...DEFAULT_STRATEGIES, challengerPercent: 100 }).id === DEFAULT_CHALLENGER.id,
      ),
    ).toBe(true);
  });
  it("raising the share only moves champion accounts to the challenger, never back", () => {
    const at20 = new Set(ids.filter((id) => assignStrategy(id, DEFAULT_STRATEGIES).id !== "champion"));
    const at30 = new Set(
      ids.filter(
        (id) => assignStrategy(id, { ...DEFAULT_STRATEGIES, challengerPercent: 30 }).id !== "champion",
      ),
    );
    for (const id of at20) expect(at30.has(id)).toBe(true);
  });
});
