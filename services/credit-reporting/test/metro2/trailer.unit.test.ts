/**
 * Metro 2 trailer record, checked against the CRRG's rules by the independent checker in ../support/crrg.ts:
 * total base records, block count (required; each record of an unblocked file is a block: header + bases +
 * trailer, as moov-io/metro2 computes it), a total per status code, and the totals of SSNs, dates of birth,
 * telephones and ECOA Z, counted from the raw base segments.
 */
import { describe, expect, it } from "vitest";
import { buildBureauFile } from "../../src/domain/bureau-file";
import { metro2Format } from "../../src/domain/metro2/metro2-format";
import { trailerFor, writeTrailer } from "../../src/domain/metro2/records";
import { DEFAULT_REPORTING_POLICY as RP } from "../../src/domain/policy";
import { book } from "../support/book";
import { checkFile, checkTrailer, rawBases } from "../support/crrg";
import { FURNISHER, identityFor } from "../support/identities";

const states = book();
const people = new Map(states.map((s) => [s.accountId, identityFor(s.accountId)]));

describe("Metro 2 trailer record", () => {
  it("counts what the file holds: base records, block count, status codes, dates of birth — and the whole file passes", () => {
    const bytes = buildBureauFile(states, people, "2026-02-28", metro2Format, FURNISHER, RP).content;
    const recs = new TextDecoder().decode(bytes).slice(0, -1).split("\n");
    const trailer = recs.at(-1)!;
    const bases = rawBases(bytes);
    expect(checkTrailer(trailer, bases)).toEqual([]);
    expect(checkFile(bytes)).toEqual([]);
    expect(trailer.slice(11, 20)).toBe("000000007"); // total base records
    expect(trailer.slice(56, 65)).toBe("000000009"); // block count = 7 bases + header + trailer
    expect(trailer.slice(362, 371)).toBe("000000007"); // dates of birth, all segments
    expect(trailer.slice(326, 335)).toBe("000000000"); // no SSNs in a CN product

    // what the issue saw: block count 0
    const zeroBlocks = writeTrailer({ ...trailerFor([]), blockCount: 0 });
    expect(checkTrailer(zeroBlocks, [])).toContain("block count in trailer: is a required field");
    // a total that does not match the bases
    expect(checkTrailer(writeTrailer(trailerFor([])), bases)).toContain("total base records in trailer: is 0, the file has 7");
  });

  it("an empty book still makes a valid file (header + trailer, block count 2)", () => {
    const bytes = buildBureauFile([], new Map(), "2026-02-28", metro2Format, FURNISHER, RP).content;
    expect(checkFile(bytes)).toEqual([]);
  });
});
