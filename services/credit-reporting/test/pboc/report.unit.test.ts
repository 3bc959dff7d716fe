/**
 * The PBOC personal credit report (个人征信, data-collection format 1.x; source in src/domain/pboc/pboc-format.ts):
 * every record of the book passes the data items' value rules (../support/pboc-rules.ts), the account base
 * segment's monthly performance is what the reporting state says (account status, 五级分类, amount due and
 * paid, current overdue periods and amount, the 24-month repayment status), the identity segment carries the
 * resident ID, and 征信业管理条例 第十五条 is enforced as Metro 2's notice rule: the same report lines decide.
 */
import { describe, expect, it } from "vitest";
import { buildBureauFile } from "../../src/domain/bureau-file";
import { metro2Format } from "../../src/domain/metro2/metro2-format";
import { accountState, fiveTier, overduePeriods, pbocFormat, repaymentStatus24 } from "../../src/domain/pboc/pboc-format";
import { DEFAULT_REPORTING_POLICY as RP } from "../../src/domain/policy";
import { book } from "../support/book";
import { FURNISHER, identityFor } from "../support/identities";
import { checkRecord, checkReport, readReport } from "../support/pboc-rules";

const ASOF = "2026-02-28";
const states = book();
const people = new Map(states.map((s) => [s.accountId, identityFor(s.accountId, { name: "王小明" })]));
const file = buildBureauFile(states, people, ASOF, pbocFormat, FURNISHER, RP);
const report = readReport(file.content);
const rec = (id: string) => {
  const r = report.records.find((x) => x.base.accountNumber === id);
  if (!r) throw new Error(`no record for ${id}`);
  return r;
};

describe("PBOC personal credit report", () => {
  it("every record follows the data items' rules; header and trailer count the records", () => {
    expect(checkReport(file.content, "20260228")).toEqual([]);
    expect(report.records).toHaveLength(7);
    expect(report.header.institutionCode).toBe(FURNISHER.pbocInstitutionCode);
    expect(report.trailer.records).toBe("0000000007");
  });

  it("征信业管理条例 第十五条: the account whose notice was never delivered is withheld, as from Metro 2", () => {
    expect(report.records.some((r) => r.base.accountNumber === "acc-withheld")).toBe(false);
    const m2 = buildBureauFile(states, new Map(states.map((s) => [s.accountId, identityFor(s.accountId)])), ASOF, metro2Format, FURNISHER, RP);
    expect(file.withheldCount).toBe(1);
    expect(m2.withheldCount).toBe(1);
  });

  it("identity segment: name as registered (Chinese characters), resident ID, birth date and sex from it, mobile, address", () => {
    const id = rec("acc-late").identity;
    expect(id.name).toBe("王小明");
    expect(id.idType).toBe("0");
    expect(id.idNumber).toBe(people.get("acc-late")!.idNumber);
    expect(id.birthDate).toBe("19880612");
    expect(id.mobile).toBe("13700137052");
    expect(id.address).toBe("88 Jianguo Road Unit 1203 Beijing");
    expect(id.postalCode).toBe("100022");
  });

  it("monthly performance of a delinquent account: 逾期, 关注, 2 periods, the overdue amount in the 31–60 band", () => {
    const b = rec("acc-late").base;
    expect(b).toMatchObject({
      businessType: "1",
      businessSubtype: "91",
      currency: "CNY",
      creditLimit: "0000005000",
      balance: "0000000800",
      accountState: "2",
      fiveTier: "2",
      currentOverduePeriods: "02", // 58 days past due
      currentOverdueAmount: "0000000500",
      overdue31to60: "0000000500",
      amountDue: "0000000500",
      amountPaid: "0000000000",
    });
    // Nov opened, Dec current, Jan 30+ DPD (2 periods), Feb: 2 periods now; before Nov: not opened
    expect(b.repaymentStatus24).toBe(`${"/".repeat(20)}NN22`);
  });

  it("a charge-off is 呆账 / 损失 and a current account 正常; a zero balance shows *", () => {
    expect(rec("acc-off").base).toMatchObject({ accountState: "4", fiveTier: "5" });
    expect(rec("acc-current").base).toMatchObject({ accountState: "1", fiveTier: "1", currentOverduePeriods: "00" });
    expect(rec("acc-zero").base.repaymentStatus24).toBe(`${"/".repeat(20)}N***`);
  });

  it("the code tables by days past due", () => {
    expect([0, 1, 30, 31, 61, 181].map(overduePeriods)).toEqual([0, 1, 1, 2, 3, 7]);
    expect([0, 45, 91, 200, 400].map((dpd) => fiveTier({ status: dpd ? "71" : "11", dpd }))).toEqual(["1", "2", "3", "4", "5"]);
    expect(fiveTier({ status: "97", dpd: 181 })).toBe("5");
    expect([accountState({ status: "11" }), accountState({ status: "78" }), accountState({ status: "97" })]).toEqual(["1", "2", "4"]);
  });

  it("the checker fails each rule it states (so a pass means something)", () => {
    const r = rec("acc-late");
    const broken = (over: Partial<typeof r>) => checkRecord({ ...r, ...over }, "20260228");
    expect(broken({})).toEqual([]);
    expect(broken({ declaredLength: r.declaredLength + 1 })[0]).toMatch(/信息记录长度/);
    expect(broken({ base: { ...r.base, fiveTier: "7" } })).toContain("五级分类状态: must be 1–5");
    expect(broken({ base: { ...r.base, currentOverduePeriods: "00" } })).toContain("当前逾期期数: is 0 but this month is overdue");
    expect(broken({ base: { ...r.base, repaymentStatus24: "N".repeat(23) + "X" } })[0]).toMatch(/24个月/);
    expect(broken({ identity: { ...r.identity, birthDate: "19880613" } })).toContain("出生日期: must agree with the identity number");
    expect(broken({ identity: { ...r.identity, idNumber: "110105198806120111" } })[0]).toMatch(/证件号码/);
    expect(broken({ identity: { ...r.identity, name: "" } })).toContain("姓名: is required");
  });

  it("refuses an account without a resident ID, and a file without the institution code", () => {
    expect(pbocFormat.refuses(identityFor("x", { idType: "US_SSN", idNumber: "123456789" }))).toBe("NO_RESIDENT_ID");
    expect(pbocFormat.refuses(undefined)).toBe("NO_IDENTITY");
    expect(pbocFormat.refuses(identityFor("x", { address: null }))).toBeNull(); // the address is optional here
    expect(pbocFormat.furnisherProblem({ ...FURNISHER, pbocInstitutionCode: "" })).toMatch(/PBOC_INSTITUTION_CODE/);
  });

  it("tells the same history as the Metro 2 profile", () => {
    const line = { ...repaymentLine(), profile: `1E0${"B".repeat(21)}`, status: "71" as const, dpd: 40 };
    expect(repaymentStatus24(line)).toBe(`${"/".repeat(20)}N*22`);
  });
});

function repaymentLine() {
  return {
    accountId: "a",
    customerId: "c",
    openedOn: "2025-11-20",
    creditLimitFen: 0n,
    highestBalanceFen: 0n,
    balanceFen: 1n,
    pastDueFen: 0n,
    dpd: 0,
    actualPaymentFen: 0n,
    status: "11" as const,
    paymentRating: "",
    profile: "",
    complianceCode: "" as const,
    specialComment: "" as const,
    firstDelinquencyOn: null,
    lastPaymentOn: null,
    closedOn: null,
    chargedOffFen: 0n,
    asOf: "2026-02-28",
  };
}
