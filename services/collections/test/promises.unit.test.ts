import { describe, expect, it } from "vitest";
import { breakExpired, matchPayment } from "../src/domain/promises";
import type { PromiseToPay } from "../src/domain/types";

const p = (id: string, amount: bigint, date: string, createdMs: number, paid = 0n): PromiseToPay => ({
  promiseId: id,
  amountFen: amount,
  promisedDate: date,
  paidFen: paid,
  status: "PENDING",
  createdAt: new Date(createdMs),
  agentId: "ag",
});

describe("promise matching, first in first out", () => {
  it("fills the oldest promise first, then the next", () => {
    const ps = [p("new", 300n, "2026-03-20", 2000), p("old", 500n, "2026-03-15", 1000)];
    const m = matchPayment(ps, 600n, "2026-03-10");
    const byId = Object.fromEntries(m.promises.map((x) => [x.promiseId, x]));
    expect(byId.old).toMatchObject({ paidFen: 500n, status: "KEPT" });
    expect(byId.new).toMatchObject({ paidFen: 100n, status: "PENDING" });
    expect(m.kept.map((x) => x.promiseId)).toEqual(["old"]);
    expect(m.unmatchedFen).toBe(0n);
  });
  it("keeps a promise paid exactly on its date, across several payments", () => {
    const a = matchPayment([p("x", 500n, "2026-03-15", 1)], 200n, "2026-03-12");
    expect(a.promises[0]).toMatchObject({ paidFen: 200n, status: "PENDING" });
    const b = matchPayment(a.promises, 300n, "2026-03-15");
    expect(b.promises[0]).toMatchObject({ paidFen: 500n, status: "KEPT" });
  });
  it("does not count a payment after the date toward the promise", () => {
    const m = matchPayment([p("x", 500n, "2026-03-15", 1)], 500n, "2026-03-16");
    expect(m.promises[0]?.status).toBe("PENDING");
    expect(m.unmatchedFen).toBe(500n);
  });
  it("leaves the surplus unmatched", () => {
    expect(matchPayment([p("x", 500n, "2026-03-15", 1)], 800n, "2026-03-15").unmatchedFen).toBe(300n);
  });
});

describe("breaking promises", () => {
  it("a promise dated D is pending on D and broken from D+1", () => {
    const ps = [p("x", 500n, "2026-03-15", 1)];
    expect(breakExpired(ps, "2026-03-15").broken).toHaveLength(0);
    const r = breakExpired(ps, "2026-03-16");
    expect(r.broken.map((x) => x.promiseId)).toEqual(["x"]);
    expect(r.promises[0]?.status).toBe("BROKEN");
  });
  it("does not break kept promises again", () => {
    expect(
      breakExpired([{ ...p("x", 1n, "2026-03-01", 1), status: "KEPT" }], "2026-04-01").broken,
    ).toHaveLength(0);
  });
});
