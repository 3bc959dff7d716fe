import { describe, expect, it } from "vitest";
import { DEV_PII_KEY, maskEmail, maskName, maskNationalId, maskPhone, PiiCipher } from "../src/index";

describe("PiiCipher", () => {
  const cipher = new PiiCipher(DEV_PII_KEY);

  it("round-trips and never stores the clear value", () => {
    const sealed = cipher.encrypt("110101199003074578");
    expect(sealed).not.toContain("110101");
    expect(cipher.decrypt(sealed)).toBe("110101199003074578");
    expect(cipher.encrypt("x")).not.toBe(cipher.encrypt("x"));
  });

  it("detects tampering", () => {
    const sealed = cipher.encrypt("13800138000");
    const parts = sealed.split(":");
    parts[3] = Buffer.from("13800138001").toString("base64url");
    expect(() => cipher.decrypt(parts.join(":"))).toThrow();
  });

  it("blind index is stable, normalised and key-dependent", () => {
    expect(cipher.blindIndex(" 11010119900307457x")).toBe(cipher.blindIndex("11010119900307457X"));
    const other = new PiiCipher(Buffer.alloc(32, 9).toString("base64"));
    expect(other.blindIndex("a")).not.toBe(cipher.blindIndex("a"));
  });

  it("refuses a short key", () => {
    expect(() => new PiiCipher(Buffer.alloc(16).toString("base64"))).toThrow(/32 bytes/);
  });
});

describe("masks", () => {
  it("mask personal data", () => {
    expect(maskPhone("+8613800138000")).toBe("+86138****8000");
    expect(maskEmail("zhang.san@example.com")).toBe("z***@example.com");
    expect(maskNationalId("110101199003074578")).toBe("1101**********4578");
    expect(maskName("张三")).toBe("张*");
  });
});
