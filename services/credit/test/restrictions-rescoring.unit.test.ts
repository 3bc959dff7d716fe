import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY } from "../src/domain/policy";
import { RESCORING_ACTOR, behaviouralScore, flagDueSoon, rescore } from "../src/domain/rescoring";
import { applyChargedOff, applyCured, applyOverdue } from "../src/domain/restrictions";
import { aLine } from "./support/fixtures";
import { model } from "./support/memory";

const at = new Date("2026-03-10T00:00:00Z");
const all = ["NEW_PURCHASES", "PROMOTIONS", "LINE_INCREASES", "INSTALLMENTS"];

describe("restrictions while overdue", () => {
  it("restricts the configured features from DPD 1, emitting RestrictionChanged once", () => {
    const u1 = applyOverdue(aLine(), { eventId: "e1", businessDate: "2026-03-06", daysPastDue: 1, at }, DEFAULT_POLICY)!;
    expect(u1.line.restriction).toMatchObject({ features: all, reason: "OVERDUE", daysPastDue: 1, since: at });
    expect(u1.events).toEqual([expect.objectContaining({ type: "RestrictionChanged", data: expect.objectContaining({ features: all, reason: "OVERDUE", businessDate: "2026-03-06" }) })]);
    const u2 = applyOverdue(u1.line, { eventId: "e2", businessDate: "2026-03-07", daysPastDue: 2, at }, DEFAULT_POLICY)!;
    expect(u2.events).toEqual([]);
    expect(u2.line.restriction.daysPastDue).toBe(2);
    expect(u2.line.behaviour).toMatchObject({ currentDpd: 2, worstDpd: 2, lastOverdueOn: "2026-03-07" });
  });

  it("honours a configured list and threshold", () => {
    const policy = { ...DEFAULT_POLICY, restrictedFeatures: ["NEW_PURCHASES" as const], restrictFromDpd: 3 };
    expect(applyOverdue(aLine(), { eventId: "e", businessDate: "2026-03-06", daysPastDue: 2, at }, policy)!.line.restriction.features).toEqual([]);
    expect(applyOverdue(aLine(), { eventId: "e", businessDate: "2026-03-08", daysPastDue: 3, at }, policy)!.line.restriction.features).toEqual(["NEW_PURCHASES"]);
  });

  it("a cure lifts everything with one RestrictionChanged (CURED)", () => {
    const o = applyOverdue(aLine(), { eventId: "e1", businessDate: "2026-03-06", daysPastDue: 4, at }, DEFAULT_POLICY)!;
    const c = applyCured(o.line, { eventId: "c1", businessDate: "2026-03-08", at })!;
    expect(c.line.restriction.features).toEqual([]);
    expect(c.line.behaviour).toMatchObject({ currentDpd: 0, worstDpd: 4, lastCuredOn: "2026-03-08" });
    expect(c.events).toEqual([expect.objectContaining({ type: "RestrictionChanged", data: expect.objectContaining({ features: [], reason: "CURED" }) })]);
    expect(applyCured(c.line, { eventId: "c2", businessDate: "2026-03-09", at })!.events).toEqual([]);
  });

  it("ignores an Overdue older than the cure, and a cure older than a newer delinquency (events cross topics)", () => {
    const o = applyOverdue(aLine(), { eventId: "e1", businessDate: "2026-03-06", daysPastDue: 1, at }, DEFAULT_POLICY)!;
    const c = applyCured(o.line, { eventId: "c1", businessDate: "2026-03-07", at })!;
    expect(applyOverdue(c.line, { eventId: "late", businessDate: "2026-03-07", daysPastDue: 2, at }, DEFAULT_POLICY)).toBeNull();
    const again = applyOverdue(c.line, { eventId: "e9", businessDate: "2026-04-06", daysPastDue: 1, at }, DEFAULT_POLICY)!;
    expect(applyCured(again.line, { eventId: "old-cure", businessDate: "2026-03-07", at })).toBeNull();
  });

  it("a charge-off closes the line", () => {
    const u = applyChargedOff(aLine(), { eventId: "x", at })!;
    expect(u.line.status).toBe("CLOSED");
    expect(u.events[0]).toMatchObject({ type: "CreditLineChanged", data: { reason: "CHARGED_OFF", status: "CLOSED" } });
    expect(applyChargedOff(u.line, { eventId: "y", at })).toBeNull();
  });
});

