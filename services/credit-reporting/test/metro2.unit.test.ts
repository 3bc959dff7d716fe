import { describe, expect, it } from "vitest";
import type { IdentifiedLine } from "../src/domain/bureau-format";
import type { ReportLine } from "../src/domain/bureau-view";
import { parseMetro2File, RECORD_SEPARATOR } from "../src/domain/metro2/file";
import { encodeField, Metro2FormatError } from "../src/domain/metro2/fixed-width";
import { baseFor, fitId, headerFor, metro2Format, wholeYuan } from "../src/domain/metro2/metro2-format";
import {
  LAYOUTS,
  parseBase,
  parseHeader,
  parseTrailer,
  RECORD_LENGTH,
  TRAILER_STATUS_CODES,
  writeBase,
  writeHeader,
  writeTrailer,
} from "../src/domain/metro2/records";
import { FURNISHER as furnisher, identityFor } from "./support/identities";

function line(accountId: string, over: Partial<ReportLine> = {}): ReportLine {
  return {
    accountId,
    customerId: `cus-${accountId}`,
    openedOn: "2024-03-15",
    creditLimitFen: 1_000_000n,
    highestBalanceFen: 523_456n,
    balanceFen: 412_399n,
    pastDueFen: 0n,
    dpd: 0,
    actualPaymentFen: 10_050n,
    status: "11",
    paymentRating: "",
    profile: "000000000000000000BBBBBB",
    complianceCode: "",
    specialComment: "",
    firstDelinquencyOn: null,
    lastPaymentOn: "2026-02-03",
    closedOn: null,
    chargedOffFen: 0n,
    asOf: "2026-02-28",
    ...over,
  };
}

const lines: ReportLine[] = [
  line("acc-a"),
  line("acc-b", {
    status: "71",
    pastDueFen: 80_001n,
    profile: "100000000000000000000000",
    firstDelinquencyOn: "2026-01-10",
  }),
  line("acc-c", {
    status: "78",
    pastDueFen: 99n,
    complianceCode: "XB",
    profile: "210000000000000000000000",
    firstDelinquencyOn: "2025-12-10",
  }),
  line("acc-d", {
    status: "97",
    chargedOffFen: 999_999_999_999n,
    closedOn: "2026-02-01",
    profile: "L65432100000000000000000",
    firstDelinquencyOn: "2025-08-01",
  }),
  line("acc-e", {
    status: "11",
    balanceFen: 0n,
    profile: "E000000DD000000000000000",
    complianceCode: "XH",
  }),
  line("acc-f", { status: "11", complianceCode: "XC", lastPaymentOn: null, actualPaymentFen: 0n }),
  line("a-very-long-account-identifier-beyond-thirty-chars"),
];
const identified: IdentifiedLine[] = lines.map((l) => ({ line: l, identity: identityFor(l.accountId) }));
const withId = (l: ReportLine): IdentifiedLine => ({ line: l, identity: identityFor(l.accountId) });

describe("Metro 2 layouts", () => {
  it.each(Object.entries(LAYOUTS))("%s covers positions 1–426 with no gap or overlap", (_, layout) => {
    let next = 1;
    for (const f of layout) {
      expect(f.start, f.key).toBe(next);
      next = f.start + f.length;
    }
    expect(next - 1).toBe(RECORD_LENGTH);
  });
});

