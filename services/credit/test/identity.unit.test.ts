import { describe, expect, it } from "vitest";
import { ageOn, maskNationalId, maskPhone, nationalIdCheckChar, parseNationalId, validateEmail, validatePhone, validateRegistration } from "../src/domain/identity";
import { validNationalId } from "./support/fixtures";

const today = "2026-03-10";

describe("Chinese resident ID (GB 11643-1999)", () => {
  it("accepts the standard's worked example with check character X", () => {
    // GB 11643-1999 Annex example: 11010519491231002X
    expect(nationalIdCheckChar("11010519491231002")).toBe("X");
    const r = parseNationalId("11010519491231002X", today);
    expect(r).toEqual({ ok: true, id: { value: "11010519491231002X", birthDate: "1949-12-31" } });
  });

  it("accepts a lower-case x and normalises it", () => {
    const r = parseNationalId("11010519491231002x", today);
    expect(r.ok && r.id.value).toBe("11010519491231002X");
  });

  it("computes digit check characters (MOD 11-2)", () => {
    // 44052419800101001: Σ a_i·W_i = 196, 196 mod 11 = 9 → check char "3"
    expect(nationalIdCheckChar("44052419800101001")).toBe("3");
    expect(parseNationalId("440524198001010013", today).ok).toBe(true);
  });

  it.each([
    ["wrong check digit", "110105194912310021", "check digit"],
    ["17 characters", "11010519491231002", "18 characters"],
    ["letters inside", "1101051949A231002X", "18 characters"],
    ["unknown province 99", validNationalId("19900307", "990105"), "region code"],
    ["February 30", validNationalId("19900230"), "not a calendar date"],
    ["born in the future", validNationalId("20300101"), "between 1900 and today"],
    ["born before 1900", validNationalId("18991231"), "between 1900 and today"],
    ["empty", "", "required"],
  ])("rejects %s on national_id without echoing it", (_name, id, fragment) => {
    const r = parseNationalId(id, today);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.violations).toHaveLength(1);
    expect(r.violations[0]!.field).toBe("national_id");
    expect(r.violations[0]!.description).toContain(fragment);
    if (id) expect(r.violations[0]!.description).not.toContain(id);
  });

  it("computes age on a date", () => {
    expect(ageOn("1990-03-11", "2026-03-10")).toBe(35);
    expect(ageOn("1990-03-10", "2026-03-10")).toBe(36);
  });

  it("masks in the contract's form", () => {
    expect(maskNationalId("11010519491231002X")).toBe("1101**********002X");
    expect(maskPhone("+8613800138000")).toBe("+86138****8000");
  });
});

describe("phone (E.164, CN mobile)", () => {
  it.each(["+8613800138000", "+8619912345678", "+14155552671"])("accepts %s", (p) => expect(validatePhone(p)).toEqual([]));
  it.each(["13800138000", "+86 138 0013 8000", "+8612800138000", "+86138001380001", "+861380013800", "+0123456789", ""])("rejects %s", (p) => {
    const v = validatePhone(p);
    expect(v).toHaveLength(1);
    expect(v[0]!.field).toBe("phone");
  });
});

describe("email", () => {
  it.each(["a@b.cn", "zhang.san+bnpl@example.com.cn", "x_y@sub.domain.org"])("accepts %s", (e) => expect(validateEmail(e)).toEqual([]));
  it.each(["plain", "a@b", "a@@b.cn", "a b@c.cn", ".a@b.cn", "a.@b.cn", `${"x".repeat(65)}@b.cn`, "a@-b.cn", ""])("rejects %s", (e) => {
    expect(validateEmail(e)).toEqual([{ field: "email", description: expect.any(String) }]);
  });
});

describe("registration", () => {
  it("reports every bad field at once", () => {
    const r = validateRegistration({ name: "", nationalId: "123", phone: "1", email: "x" }, today);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.violations.map((v) => v.field)).toEqual(["name", "national_id", "phone", "email"]);
  });
  it("normalises a valid registration", () => {
    const r = validateRegistration({ name: " 张三 ", nationalId: "11010519491231002x", phone: "+8613800138000", email: "Zhang@Example.com" }, today);
    expect(r).toEqual({
      ok: true,
      value: { name: "张三", nationalId: { value: "11010519491231002X", birthDate: "1949-12-31" }, phone: "+8613800138000", email: "zhang@example.com" },
    });
  });
});
