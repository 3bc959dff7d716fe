import { addDays } from "@whiteslip/core";
import { describe, expect, it } from "vitest";
import type { AccountState } from "../src/domain/account";
import { applyFact, type NegativeReportNotice, noticeIdFor } from "../src/domain/apply-fact";
import { buildBureauFile } from "../src/domain/bureau-file";
import { bureauView, purgeExpired, type ReportLine, reportingState } from "../src/domain/bureau-view";
import { fileDispute, resolveDispute } from "../src/domain/disputes";
import type { AccountFact } from "../src/domain/facts";
import { parseMetro2File } from "../src/domain/metro2/file";
import { metro2Format } from "../src/domain/metro2/metro2-format";
import { DEFAULT_REPORTING_POLICY as RP, DEFAULT_SCORE_POLICY as SP } from "../src/domain/policy";
import { chargedOff, cured, delivered, opened, overdue } from "./support/facts";
import { FURNISHER, identityFor } from "./support/identities";

/** Every account here has a complete identity (the identity rules have their own tests). */
const people = new Map(["acc-1", "acc-a", "acc-b"].map((id) => [id, identityFor(id)]));

function run(
  facts: AccountFact[],
  start: AccountState | null = null,
  id = "acc-1",
): { s: AccountState; notices: NegativeReportNotice[] } {
  let s = start;
  const notices: NegativeReportNotice[] = [];
  for (const f of facts) {
    const out = applyFact(s, id, f, SP, RP);
    if (out) {
      s = out.state;
      if (out.notice) notices.push(out.notice);
    }
  }
  return { s: s!, notices };
}

const daily = (from: string, start: string, fromDpd: number, toDpd: number, id = "acc-1"): AccountFact[] =>
  Array.from({ length: toDpd - fromDpd + 1 }, (_, i) => overdue(id, addDays(from, i), fromDpd + i, start));

function reported(s: AccountState, asOf: string): ReportLine {
  const v = bureauView(s, asOf, RP);
  if (v.kind !== "report") throw new Error(`expected a report, got ${JSON.stringify(v)}`);
  return v.line;
}

// Opened 2025-11-20; due date 2026-01-01 missed → DPD 1 on 2026-01-02, DPD 30 on 2026-01-31.
const START = "2026-01-01";
const base = () => run([opened("acc-1", "2025-11-20"), ...daily("2026-01-02", START, 1, 40)]);

describe("pre-report notice", () => {
  it("goes out once per delinquency, when the account first reaches 30 DPD", () => {
    const { s, notices } = base();
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({
      noticeId: noticeIdFor("acc-1", START),
      dpd: 30,
      earliestReportDate: "2026-02-07",
      bureau: "METRO2",
    });
    expect(s.delinquencies).toHaveLength(1);
  });

  it("does not go out below 30 DPD", () => {
    const { notices } = run(daily("2026-01-02", START, 1, 29));
    expect(notices).toEqual([]);
  });

  it("goes out again for a new delinquency after a cure", () => {
    const first = base();
    const { notices } = run(
      [cured("acc-1", "2026-02-12", START), ...daily("2026-04-02", "2026-04-01", 1, 30)],
      first.s,
    );
    expect(notices).toHaveLength(1);
    expect(notices[0]!.noticeId).toBe(noticeIdFor("acc-1", "2026-04-01"));
    expect(notices[0]!.noticeId).not.toBe(first.notices[0]!.noticeId);
  });

  it("goes out at charge-off when none was sent for the delinquency", () => {
    const { notices } = run([chargedOff("acc-1", "2026-07-01", START)]);
    expect(notices).toHaveLength(1);
  });
});

