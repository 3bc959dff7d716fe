/** Formatting in the page: amounts as ¥1,234.56 from fen without floats, dates in Asia/Shanghai, zh-CN and en texts. */
import { describe, expect, it } from "vitest";
import {
  formatBusinessDate,
  formatFen,
  formatInstant,
  formatRate,
  humanize,
  shortEnum,
  yuanTextToFen,
} from "../src/web/format";
import { enumLabel, text } from "../src/web/i18n";

describe("money", () => {
  it("formats fen as ¥ with thousands separators and two decimals", () => {
    expect(formatFen("123456")).toBe("¥1,234.56");
    expect(formatFen(123456n)).toBe("¥1,234.56");
    expect(formatFen("0")).toBe("¥0.00");
    expect(formatFen("5")).toBe("¥0.05");
    expect(formatFen("-100")).toBe("-¥1.00");
    expect(formatFen("100000000")).toBe("¥1,000,000.00");
    // Beyond 2^53 fen: exact, because it never goes through a float.
    expect(formatFen("900719925474099312")).toBe("¥9,007,199,254,740,993.12");
    expect(formatFen(undefined)).toBe("—");
    expect(formatFen("")).toBe("—");
    expect(formatFen("12.5")).toBe("—");
  });

  it("reads typed yuan amounts into fen", () => {
    expect(yuanTextToFen("1234.56")).toBe("123456");
    expect(yuanTextToFen("¥1,234.5")).toBe("123450");
    expect(yuanTextToFen("7")).toBe("700");
    expect(yuanTextToFen("1.234")).toBeNull();
    expect(yuanTextToFen("-5")).toBeNull();
    expect(yuanTextToFen("abc")).toBeNull();
  });
});

describe("dates", () => {
  it("shows instants in Asia/Shanghai whatever the browser's zone", () => {
    // 14:30 UTC is 22:30 in Shanghai (UTC+8, no daylight saving).
    expect(formatInstant("2026-04-03T14:30:00Z", "en")).toBe("2026-04-03 22:30");
    expect(formatInstant("2026-04-03T14:30:00Z", "zh-CN")).toBe("2026/04/03 22:30");
    // 16:05 UTC is already the next day in Shanghai.
    expect(formatInstant("2026-04-03T16:05:00.470Z", "en")).toBe("2026-04-04 00:05");
    expect(formatInstant("", "en")).toBe("—");
    expect(formatInstant("garbage", "en")).toBe("—");
  });

  it("shows business dates as they are (en) or in Chinese form (zh-CN)", () => {
    expect(formatBusinessDate("2026-04-03", "en")).toBe("2026-04-03");
    expect(formatBusinessDate("2026-04-03", "zh-CN")).toBe("2026年4月3日");
    expect(formatBusinessDate("", "zh-CN")).toBe("—");
  });
});

describe("rates, enums and texts", () => {
  it("formats rates and enum names", () => {
    expect(formatRate(0.1234)).toBe("12.3%");
    expect(formatRate(1)).toBe("100.0%");
    expect(formatRate(undefined)).toBe("—");
    expect(shortEnum("DELINQUENCY_BUCKET_M1", "DELINQUENCY_BUCKET_")).toBe("M1");
    expect(shortEnum("OTHER", "DELINQUENCY_BUCKET_")).toBe("OTHER");
    expect(humanize("NO_ANSWER")).toBe("No answer");
  });

  it("has every text in both languages and labels enums", () => {
    expect(text("en", "navQueue")).toBe("My queue");
    expect(text("zh-CN", "navQueue")).toBe("我的队列");
    expect(text("zh-CN", "inbox")).toBe("站内信");
    expect(enumLabel("en", "NO_ANSWER")).toBe("No answer");
    expect(enumLabel("zh-CN", "NO_ANSWER")).toBe("无人接听");
    expect(enumLabel("en", "M2")).toBe("M2");
    expect(enumLabel("en", "UNSPECIFIED")).toBe("—");
    expect(enumLabel("zh-CN", "SOMETHING_NEW")).toBe("SOMETHING_NEW");
  });
});
