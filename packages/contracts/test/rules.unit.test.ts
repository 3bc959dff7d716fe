import { create } from "@bufbuild/protobuf";
import { DomainError } from "@whiteslip/core";
import { describe, expect, it } from "vitest";
import { billing, checkOverdue, overdueViolations } from "../src/index";

const good = () =>
  create(billing.OverdueSchema, {
    accountId: "acc-1",
    customerId: "cus-1",
    businessDate: "2027-03-10",
    daysPastDue: 17,
    oldestDueDate: "2027-02-20",
    delinquencyStartDate: "2027-02-21",
    overdueFen: 300_00n,
    totalBalanceFen: 500_00n,
  });

describe("the Overdue contract's rules", () => {
  it("an Overdue as billing sends it breaks none; empty optional dates are allowed", () => {
    expect(overdueViolations(good())).toEqual([]);
    expect(overdueViolations({ ...good(), oldestDueDate: "", delinquencyStartDate: "" })).toEqual([]);
  });

  it("an impossible business date and a negative DPD are each named (the fault suite's poison)", () => {
    const v = overdueViolations({ ...good(), businessDate: "2027-02-31", daysPastDue: -7 });
    expect(v.map((x) => x.field)).toEqual(["business_date", "days_past_due"]);
    expect(v[0]!.description).toContain('"2027-02-31"');
  });

  it.each([
    [{ accountId: "" }, "account_id"],
    [{ customerId: "" }, "customer_id"],
    [{ businessDate: "" }, "business_date"],
    [{ daysPastDue: 0 }, "days_past_due"],
    [{ oldestDueDate: "2027-13-01" }, "oldest_due_date"],
    [{ delinquencyStartDate: "21-02-2027" }, "delinquency_start_date"],
    [{ overdueFen: -1n }, "overdue_fen"],
    [{ totalBalanceFen: -1n }, "total_balance_fen"],
  ] as const)("%o breaks %s", (change, field) => {
    expect(overdueViolations({ ...good(), ...change }).map((x) => x.field)).toEqual([field]);
  });

  it("checkOverdue throws invalid_argument (the bus dead-letters it at once as permanent)", () => {
    expect(() => checkOverdue(good())).not.toThrow();
    let err: unknown;
    try {
      checkOverdue({ ...good(), daysPastDue: -7 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).kind).toBe("invalid_argument");
  });
});
