/**
 * Corrections, in both formats, from the same reporting state (one test per rule and format):
 * - cure: the account is reported current again, with the true history (Metro 2 status 11 and the profile's
 *   delinquent month; PBOC 正常, no overdue periods, the overdue month kept in the 24-month string);
 * - dispute: Metro 2 compliance condition XB while open (XH after a correction); PBOC 异议标注 in a special
 *   transaction segment while open, the correction note after;
 * - deletion after 5 years: the delinquency's negative information is gone from both files.
 */
import { addMonths } from "@whiteslip/core";
import { describe, expect, it } from "vitest";
import type { AccountState } from "../src/domain/account";
import { buildBureauFile } from "../src/domain/bureau-file";
import { purgeExpired } from "../src/domain/bureau-view";
import { fileDispute, resolveDispute } from "../src/domain/disputes";
import { metro2Format } from "../src/domain/metro2/metro2-format";
import { pbocFormat } from "../src/domain/pboc/pboc-format";
import { DEFAULT_REPORTING_POLICY as RP } from "../src/domain/policy";
import { book } from "./support/book";
import { checkFile, field, rawBases } from "./support/crrg";
import { FURNISHER, identityFor } from "./support/identities";
import { checkReport, readReport } from "./support/pboc-rules";

const one = (id: string) => book().find((s) => s.accountId === id)!;
const people = (s: AccountState) => new Map([[s.accountId, identityFor(s.accountId)]]);
const metro2 = (s: AccountState, asOf: string) => {
  const bytes = buildBureauFile([s], people(s), asOf, metro2Format, FURNISHER, RP).content;
  expect(checkFile(bytes)).toEqual([]);
  return rawBases(bytes)[0]!;
};
const pboc = (s: AccountState, asOf: string) => {
  const bytes = buildBureauFile([s], people(s), asOf, pbocFormat, FURNISHER, RP).content;
  expect(checkReport(bytes, asOf.replaceAll("-", ""))).toEqual([]);
  return readReport(bytes).records[0]!;
};

describe("cure", () => {
  const s = one("acc-cured"); // 44 DPD cured on 2026-02-15

  it("Metro 2: status 11, nothing past due, no date of first delinquency; January stays 1 in the profile", () => {
    const b = metro2(s, "2026-02-28");
    expect(field(b, "accountStatus")).toBe("11");
    expect(field(b, "amountPastDue")).toBe("000000000");
    expect(field(b, "dateFirstDelinquency")).toBe("00000000");
    expect(field(b, "paymentHistoryProfile").slice(0, 1)).toBe("1");
  });

  it("PBOC: 正常, 0 periods, nothing overdue; January stays 2 in the 24-month string and this month is N", () => {
    const r = pboc(s, "2026-02-28");
    expect(r.base).toMatchObject({ accountState: "1", fiveTier: "1", currentOverduePeriods: "00", currentOverdueAmount: "0000000000" });
    expect(r.base.repaymentStatus24!.slice(-2)).toBe("2N");
  });
});

describe("dispute", () => {
  const open = one("acc-dispute"); // filed 2026-02-20, still open
  const corrected = resolveDispute(open, {
    disputeId: open.disputes[0]!.disputeId,
    corrected: true,
    resolution: "payment misapplied",
    at: new Date("2026-02-25T02:00:00Z"),
    today: "2026-02-25",
  }).state;

  it("Metro 2: XB while open; after a correction XH and the disputed months no longer negative", () => {
    expect(field(metro2(open, "2026-02-28"), "complianceCondition")).toBe("XB");
    const after = metro2(corrected, "2026-02-28");
    expect(field(after, "complianceCondition")).toBe("XH");
    expect(field(after, "accountStatus")).toBe("11");
    expect(field(after, "paymentHistoryProfile").slice(0, 1)).toBe("0");
  });

  it("PBOC: 异议标注 while open; after a correction the correction note and no overdue month left", () => {
    const r = pboc(open, "2026-02-28");
    expect(r.special).toMatchObject({ kind: "G", specialType: "9", occurredOn: "20260228" });
    expect(r.special!.detail).toContain("异议标注");
    expect(r.special!.detail).toContain("核查中");
    const after = pboc(corrected, "2026-02-28");
    expect(after.special!.detail).toContain("已更正");
    expect(after.base.repaymentStatus24).not.toMatch(/[1-7]/);
    expect(after.base.accountState).toBe("1");
  });

  it("a second dispute is refused while one is open (both formats report the one)", () => {
    expect(() => fileDispute(open, { idempotencyKey: "k2", reason: "again", at: new Date(), today: "2026-02-21" })).toThrow(/already has open dispute/);
  });
});

describe("deletion after 5 years", () => {
  const s = one("acc-cured"); // the delinquency ended 2026-02-15
  const purgedOn = addMonths("2026-02-15", 12 * RP.purgeAfterYears);

  it("Metro 2: the day before, the delinquency is still in the history; from the 5th anniversary it is gone", () => {
    // within 24 months of the delinquency nothing has aged out of the profile yet, so the rule is seen on the state
    expect(purgeExpired(s, "2031-02-14", RP)).toBe(s);
    const gone = purgeExpired(s, purgedOn, RP);
    expect(gone.delinquencies).toEqual([]);
    expect(Object.keys(gone.months)).toEqual([]);
    // reported as of a date in early 2026 from the purged state: no negative month, no DOFD
    const b = metro2(gone, "2026-02-28");
    expect(field(b, "paymentHistoryProfile")).not.toMatch(/[1-6L]/);
    expect(field(b, "dateFirstDelinquency")).toBe("00000000");
  });

  it("PBOC: from the 5th anniversary no overdue month and no cumulative overdue count remain", () => {
    const before = pboc(s, "2026-02-28");
    expect(Number(before.base.overdueMonths)).toBeGreaterThan(0);
    const after = pboc(purgeExpired(s, purgedOn, RP), "2026-02-28");
    expect(after.base.repaymentStatus24).not.toMatch(/[1-7]/);
    expect(after.base.overdueMonths).toBe("000");
    expect(after.base.deepestOverduePeriods).toBe("00");
  });
});