describe("bureau view: notice delivered + waiting period", () => {
  it("is current below 30 DPD (status 11, no amount past due)", () => {
    const { s } = run([opened("acc-1", "2025-11-20"), ...daily("2026-01-02", START, 1, 29)]);
    expect(reported(s, "2026-01-30")).toMatchObject({
      status: "11",
      pastDueFen: 0n,
      firstDelinquencyOn: null,
    });
    expect(reportingState(s, "2026-01-30", RP)).toBe("CURRENT");
  });

  it("withholds the account while the notice is not delivered", () => {
    const { s } = base();
    expect(bureauView(s, "2026-02-10", RP)).toEqual({
      kind: "withheld",
      reason: "NOTICE_NOT_DELIVERED",
      reportableFrom: null,
    });
    expect(reportingState(s, "2026-02-10", RP)).toBe("NOTICE_SENT");
  });

  it("withholds it during the waiting period and reports it from delivery + 7 days", () => {
    const { s } = run([delivered(noticeIdFor("acc-1", START), "2026-02-02")], base().s);
    expect(bureauView(s, "2026-02-08", RP)).toEqual({
      kind: "withheld",
      reason: "WAITING_PERIOD",
      reportableFrom: "2026-02-09",
    });
    const line = reported(s, "2026-02-09");
    expect(line).toMatchObject({
      status: "71",
      firstDelinquencyOn: addDays(START, 29), // CRRG: 30 days after the due date
      pastDueFen: 50_000n,
      complianceCode: "",
    });
    // months: Jan 2026 reached 30 DPD (Jan 31) → '1'; opened Nov 2025; before that 'B'.
    expect(line.profile).toBe(`100${"B".repeat(21)}`);
    expect(reportingState(s, "2026-02-09", RP)).toBe("REPORTABLE");
  });

  it("ignores the delivery of an unrelated notification", () => {
    const out = applyFact(base().s, "acc-1", delivered("some-other-fact", "2026-02-02"), SP, RP)!;
    expect(out.changed).toBe(false);
  });

  it("shows the correction after a cure: status 11 (at zero balance too) and the true history", () => {
    const delivered_ = run([delivered(noticeIdFor("acc-1", START), "2026-02-02")], base().s).s;
    const { s } = run([cured("acc-1", "2026-02-20", START)], delivered_);
    const line = reported(s, "2026-03-31");
    expect(line).toMatchObject({ status: "11", pastDueFen: 0n, firstDelinquencyOn: null });
    expect(line.profile.slice(0, 3)).toBe("110"); // Feb (40 DPD), Jan (30 DPD), Dec current
    const paid = { ...s, balanceFen: 0n };
    // CRRG: an open revolving line with a zero balance stays 11 (13 is a paid/closed account), rating blank
    expect(reported(paid, "2026-03-31")).toMatchObject({ status: "11", paymentRating: "", balanceFen: 0n });
  });

  it("reports a hardship deferral as in forbearance (special comment CP) until its due date, and as it is after", () => {
    const delivered_ = run([delivered(noticeIdFor("acc-1", START), "2026-02-02")], base().s).s;
    const deferral: AccountFact = { kind: "deferred", eventId: "df-1", at: new Date("2026-02-20T02:00:00Z"), customerId: "cus-acc-1", businessDate: "2026-02-20", dueDate: "2026-03-12" };
    const { s } = run([deferral, cured("acc-1", "2026-02-20", START)], delivered_);
    expect(s.deferredUntil).toBe("2026-03-12");
    expect(reported(s, "2026-02-28")).toMatchObject({ status: "11", specialComment: "CP" });
    expect(reported(s, "2026-03-12").specialComment).toBe("CP");
    expect(reported(s, "2026-03-31").specialComment).toBe("");
    // the same deferral again changes nothing; a later one extends it
    expect(run([deferral], s).s.deferredUntil).toBe("2026-03-12");
    // in the file, the base segment carries it
    const file = parseMetro2File(buildBureauFile([s], people, "2026-02-28", metro2Format, FURNISHER, RP).content);
    expect(file.bases[0]!.specialComment).toBe("CP");
  });

  it("shows months of a delinquency whose notice was never delivered as no data (D)", () => {
    const { s } = run([cured("acc-1", "2026-02-20", START)], base().s);
    const line = reported(s, "2026-03-31");
    expect(line.status).toBe("11");
    expect(line.profile.slice(0, 3)).toBe("DD0");
  });

  it("reports a charge-off as 97 with L months, the amount and the closing date", () => {
    const d = run([delivered(noticeIdFor("acc-1", START), "2026-02-02")], base().s).s;
    const { s } = run(
      [...daily("2026-02-11", START, 41, 180), chargedOff("acc-1", "2026-07-01", START, 123_456n)],
      d,
    );
    const line = reported(s, "2026-08-31");
    expect(line).toMatchObject({
      status: "97",
      chargedOffFen: 123_456n,
      closedOn: "2026-07-01",
      firstDelinquencyOn: addDays(START, 29), // CRRG: 30 days after the due date
    });
    expect(line.profile.slice(0, 8)).toBe("L6532110"); // Jul charged off, Jun 180, May 150, Apr 119, Mar 89, Feb 58, Jan 30, Dec current
  });

  it("maps deeper delinquency to deeper status codes", () => {
    const d = run([delivered(noticeIdFor("acc-1", START), "2026-02-02")], base().s).s;
    const { s } = run(daily("2026-02-11", START, 41, 95), d);
    expect(reported(s, "2026-04-06").status).toBe("80");
  });
});

