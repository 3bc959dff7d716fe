import { describe, expect, it } from "vitest";
import type { Fact } from "../src/domain/model";
import { endOfDay, obsolescence, validityOf } from "../src/domain/validity";

const at = (local: string) => new Date(`${local}+08:00`);
const fact = (f: Partial<Fact>): Fact => ({
  eventId: "e",
  factId: "e",
  factType: "t",
  trigger: "DUE_SOON",
  customerId: "c",
  accountId: "a",
  occurredAt: at("2027-02-01T00:05"),
  vars: {},
  ...f,
});

describe("validity windows", () => {
  it("a reminder is valid until the end of its due date in Asia/Shanghai", () => {
    const v = validityOf(fact({ vars: { dueDate: "2027-02-03" } }), "Asia/Shanghai");
    expect(v).toEqual({ validUntil: at("2027-02-04T00:00"), supersedable: false });
    expect(v.validUntil!.toISOString()).toBe("2027-02-03T16:00:00.000Z");
  });

  it("an overdue notice is valid until the end of the day after its as-of date, and is supersedable", () => {
    const v = validityOf(fact({ trigger: "OVERDUE", vars: { asOf: "2027-02-28" } }), "Asia/Shanghai");
    expect(v).toEqual({ validUntil: at("2027-03-02T00:00"), supersedable: true });
    // without an as-of date, the fact's own business day counts
    const w = validityOf(fact({ trigger: "OVERDUE", vars: {}, occurredAt: at("2027-02-28T00:05") }), "Asia/Shanghai");
    expect(w.validUntil).toEqual(at("2027-03-02T00:00"));
  });

  it("confirmations and legal notices have no window", () => {
    for (const trigger of ["PAYMENT_RECEIVED", "PAYMENT_DEFERRED", "CREDIT_LINE_CHANGED", "NEGATIVE_REPORT_PENDING", "LEGAL_NOTICE_REQUESTED"] as const)
      expect(validityOf(fact({ trigger }), "Asia/Shanghai"), trigger).toEqual({ supersedable: false });
  });

  it("end of day follows the zone", () => {
    expect(endOfDay("2027-03-10", "Asia/Shanghai").toISOString()).toBe("2027-03-10T16:00:00.000Z");
    expect(endOfDay("2027-03-10", "UTC").toISOString()).toBe("2027-03-11T00:00:00.000Z");
  });
});

describe("obsolescence", () => {
  const notice = {
    channel: "SMS" as const,
    category: "COLLECTION" as const,
    supersedable: true,
    factAt: at("2027-02-01T00:05"),
    validUntil: at("2027-02-03T00:00"),
  };

  it("expires exactly at the end of the window, not a millisecond before", () => {
    expect(obsolescence(notice, new Date(at("2027-02-03T00:00").getTime() - 1), null)).toBeNull();
    expect(obsolescence(notice, at("2027-02-03T00:00"), null)).toEqual({
      status: "EXPIRED",
      code: "VALIDITY_ENDED",
      reason: "validity window ended 2027-02-02T16:00:00.000Z",
    });
  });

  it("a payment or a cure after the notice's fact supersedes it; one at or before it does not", () => {
    const now = at("2027-02-01T09:00");
    expect(obsolescence(notice, now, { lastPaymentAt: at("2027-02-01T00:05") })).toBeNull();
    expect(obsolescence(notice, now, { lastPaymentAt: at("2027-01-31T23:00") })).toBeNull();
    expect(obsolescence(notice, now, { lastPaymentAt: at("2027-02-01T08:00") })).toMatchObject({ status: "SUPERSEDED", code: "SUPERSEDED_BY_PAYMENT" });
    expect(obsolescence(notice, now, { curedAt: at("2027-02-01T08:00") })?.reason).toMatch(/^superseded: account cured/);
  });

  it("a newer notice supersedes only on its own channel", () => {
    const now = at("2027-02-01T09:00");
    const facts = { latestNoticeAt: { EMAIL: at("2027-02-02T00:05") } };
    expect(obsolescence(notice, now, facts)).toBeNull();
    expect(obsolescence({ ...notice, channel: "EMAIL" }, now, facts)).toMatchObject({ status: "SUPERSEDED" });
    // its own notice is not newer than itself
    expect(obsolescence(notice, now, { latestNoticeAt: { SMS: notice.factAt } })).toBeNull();
  });

  it("supersession is reported before expiry; a reminder is not superseded by a payment", () => {
    const late = at("2027-02-05T09:00");
    expect(obsolescence(notice, late, { lastPaymentAt: at("2027-02-01T08:00") })?.status).toBe("SUPERSEDED");
    const reminder = { ...notice, category: "REMINDER" as const, supersedable: false };
    expect(obsolescence(reminder, at("2027-02-01T09:00"), { lastPaymentAt: at("2027-02-01T08:00") })).toBeNull();
  });

  it("a legal notice is never obsolete", () => {
    const legal = { ...notice, category: "LEGAL" as const };
    expect(obsolescence(legal, at("2027-06-01T09:00"), { lastPaymentAt: at("2027-02-01T08:00") })).toBeNull();
  });
});