describe("dynamic rescoring", () => {
  const cause = { causeId: "ev", at, today: "2026-03-10" };
  // application score 590 is tier B (580–599) with the v1 cut-offs
  const b = aLine({ applicationScore: 590, score: 590, tier: "B" });

  it("the overlay rewards on-time payments and penalises lateness, DPD, utilisation and a low bureau score", () => {
    expect(behaviouralScore(b).score).toBe(595); // low utilisation +5
    expect(behaviouralScore({ ...b, behaviour: { ...b.behaviour, onTimePayments: 10 } }).score).toBe(615);
    const bad = { ...b, postedBalanceFen: 950_000n, behaviour: { ...b.behaviour, latePayments: 1, worstDpd: 45, currentDpd: 45, bureauScore: 500 } };
    expect(behaviouralScore(bad).adjustments).toEqual([
      { code: "LATE_PAYMENTS", points: -15 },
      { code: "DPD_REACHED", points: -60 },
      { code: "CURRENTLY_OVERDUE", points: -20 },
      { code: "UTILISATION", points: -20 },
      { code: "CREDIT_REPORTING_SCORE", points: -15 },
    ]);
  });

  it("tier up to A grows an unrestricted line by 25%, capped at the tier's line for the income", () => {
    const u = rescore({ ...b, behaviour: { ...b.behaviour, onTimePayments: 5 } }, model, DEFAULT_POLICY, cause)!;
    expect(u.line.tier).toBe("A");
    expect(u.line.limitFen).toBe(1_250_000n);
    expect(u.events[0]).toMatchObject({ type: "CreditLineChanged", data: { previousTier: "B", tier: "A", reason: "RESCORE_TIER_UP_LINE_INCREASE", actor: RESCORING_ACTOR } });
    const capped = rescore({ ...b, monthlyIncomeFen: 400_000n, behaviour: { ...b.behaviour, onTimePayments: 5 } }, model, DEFAULT_POLICY, cause)!;
    expect(capped.line.limitFen).toBe(1_200_000n); // 3 × ¥4,000
  });

  it("no increase while line increases are restricted", () => {
    const r = { ...b, restriction: { features: ["LINE_INCREASES" as const], reason: "OVERDUE", since: at, daysPastDue: 1 }, behaviour: { ...b.behaviour, onTimePayments: 5 } };
    const u = rescore(r, model, DEFAULT_POLICY, cause)!;
    expect(u.line).toMatchObject({ tier: "A", limitFen: 1_000_000n });
    expect(u.changes[0]!.reason).toBe("RESCORE_TIER_UP");
  });

  it("no increase within the cooling period after the last delinquency; the tier still moves up", () => {
    const good = { ...b, behaviour: { ...b.behaviour, onTimePayments: 5, worstDpd: 0, lastOverdueOn: "2026-02-01", lastCuredOn: "2026-02-20" } };
    const u = rescore(good, model, DEFAULT_POLICY, cause)!;
    expect(u.line).toMatchObject({ tier: "A", limitFen: 1_000_000n });
    expect(u.changes[0]!.reason).toBe("RESCORE_TIER_UP_COOLING_PERIOD");
    // 180 days after the cure (2026-02-20 + 180 = 2026-08-19) the increase is allowed again
    expect(rescore(good, model, DEFAULT_POLICY, { ...cause, today: "2026-08-18" })!.line.limitFen).toBe(1_000_000n);
    const later = rescore(good, model, DEFAULT_POLICY, { ...cause, today: "2026-08-19" })!;
    expect(later.line.limitFen).toBe(1_250_000n);
    expect(later.changes[0]!.reason).toBe("RESCORE_TIER_UP_LINE_INCREASE");
    // configurable
    expect(rescore(good, model, { ...DEFAULT_POLICY, lineIncreaseCoolingDays: 10 }, cause)!.line.limitFen).toBe(1_250_000n);
  });

  it("a cure does not grow the line at once, although lifting the overdue penalty moves the tier up", () => {
    // 620 + on-time 20 + low utilisation 5 − DPD reached 30 = 615 (A); while overdue −20 more = 595 (B)
    const line = aLine({ applicationScore: 620, score: 595, tier: "B", behaviour: { ...b.behaviour, onTimePayments: 5 } });
    const overdue = applyOverdue(line, { eventId: "o1", businessDate: "2026-03-02", daysPastDue: 1, at }, DEFAULT_POLICY)!.line;
    const cured = applyCured(overdue, { eventId: "c1", businessDate: "2026-03-05", at })!.line;
    const u = rescore(cured, model, DEFAULT_POLICY, { causeId: "c1", at, today: "2026-03-05" })!;
    expect(u.line).toMatchObject({ tier: "A", limitFen: line.limitFen });
    expect(u.changes[0]!.reason).toBe("RESCORE_TIER_UP_COOLING_PERIOD");
    // without a cooling period the same cure would have grown the line
    const eager = rescore(cured, model, { ...DEFAULT_POLICY, lineIncreaseCoolingDays: 0 }, { causeId: "c1", at, today: "2026-03-05" })!;
    expect(eager.line.limitFen).toBeGreaterThan(line.limitFen);
  });

  it("tier down to D cuts the line to 70%; to E freezes it; recovery to C unfreezes", () => {
    const d = rescore({ ...b, behaviour: { ...b.behaviour, worstDpd: 10, currentDpd: 10 } }, model, DEFAULT_POLICY, cause)!;
    expect(d.line).toMatchObject({ tier: "D", limitFen: 700_000n, status: "ACTIVE" });
    expect(d.changes[0]!.reason).toBe("RESCORE_TIER_DOWN_LINE_DECREASE");
    const e = rescore({ ...b, behaviour: { ...b.behaviour, worstDpd: 70, currentDpd: 70 } }, model, DEFAULT_POLICY, cause)!;
    expect(e.line).toMatchObject({ tier: "E", status: "FROZEN", frozenBy: RESCORING_ACTOR });
    expect(e.events[0]).toMatchObject({ data: { reason: "RESCORE_TIER_E_FREEZE", status: "FROZEN" } });
    const back = rescore({ ...e.line, applicationScore: 700 }, model, DEFAULT_POLICY, cause)!;
    expect(back.line).toMatchObject({ status: "ACTIVE", frozenBy: null });
    expect(back.changes[0]!.reason).toBe("RESCORE_UNFREEZE");
  });

  it("an operator's freeze is not lifted by rescoring", () => {
    const frozen = { ...b, tier: "E" as const, status: "FROZEN" as const, frozenBy: "ops:li" };
    const u = rescore(frozen, model, DEFAULT_POLICY, cause)!;
    expect(u.line.status).toBe("FROZEN");
  });

  it("no change, no event; a periodic run still records the date", () => {
    const same = { ...b, score: 595 };
    expect(rescore(same, model, DEFAULT_POLICY, cause)).toBeNull();
    const p = rescore(same, model, DEFAULT_POLICY, { ...cause, periodicOn: "2026-03-10" })!;
    expect(p.events).toEqual([]);
    expect(p.line.lastRescoredOn).toBe("2026-03-10");
  });

  it("DueSoon flags only D/E lines with an amount due", () => {
    const d = { eventId: "ds1", dueDate: "2026-03-15", amountDueFen: 12_300n, at };
    expect(flagDueSoon(aLine({ tier: "D" }), d, DEFAULT_POLICY)).toMatchObject({ type: "RiskFlagRaised", data: { flag: "HIGH_RISK_DUE_SOON", tier: "D", dueDate: "2026-03-15", amountDueFen: 12_300n } });
    expect(flagDueSoon(aLine({ tier: "E" }), d, DEFAULT_POLICY)).not.toBeNull();
    expect(flagDueSoon(aLine({ tier: "C" }), d, DEFAULT_POLICY)).toBeNull();
    expect(flagDueSoon(aLine({ tier: "D" }), { ...d, amountDueFen: 0n }, DEFAULT_POLICY)).toBeNull();
    expect(flagDueSoon(aLine({ tier: "D" }), d, DEFAULT_POLICY)!.id).toBe(flagDueSoon(aLine({ tier: "D" }), d, DEFAULT_POLICY)!.id);
  });
});