describe("Metro 2 file round-trip", () => {
  const bytes = metro2Format.render({ asOf: "2026-02-28", lines: identified, furnisher });
  const text = new TextDecoder().decode(bytes);
  const raw = text.split(RECORD_SEPARATOR).slice(0, -1);
  const file = parseMetro2File(bytes);

  it("has a header, one base segment per line and a trailer, each exactly 426 characters", () => {
    expect(raw).toHaveLength(lines.length + 2);
    for (const r of raw) expect(r.length).toBe(426);
    expect(raw[0]!.slice(4, 10)).toBe("HEADER");
    expect(raw.at(-1)!.slice(4, 11)).toBe("TRAILER");
    expect(bytes.length).toBe((426 + 1) * (lines.length + 2));
  });

  it("parses every record back by field position into what was written (bytes → record → bytes identical)", () => {
    expect(file.header).toEqual(headerFor("2026-02-28", furnisher));
    expect(writeHeader(parseHeader(raw[0]!))).toBe(raw[0]);
    file.bases.forEach((b, i) => {
      expect(b).toEqual(baseFor(identified[i]!, furnisher));
      expect(writeBase(parseBase(raw[i + 1]!))).toBe(raw[i + 1]);
    });
    expect(writeTrailer(parseTrailer(raw.at(-1)!))).toBe(raw.at(-1));
  });

  it("puts fields where the CRRG says (1-based positions)", () => {
    const b = raw[2]!; // acc-b, status 71
    const at = (start: number, len: number) => b.slice(start - 1, start - 1 + len);
    expect(at(1, 4)).toBe("0426");
    expect(at(6, 14)).toBe("02282026235959");
    expect(at(21, 20)).toBe("WSFURN0001".padEnd(20));
    expect(at(43, 30)).toBe("acc-b".padEnd(30));
    expect(at(73, 1)).toBe("R");
    expect(at(74, 2)).toBe("07");
    expect(at(76, 8)).toBe("03152024");
    expect(at(84, 9)).toBe("000010000");
    expect(at(124, 2)).toBe("71");
    expect(at(127, 24)).toBe("100000000000000000000000");
    expect(at(164, 9)).toBe("000000800"); // 80,001 fen = ¥800.01 → whole yuan 800
    expect(at(182, 8)).toBe("02282026");
    expect(at(190, 8)).toBe("01102026");
    expect(raw[3]!.slice(152, 154)).toBe("XB");
  });

  it("trailer totals match the body", () => {
    expect(file.trailer.totalBaseRecords).toBe(file.bases.length);
    for (const code of TRAILER_STATUS_CODES) {
      expect(file.trailer[`totalStatusCode${code}`], code).toBe(
        file.bases.filter((b) => b.accountStatus === code).length,
      );
    }
    expect(file.trailer.totalStatusCode11).toBe(4);
    expect(file.trailer.totalStatusCode97).toBe(1);
    expect(file.trailer.totalSocialNumbersAllSegments).toBe(0);
  });

  it("is byte-identical when rendered again from the same lines", () => {
    expect(metro2Format.render({ asOf: "2026-02-28", lines: identified, furnisher })).toEqual(bytes);
  });

  it("shortens ids longer than the field to a stable value that fits", () => {
    const n = file.bases.at(-1)!.consumerAccountNumber;
    expect(n.length).toBeLessThanOrEqual(30);
    expect(n).toBe(fitId("a-very-long-account-identifier-beyond-thirty-chars", 30));
    expect(fitId("a-very-long-account-identifier-beyond-thirty-chars-2", 30)).not.toBe(n);
  });

  it("clamps amounts beyond nine digits and truncates cents", () => {
    expect(file.bases[3]!.originalChargeOffAmount).toBe(999_999_999);
    expect(wholeYuan(12_399n)).toBe(123);
    expect(wholeYuan(-5n)).toBe(0);
  });
});

describe("Metro 2 field errors", () => {
  it("refuses a value longer than its field, naming the field and record", () => {
    const tooLong = { ...baseFor(withId(line("x")), furnisher), identificationNumber: "X".repeat(21) };
    expect(() => writeBase(tooLong)).toThrowError(
      /identificationNumber in Base Segment has an invalid value/,
    );
  });
  it("refuses non-ASCII text and bad numbers and dates", () => {
    const spec = { key: "surname", start: 1, length: 10, kind: "A" } as const;
    expect(() => encodeField("Base Segment", spec, "王")).toThrow(Metro2FormatError);
    expect(() => encodeField("Base Segment", { ...spec, kind: "N" }, -1)).toThrow(Metro2FormatError);
    expect(() => encodeField("Base Segment", { ...spec, length: 8, kind: "D" }, "2026-02-30")).toThrow(
      Metro2FormatError,
    );
  });
  it("refuses to parse a record of the wrong length or a non-numeric amount", () => {
    const good = writeBase(baseFor(withId(line("x")), furnisher));
    expect(() => parseBase(good.slice(1))).toThrow(/length/);
    expect(() => parseBase(`${good.slice(0, 154)}ABCDEFGHI${good.slice(163)}`)).toThrow(/currentBalance/);
  });
});
