import { Topics } from "@whiteslip/contracts";
import { describe, expect, it } from "vitest";
import { ContractViolationError, decodeEvent, encodeEvent } from "../src/envelope";

const time = new Date("2027-03-02T16:00:00Z");
const overdue = { accountId: "acc-1", customerId: "cus-1", businessDate: "2027-03-03", daysPastDue: 3, overdueFen: 12_000n };

describe("encodeEvent", () => {
  it("publishes a fact that keeps its topic's contract, and it decodes to the same payload", () => {
    const out = encodeEvent(Topics.Overdue, { id: "ev-1", key: "acc-1", time, data: overdue });
    const back = decodeEvent(Topics.Overdue, { topic: out.topic, partition: 0, offset: "0", key: Buffer.from(out.key), value: Buffer.from(out.value), headers: out.headers });
    expect(back.data.daysPastDue).toBe(3);
    expect(back.data.overdueFen).toBe(12_000n);
  });

  it("refuses, with every broken field named, an Overdue its consumers would dead-letter", () => {
    const bad = { ...overdue, businessDate: "2027-02-31", daysPastDue: 0, feesFen: -1n };
    let err: unknown;
    try {
      encodeEvent(Topics.Overdue, { id: "ev-2", key: "acc-1", time, data: bad });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ContractViolationError);
    expect((err as ContractViolationError).violations.map((v) => v.field)).toEqual(["business_date", "days_past_due", "fees_fen"]);
    expect((err as Error).message).toContain("ev-2");
  });

  it("checks only topics that have content rules", () => {
    expect(() => encodeEvent(Topics.AccountOpened, { id: "ev-3", key: "acc-1", time, data: {} })).not.toThrow();
  });
});
