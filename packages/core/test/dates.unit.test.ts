import { describe, expect, it } from "vitest";
import {
  addDays,
  addMonths,
  dateInZone,
  daysBetween,
  endOfMonth,
  isLocalDate,
  timeInZone,
  withDayOfMonth,
  zonedInstant,
} from "../src/index";

describe("business dates", () => {
  it("validates real calendar dates only", () => {
    expect(isLocalDate("2028-02-29")).toBe(true);
    expect(isLocalDate("2026-02-29")).toBe(false);
    expect(isLocalDate("2026-13-01")).toBe(false);
    expect(isLocalDate("2026-1-01")).toBe(false);
  });

  it("counts days across month ends and leap years", () => {
    expect(addDays("2026-01-31", 1)).toBe("2026-02-01");
    expect(daysBetween("2026-01-31", "2026-03-01")).toBe(29);
    expect(daysBetween("2028-01-31", "2028-03-01")).toBe(30);
    expect(addDays("2026-12-31", 1)).toBe("2027-01-01");
  });

  it("adds months clamped to the month's end", () => {
    expect(addMonths("2026-01-31", 1)).toBe("2026-02-28");
    expect(addMonths("2028-01-31", 1)).toBe("2028-02-29");
    expect(addMonths("2026-11-15", 3)).toBe("2027-02-15");
    expect(endOfMonth("2026-02-10")).toBe("2026-02-28");
    expect(withDayOfMonth("2026-02-10", 30)).toBe("2026-02-28");
  });

  it("reads dates and wall-clock times in a time zone", () => {
    // 2026-03-01 16:30 UTC is already 00:30 on 03-02 in Shanghai (UTC+8).
    const t = new Date("2026-03-01T16:30:00Z");
    expect(dateInZone(t)).toBe("2026-03-02");
    expect(timeInZone(t, "Asia/Shanghai")).toEqual({ hour: 0, minute: 30 });
    expect(zonedInstant("2026-03-02", 8, 0, "Asia/Shanghai").toISOString()).toBe("2026-03-02T00:00:00.000Z");
    // New York in summer time is UTC-4.
    expect(zonedInstant("2026-07-01", 21, 0, "America/New_York").toISOString()).toBe("2026-07-02T01:00:00.000Z");
  });
});
