/**
 * Metro 2 base segment, checked against the CRRG's rules by the independent checker in ../support/crrg.ts
 * (CRRG field definitions as moov-io/metro2 states them): required fields and valid values field by field,
 * the consumer's identity (name, no-SSN rule with the date of birth, address), account status and payment
 * rating, the 24-month payment history profile, date of first delinquency, compliance condition and special
 * comment codes, and the zero-balance rule.
 */
import { describe, expect, it } from "vitest";
import { buildBureauFile } from "../../src/domain/bureau-file";
import { bureauView } from "../../src/domain/bureau-view";
import { baseFor, consumerFields, metro2Format, metro2Telephone, splitName } from "../../src/domain/metro2/metro2-format";
import { writeBase } from "../../src/domain/metro2/records";
import { DEFAULT_REPORTING_POLICY as RP } from "../../src/domain/policy";
import { book } from "../support/book";
import { checkBase, field, rawBases } from "../support/crrg";
import { FURNISHER, identityFor } from "../support/identities";

const ASOF = "2026-02-28";
const states = book();
const people = new Map(states.map((s) => [s.accountId, identityFor(s.accountId)]));
const file = buildBureauFile(states, people, ASOF, metro2Format, FURNISHER, RP);
const bases = rawBases(file.content);
const byAccount = (id: string) => {
  const b = bases.find((x) => field(x, "consumerAccountNumber").trim() === id);
  if (!b) throw new Error(`no base segment for ${id}`);
  return b;
};

