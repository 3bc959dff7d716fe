import { describe, expect, it } from "vitest";
import { DomainError } from "@whiteslip/core";
import {
  adjustLine,
  availableFen,
  capturePurchase,
  declineReason,
  placeHold,
  rawAvailableFen,
  recordPayment,
  removeHold,
  validateAuthorizationRequest,
} from "../src/domain/credit-line";
import { DEFAULT_POLICY } from "../src/domain/policy";
import { aLine } from "./support/fixtures";

const at = new Date("2026-03-10T00:00:00Z");
const hold = (amountFen: bigint) => ({ amountFen, expiresAt: at, orderId: "o", installmentMonths: 0 });
const req = { amountFen: 10_000n, merchantScenario: "PLATFORM_RETAIL" as const, installmentMonths: 0 };

describe("available credit", () => {
  it("is limit − posted balance − open holds, shown never below 0", () => {
    const l = placeHold({ ...aLine(), postedBalanceFen: 300_000n }, "a1", hold(200_000n));
    expect(availableFen(l)).toBe(500_000n);
    const over = { ...l, limitFen: 400_000n };
    expect(rawAvailableFen(over)).toBe(-100_000n);
    expect(availableFen(over)).toBe(0n);
  });

  it("capture moves a hold into the posted balance; payment lowers it, not below 0", () => {
    const l = placeHold(aLine(), "a1", hold(200_000n));
    const c = capturePurchase(l, "a1", 200_000n);
    expect(c).toMatchObject({ openHoldsFen: 0n, postedBalanceFen: 200_000n, holds: {} });
    expect(capturePurchase(c, "a1", 200_000n).postedBalanceFen).toBe(400_000n); // hold already gone: balance still posts
    const p = recordPayment(c, 500_000n, true);
    expect(p.postedBalanceFen).toBe(0n);
    expect(p.behaviour.onTimePayments).toBe(1);
    expect(recordPayment(c, 1n, false).behaviour.latePayments).toBe(1);
    expect(removeHold(c, "nope")).toBe(c);
  });
});

describe("authorization rules", () => {
  it("approves within available credit on an active, unrestricted line for platform scenarios", () => {
    for (const s of ["PLATFORM_RETAIL", "PLATFORM_SERVICES", "MARKETPLACE"] as const) {
      expect(declineReason(aLine(), { ...req, merchantScenario: s }, DEFAULT_POLICY)).toBeNull();
    }
    expect(declineReason(aLine(), { ...req, amountFen: 1_000_000n }, DEFAULT_POLICY)).toBeNull();
  });

  it.each([
    ["closed", { status: "CLOSED" as const }, req, "ACCOUNT_CLOSED"],
    ["frozen", { status: "FROZEN" as const }, req, "ACCOUNT_FROZEN"],
    ["restricted", { restriction: { features: ["NEW_PURCHASES" as const], reason: "OVERDUE", since: at, daysPastDue: 1 } }, req, "ACCOUNT_RESTRICTED"],
    ["installments restricted", { restriction: { features: ["INSTALLMENTS" as const], reason: "X", since: at, daysPastDue: 0 } }, { ...req, installmentMonths: 3 }, "INSTALLMENTS_RESTRICTED"],
    ["cash", {}, { ...req, merchantScenario: "CASH" as const }, "MERCHANT_SCENARIO_NOT_ALLOWED"],
    ["external", {}, { ...req, merchantScenario: "EXTERNAL" as const }, "MERCHANT_SCENARIO_NOT_ALLOWED"],
    ["over available", {}, { ...req, amountFen: 1_000_001n }, "INSUFFICIENT_AVAILABLE_CREDIT"],
  ])("declines when %s", (_n, over, r, reason) => {
    expect(declineReason(aLine(over), r, DEFAULT_POLICY)).toBe(reason);
  });

  it("validates request fields", () => {
    try {
      validateAuthorizationRequest(
        { creditLineId: "", amountFen: 0n, merchantScenario: "UNSPECIFIED", merchantId: "", orderId: "", installmentMonths: 5, idempotencyKey: "" },
        DEFAULT_POLICY,
      );
      expect.unreachable();
    } catch (e) {
      expect((e as DomainError).violations.map((v) => v.field)).toEqual(["credit_line_id", "amount_fen", "merchant_scenario", "order_id", "idempotency_key", "installment_months"]);
    }
  });
});

describe("manual adjustment", () => {
  const base = { newLimitFen: 0n, freeze: false, setStatus: false, reason: "income verified", actor: "ops:li", idempotencyKey: "k1", at };

  it("changes the limit with an audit entry and a CreditLineChanged event", () => {
    const u = adjustLine(aLine(), { ...base, newLimitFen: 2_000_000n }, DEFAULT_POLICY)!;
    expect(u.line.limitFen).toBe(2_000_000n);
    expect(u.changes).toEqual([expect.objectContaining({ previousLimitFen: 1_000_000n, limitFen: 2_000_000n, reason: "income verified", actor: "ops:li" })]);
    expect(u.events[0]).toMatchObject({ type: "CreditLineChanged", data: { previousLimitFen: 1_000_000n, limitFen: 2_000_000n, status: "ACTIVE" } });
  });

  it("freezes and unfreezes", () => {
    const f = adjustLine(aLine(), { ...base, setStatus: true, freeze: true }, DEFAULT_POLICY)!;
    expect(f.line).toMatchObject({ status: "FROZEN", frozenBy: "ops:li" });
    const u = adjustLine(f.line, { ...base, setStatus: true, freeze: false }, DEFAULT_POLICY)!;
    expect(u.line).toMatchObject({ status: "ACTIVE", frozenBy: null });
    expect(adjustLine(f.line, { ...base, setStatus: true, freeze: true }, DEFAULT_POLICY)).toBeNull();
  });

  it("requires a reason and keeps the limit within bounds", () => {
    expect(() => adjustLine(aLine(), { ...base, reason: " ", newLimitFen: 100n }, DEFAULT_POLICY)).toThrow(/reason: is required/);
    expect(() => adjustLine(aLine(), { ...base, newLimitFen: 100n }, DEFAULT_POLICY)).toThrow(/new_limit_fen/);
    expect(() => adjustLine(aLine(), { ...base, newLimitFen: 6_000_000n }, DEFAULT_POLICY)).toThrow(/new_limit_fen/);
    expect(() => adjustLine(aLine(), base, DEFAULT_POLICY)).toThrow(/nothing to change/);
  });

  it("refuses an increase while line increases are restricted, allows a decrease", () => {
    const r = aLine({ restriction: { features: ["LINE_INCREASES"], reason: "OVERDUE", since: at, daysPastDue: 3 } });
    expect(() => adjustLine(r, { ...base, newLimitFen: 2_000_000n }, DEFAULT_POLICY)).toThrow(DomainError);
    expect(adjustLine(r, { ...base, newLimitFen: 500_000n }, DEFAULT_POLICY)!.line.limitFen).toBe(500_000n);
    expect(() => adjustLine(aLine({ status: "CLOSED" }), { ...base, newLimitFen: 500_000n }, DEFAULT_POLICY)).toThrow(/closed/);
  });
});