describe("disputes", () => {
  const ready = () => run([delivered(noticeIdFor("acc-1", START), "2026-02-02")], base().s).s;
  const at = new Date("2026-02-15T10:00:00+08:00");

  it("carries XB while open", () => {
    const { state } = fileDispute(ready(), {
      idempotencyKey: "k1",
      reason: "I paid on time",
      at,
      today: "2026-02-15",
    });
    expect(reported(state, "2026-02-28").complianceCode).toBe("XB");
    expect(reported(state, "2026-02-14").complianceCode).toBe("");
  });

  it("returns the same dispute for the same key and refuses a second open dispute", () => {
    const a = fileDispute(ready(), { idempotencyKey: "k1", reason: "r", at, today: "2026-02-15" });
    expect(fileDispute(a.state, { idempotencyKey: "k1", reason: "r", at, today: "2026-02-15" }).changed).toBe(
      false,
    );
    expect(() =>
      fileDispute(a.state, { idempotencyKey: "k2", reason: "r", at, today: "2026-02-15" }),
    ).toThrowError(expect.objectContaining({ kind: "failed_precondition", reason: "DISPUTE_ALREADY_OPEN" }));
  });

  it("verified: XC, the record stands", () => {
    const a = fileDispute(ready(), { idempotencyKey: "k1", reason: "r", at, today: "2026-02-15" });
    const r = resolveDispute(a.state, {
      disputeId: a.dispute.disputeId,
      corrected: false,
      resolution: "ok",
      at,
      today: "2026-02-20",
    });
    expect(reported(r.state, "2026-02-28")).toMatchObject({ complianceCode: "XC", status: "71" });
  });

  it("corrected: the negative record is removed (the correction), XH for one cycle", () => {
    const a = fileDispute(ready(), { idempotencyKey: "k1", reason: "r", at, today: "2026-02-15" });
    const r = resolveDispute(a.state, {
      disputeId: a.dispute.disputeId,
      corrected: true,
      resolution: "fixed",
      at,
      today: "2026-02-20",
    });
    const line = reported(r.state, "2026-02-28");
    expect(line).toMatchObject({
      complianceCode: "XH",
      status: "11",
      firstDelinquencyOn: null,
      pastDueFen: 0n,
    });
    expect(line.profile.startsWith("0")).toBe(true);
    expect(reported(r.state, "2026-03-31").complianceCode).toBe("");
    expect(() =>
      resolveDispute(r.state, {
        disputeId: a.dispute.disputeId,
        corrected: false,
        resolution: "",
        at,
        today: "2026-02-21",
      }),
    ).toThrowError(expect.objectContaining({ reason: "DISPUTE_ALREADY_RESOLVED" }));
    expect(() =>
      resolveDispute(r.state, {
        disputeId: "nope",
        corrected: true,
        resolution: "",
        at,
        today: "2026-02-21",
      }),
    ).toThrowError(expect.objectContaining({ kind: "not_found" }));
  });
});

describe("purge", () => {
  it("removes negative information 5 years after the delinquency ended, not before", () => {
    const d = run([delivered(noticeIdFor("acc-1", START), "2026-02-02")], base().s).s;
    const { s } = run([cured("acc-1", "2026-02-20", START)], d);
    expect(purgeExpired(s, "2031-02-19", RP)).toBe(s);
    const p = purgeExpired(s, "2031-02-20", RP);
    expect(p.delinquencies).toEqual([]);
    expect(p.months).toEqual({});
  });
});

describe("bureau file", () => {
  it("orders accounts by id, regardless of input order, and is byte-identical when rebuilt", () => {
    const a = run([opened("acc-b", "2025-01-01")], null, "acc-b").s;
    const b = run([opened("acc-a", "2025-01-01")], null, "acc-a").s;
    const withheld = base().s;
    const one = buildBureauFile([a, withheld, b], people, "2026-02-10", metro2Format, FURNISHER, RP);
    const two = buildBureauFile([b, a, withheld], people, "2026-02-10", metro2Format, FURNISHER, RP);
    expect(two.content).toEqual(one.content);
    expect(two.sha256).toBe(one.sha256);
    expect(one).toMatchObject({ recordCount: 2, withheldCount: 1 });
    expect(parseMetro2File(one.content).bases.map((x) => x.consumerAccountNumber)).toEqual([
      "acc-a",
      "acc-b",
    ]);
  });

  it("leaves out accounts opened after the as-of date", () => {
    const a = run([opened("acc-a", "2026-03-01")], null, "acc-a").s;
    expect(bureauView(a, "2026-02-28", RP)).toEqual({ kind: "absent" });
  });
});
