import { addDays } from "@whiteslip/core";
import { describe, expect, it } from "vitest";
import type { AccountState } from "../src/domain/account";
import { applyFact } from "../src/domain/apply-fact";
import type { AccountFact } from "../src/domain/facts";
import { DEFAULT_REPORTING_POLICY as RP, DEFAULT_SCORE_POLICY as SP } from "../src/domain/policy";
import { profileCharForDpd, statusForDpd } from "../src/domain/status";
import { chargedOff, cured, opened, overdue, payment } from "./support/facts";

function run(facts: AccountFact[], start: AccountState | null = null): AccountState {
  let s = start;
  for (const f of facts) s = applyFact(s, "acc-1", f, SP, RP)?.state ?? s;
  return s!;
}

function dailyOverdue(
  from: string,
  start: string,
  fromDpd: number,
  toDpd: number,
  overdueFen = 50_000n,
): AccountFact[] {
  const out: AccountFact[] = [];
  for (let d = fromDpd; d <= toDpd; d++)
    out.push(overdue("acc-1", addDays(from, d - fromDpd), d, start, overdueFen));
  return out;
}

const sumPoints = (s: AccountState) =>
  s.history.every((c) => c.reasons.reduce((a, r) => a + r.points, 0) === c.score - c.previousScore);

describe("status code at DPD boundaries", () => {
  it.each([
    [0, "11", "0"],
    [1, "11", "0"],
    [29, "11", "0"],
    [30, "71", "1"],
    [59, "71", "1"],
    [60, "78", "2"],
    [89, "78", "2"],
    [90, "80", "3"],
    [119, "80", "3"],
    [120, "82", "4"],
    [149, "82", "4"],
    [150, "83", "5"],
    [179, "83", "5"],
    [180, "84", "6"],
    [400, "84", "6"],
  ])("%i DPD → status %s, profile %s", (dpd, status, profile) => {
    expect(statusForDpd(dpd)).toBe(status);
    expect(profileCharForDpd(dpd)).toBe(profile);
  });
});