describe("Metro 2 base segment", () => {
  it("every base segment of the book follows every CRRG base-segment rule", () => {
    expect(bases).toHaveLength(7); // acc-withheld: notice never delivered → not in the file
    expect(file.withheldCount).toBe(1);
    for (const b of bases) expect(checkBase(b, "02282026"), field(b, "consumerAccountNumber")).toEqual([]);
  });

  it("carries the consumer's real identity: name, date of birth from the resident ID, address; no SSN for a CN product", () => {
    const b = byAccount("acc-late");
    expect(field(b, "surname").trim()).toBe("TEST");
    expect(field(b, "firstName").trim()).toBe("DAN");
    expect(field(b, "ssn")).toBe("000000000"); // CRRG: a consumer without an SSN is zero-filled, the DOB then required
    expect(field(b, "dateOfBirth")).toBe("06121988");
    expect(field(b, "telephone")).toBe("0000000000"); // +86 mobile: 11 digits, no Metro 2 form
    expect(field(b, "ecoa")).toBe("1"); // individual: no co-borrowers in this product (no J1/J2)
    expect(field(b, "countryCode")).toBe("CN");
    expect(field(b, "firstLineAddress").trim()).toBe("88 JIANGUO ROAD");
    expect(field(b, "secondLineAddress").trim()).toBe("UNIT 1203");
    expect(field(b, "city").trim()).toBe("BEIJING");
    expect(field(b, "state")).toBe("BJ");
    expect(field(b, "zip").trim()).toBe("100022");
    expect(new TextDecoder().decode(file.content)).not.toMatch(/PLACEHOLDER|cus-acc/);
  });

  it("reports a US product's SSN, and a North American telephone", () => {
    const us = identityFor("acc-us", {
      idType: "US_SSN",
      idNumber: "123456789",
      phone: "+12125550123",
      address: { line1: "1 Main St", line2: "", city: "New York", provinceCode: "NY", postalCode: "10001", countryCode: "US" },
    });
    const c = consumerFields(us);
    expect(c.problem).toBeNull();
    expect(c.fields).toMatchObject({ socialSecurityNumber: 123_456_789, telephoneNumber: 2_125_550_123, state: "NY" });
    expect(metro2Telephone("+8613700137052")).toBe(0);
  });

  it("refuses (withholds) what Metro 2 cannot carry: a name in Chinese characters, a single word, no address", () => {
    expect(splitName("王小明")).toBeNull();
    expect(splitName("Madonna")).toBeNull();
    expect(splitName("Mary Ann O'Neil")).toEqual({ firstName: "MARY", middleName: "ANN", surname: "ONEIL" });
    expect(splitName("José Núñez-García")).toEqual({ firstName: "JOSE", middleName: "", surname: "NUNEZ-GARCIA" });
    expect(metro2Format.refuses(identityFor("x", { name: "王小明" }))).toBe("NAME_NOT_IN_LATIN_LETTERS");
    expect(metro2Format.refuses(identityFor("x", { address: null }))).toBe("NO_ADDRESS");
    expect(metro2Format.refuses(identityFor("x", { address: { ...identityFor("x").address!, line1: "建国路88号" } }))).toBe("ADDRESS_NOT_REPRESENTABLE");
    expect(metro2Format.refuses(undefined)).toBe("NO_IDENTITY");
    const withoutDob = buildBureauFile(states, new Map([...people].map(([k, v]) => [k, { ...v, name: "王 小明" }])), ASOF, metro2Format, FURNISHER, RP);
    expect(withoutDob.recordCount).toBe(0);
  });

  it("account status, payment rating and amount past due per CRRG Exhibit 4", () => {
    expect(field(byAccount("acc-current"), "accountStatus")).toBe("11");
    expect(field(byAccount("acc-late"), "accountStatus")).toBe("71"); // 58 DPD on 02-28
    expect(field(byAccount("acc-late"), "amountPastDue")).toBe("000000500");
    expect(field(byAccount("acc-off"), "accountStatus")).toBe("97");
    expect(field(byAccount("acc-off"), "originalChargeOff")).toBe("000000800");
    for (const b of bases) expect(field(b, "paymentRating")).toBe(" "); // no rated status (05/13/65/88/89/94/95) is reported
  });

  it("zero-balance rule: an open revolving line at zero balance stays 11 with zero amounts, and its zero months are E", () => {
    const b = byAccount("acc-zero");
    expect(field(b, "accountStatus")).toBe("11");
    expect(field(b, "currentBalance")).toBe("000000000");
    expect(field(b, "amountPastDue")).toBe("000000000");
    expect(field(b, "scheduledPayment")).toBe("000000000");
    expect(field(b, "paymentHistoryProfile")).toBe(`EE0${"B".repeat(21)}`); // Jan, Dec at zero; Nov (opened) with ¥800
  });

  it("24-month payment history profile: most recent month first, B-filled before opening", () => {
    expect(field(byAccount("acc-current"), "paymentHistoryProfile")).toBe(`000${"B".repeat(21)}`);
    expect(field(byAccount("acc-late"), "paymentHistoryProfile")).toBe(`100${"B".repeat(21)}`); // Jan reached 30 DPD
    expect(field(byAccount("acc-off"), "paymentHistoryProfile")).toBe(`100${"B".repeat(21)}`);
  });

  it("date of first delinquency: 30 days after the due date for a delinquent status, zero once current", () => {
    expect(field(byAccount("acc-late"), "dateFirstDelinquency")).toBe("01312026"); // due 01-01, 30 DPD on 01-31
    expect(field(byAccount("acc-off"), "dateFirstDelinquency")).toBe("01312026");
    expect(field(byAccount("acc-cured"), "dateFirstDelinquency")).toBe("00000000");
  });

  it("compliance condition XB while a dispute is open; special comment CP during forbearance", () => {
    expect(field(byAccount("acc-dispute"), "complianceCondition")).toBe("XB");
    expect(field(byAccount("acc-cp"), "specialComment")).toBe("CP");
    expect(field(byAccount("acc-current"), "complianceCondition")).toBe("  ");
  });

  it("the checker fails each rule it states (so a pass means something)", () => {
    const s = states.find((x) => x.accountId === "acc-late")!;
    const v = bureauView(s, ASOF, RP);
    if (v.kind !== "report") throw new Error("expected a report");
    const good = baseFor({ line: v.line, identity: people.get("acc-late")! }, FURNISHER);
    const problems = (over: Partial<typeof good>) => checkBase(writeBase({ ...good, ...over }), "02282026");
    expect(problems({})).toEqual([]);
    // what the issue saw: SSN 0 and no date of birth
    expect(problems({ dateBirth: null })).toContain(
      "social security number in base segment: has an invalid value: with no SSN the date of birth is required",
    );
    expect(problems({ surname: "" })).toContain("surname in base segment: is a required field");
    expect(problems({ surname: "PLACEHOLDER" })).toContain("record in base segment: carries a placeholder");
    expect(problems({ firstLineAddress: "" })).toContain("first line of address in base segment: is a required field");
    expect(problems({ state: "" })).toContain("state in base segment: is a required two-letter code");
    expect(problems({ accountStatus: "13" })).toContain("payment rating in base segment: is required with this status");
    expect(problems({ paymentRating: "0" })).toContain("payment rating in base segment: must be blank with this status");
    expect(problems({ paymentHistoryProfile: "1B0000000000000000000000" })).toContain(
      "payment history profile in base segment: B (no history before) may not be embedded in other values",
    );
    expect(problems({ dateFirstDelinquency: null })).toContain(
      "date of first delinquency in base segment: is required with a delinquent status (FCRA purge date)",
    );
    expect(problems({ accountStatus: "11" })).toContain(
      "amount past due in base segment: must be zero when the status is current (11)",
    );
    expect(problems({ identificationNumber: "0000000" })).toHaveLength(1);
    expect(problems({ ecoaCode: "4" })).toContain("ECOA code in base segment: has an invalid value (0, 4, 6 are obsolete)");
    expect(problems({ dateOpened: "2026-03-01" })).toContain("date opened in base segment: must not be in the future");
    expect(problems({ termsDuration: "012" })).toContain("terms duration in base segment: must be REV for a revolving account");
  });
});
