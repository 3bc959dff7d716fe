import { describe, expect, it } from "vitest";
import { applyPpm, deterministicId, formatCny, invalidArgument, mulDivRound, parseCny, Violations } from "../src/index";

describe("money in fen", () => {
  it("formats yuan with thousands separators", () => {
    expect(formatCny(123_456n)).toBe("¥1,234.56");
    expect(formatCny(5n)).toBe("¥0.05");
    expect(formatCny(-100_000_000n)).toBe("-¥1,000,000.00");
    expect(parseCny("¥1,234.56")).toBe(123_456n);
    expect(parseCny("12.5")).toBe(1250n);
    expect(() => parseCny("1.234")).toThrow();
  });

  it("rounds rates half away from zero with integers only", () => {
    expect(applyPpm(10_001n, 500)).toBe(5n); // 0.05% of ¥100.01 = 5.0005 fen
    expect(applyPpm(1_000n, 50_000)).toBe(50n);
    expect(mulDivRound(5n, 1n, 2n)).toBe(3n);
    expect(mulDivRound(-5n, 1n, 2n)).toBe(-3n);
  });
});

describe("ids and errors", () => {
  it("deterministic ids are stable and UUID-shaped", () => {
    const a = deterministicId("due-soon", "acc_1:2026-03-01", 5);
    expect(a).toBe(deterministicId("due-soon", "acc_1:2026-03-01", 5));
    expect(a).not.toBe(deterministicId("due-soon", "acc_1:2026-03-01", 3));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it("collects field violations", () => {
    const v = new Violations().check(true, "amount_fen", "must be > 0, got -5").check(false, "x", "y");
    expect(() => v.throwIfAny()).toThrow("amount_fen: must be > 0, got -5");
    expect(invalidArgument([{ field: "a", description: "b" }]).violations).toHaveLength(1);
  });
});