describe("score engine", () => {
  it("starts at 650 on opening with no history", () => {
    const s = run([opened("acc-1", "2026-01-01")]);
    expect(s.score.value).toBe(650);
    expect(s.history).toEqual([]);
  });

  it("drops once per threshold crossed, not once per day", () => {
    const s = run([opened("acc-1", "2026-01-01"), ...dailyOverdue("2026-02-01", "2026-02-01", 1, 65)]);
    expect(s.history.map((c) => c.reasons[0]!.code)).toEqual([
      "DPD_1_CROSSED",
      "DPD_30_CROSSED",
      "DPD_60_CROSSED",
    ]);
    expect(s.score.value).toBe(650 - 15 - 40 - 50);
    expect(sumPoints(s)).toBe(true);
  });

  it("drops deeper for deeper delinquency", () => {
    const drops = SP.thresholds.map((t) => t.points);
    expect([...drops].sort((a, b) => a - b)).toEqual(drops);
  });

  it("charges every threshold skipped by a jump in one change", () => {
    const s = run([overdue("acc-1", "2026-03-10", 95, "2025-12-05")]);
    expect(s.history).toHaveLength(1);
    expect(s.history[0]!.reasons.map((r) => r.code)).toEqual([
      "DPD_1_CROSSED",
      "DPD_30_CROSSED",
      "DPD_60_CROSSED",
      "DPD_90_CROSSED",
    ]);
  });

  it("drops deeper for a larger overdue amount, with its own reason", () => {
    const small = run([overdue("acc-1", "2026-02-01", 1, "2026-02-01", 5_000n)]);
    const large = run([overdue("acc-1", "2026-02-01", 1, "2026-02-01", 2_000_000n)]);
    expect(650 - large.score.value).toBeGreaterThan(650 - small.score.value);
    expect(large.history[0]!.reasons.map((r) => r.code)).toEqual([
      "DPD_1_CROSSED",
      "OVERDUE_AMOUNT_OVER_10000_CNY",
    ]);
    expect(sumPoints(large)).toBe(true);
  });

  it("never goes below 350, and says so in the reasons", () => {
    const s = run([
      overdue("acc-1", "2026-06-30", 180, "2026-01-01", 5_000_000n),
      chargedOff("acc-1", "2026-07-01", "2026-01-01", 5_000_000n),
    ]);
    expect(s.score.value).toBe(350);
    expect(s.history.at(-1)!.reasons.at(-1)!.code).toBe("SCORE_FLOOR");
    expect(sumPoints(s)).toBe(true);
  });

  it("gains a little for on-time payments, capped per month", () => {
    const s = run([
      opened("acc-1", "2026-01-01"),
      payment("acc-1", "2026-02-03", { amountFen: 1n }),
      payment("acc-1", "2026-02-10", { amountFen: 2n }),
      payment("acc-1", "2026-02-20", { amountFen: 3n }),
      payment("acc-1", "2026-03-03", { amountFen: 4n }),
    ]);
    expect(s.history.map((c) => c.score - c.previousScore)).toEqual([5, 5, 5]);
    expect(s.score.value).toBe(665);
  });

  it("gives nothing for a late payment", () => {
    const s = run([payment("acc-1", "2026-02-03", { onTime: false, dpdBefore: 3 })]);
    expect(s.history).toEqual([]);
  });

  it("recovers slowly after a cure: lower monthly cap during recovery, normal cap after", () => {
    let s = run([
      ...dailyOverdue("2026-02-01", "2026-02-01", 1, 31),
      cured("acc-1", "2026-03-05", "2026-02-01", 33),
    ]);
    const afterCure = s.score.value;
    expect(s.history.at(-1)!.reasons[0]!.code).toBe("ACCOUNT_CURED_RECOVERY");
    s = run([payment("acc-1", "2026-03-10", { amountFen: 1n })], s); // month cap already used by the cure
    expect(s.score.value).toBe(afterCure);
    s = run(
      [payment("acc-1", "2026-04-03", { amountFen: 2n }), payment("acc-1", "2026-04-20", { amountFen: 3n })],
      s,
    );
    expect(s.score.value).toBe(afterCure + 5);
    s = run(
      [payment("acc-1", "2026-09-03", { amountFen: 4n }), payment("acc-1", "2026-09-20", { amountFen: 5n })],
      s,
    );
    expect(s.score.value).toBe(afterCure + 15);
    expect(s.history.at(-1)!.reasons[0]!.code).toBe("ON_TIME_PAYMENT");
  });

  it("drops again for a new delinquency after a cure", () => {
    const s = run([
      ...dailyOverdue("2026-02-01", "2026-02-01", 1, 2),
      cured("acc-1", "2026-02-03", "2026-02-01", 2),
      overdue("acc-1", "2026-04-02", 1, "2026-04-02"),
    ]);
    expect(s.history.filter((c) => c.reasons[0]!.code === "DPD_1_CROSSED")).toHaveLength(2);
  });

  it("ignores an Overdue of a delinquency already cured (late delivery)", () => {
    const s = run([
      overdue("acc-1", "2026-02-01", 1, "2026-02-01"),
      cured("acc-1", "2026-02-03", "2026-02-01", 2),
    ]);
    const out = applyFact(s, "acc-1", overdue("acc-1", "2026-02-02", 2, "2026-02-01"), SP, RP)!;
    expect(out.changed).toBe(false);
    expect(out.state).toBe(s);
  });

  it("drops at charge-off and then stops reacting to payments", () => {
    const s = run([chargedOff("acc-1", "2026-08-01", "2026-02-01"), payment("acc-1", "2026-08-05")]);
    expect(s.history).toHaveLength(1);
    expect(s.history[0]!.reasons[0]!.code).toBe("CHARGED_OFF");
    expect(s.score.chargedOff).toBe(true);
  });

  it("derives the change id from the event id", () => {
    const f = overdue("acc-1", "2026-02-01", 1, "2026-02-01");
    const a = run([f]);
    const b = run([f]);
    expect(a.history[0]!.changeId).toBe(b.history[0]!.changeId);
    expect(a.history[0]!.causeEventId).toBe(f.eventId);
  });
});
