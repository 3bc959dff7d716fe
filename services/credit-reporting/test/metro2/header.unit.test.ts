/**
 * Metro 2 header record, checked against the CRRG's rules by the independent checker in ../support/crrg.ts
 * (not by our own parser): required activity date, date created, reporter name and address; the record
 * descriptor word and identifier; dates from the as-of date, never the wall clock.
 */
import { describe, expect, it } from "vitest";
import { buildBureauFile } from "../../src/domain/bureau-file";
import { headerFor, metro2Format, metro2FurnisherProblem } from "../../src/domain/metro2/metro2-format";
import { writeHeader } from "../../src/domain/metro2/records";
import { DEFAULT_REPORTING_POLICY as RP } from "../../src/domain/policy";
import { book } from "../support/book";
import { checkHeader } from "../support/crrg";
import { FURNISHER, identityFor } from "../support/identities";

const states = book();
const people = new Map(states.map((s) => [s.accountId, identityFor(s.accountId)]));

describe("Metro 2 header record", () => {
  it("follows every CRRG header rule, with the reporter's name, address and telephone from configuration", () => {
    const bytes = buildBureauFile(states, people, "2026-02-28", metro2Format, FURNISHER, RP).content;
    const header = new TextDecoder().decode(bytes).split("\n")[0]!;
    expect(checkHeader(header)).toEqual([]);
    expect(header.slice(0, 10)).toBe("0426HEADER");
    expect(header.slice(47, 55)).toBe("02282026"); // activity date = as-of date
    expect(header.slice(55, 63)).toBe("02282026"); // date created from the as-of date: regeneration is byte-identical
    expect(header.slice(79, 119).trim()).toBe(FURNISHER.name);
    expect(header.slice(119, 215).trim()).toBe(FURNISHER.address);
    expect(header.slice(215, 225)).toBe(FURNISHER.telephone);

    // the checker rejects what the issue saw: no reporter address
    expect(checkHeader(writeHeader({ ...headerFor("2026-02-28", FURNISHER), reporterAddress: "" }))).toContain(
      "reporter address in header: is a required field",
    );
    expect(checkHeader(writeHeader({ ...headerFor("2026-02-28", FURNISHER), activityDate: null }))).toContain(
      "activity date in header: is a required field",
    );
  });

  it("is not written while the furnisher configuration lacks what the header requires", () => {
    expect(metro2FurnisherProblem(FURNISHER)).toBeNull();
    expect(metro2FurnisherProblem({ ...FURNISHER, address: " " })).toMatch(/FURNISHER_ADDRESS/);
    expect(metro2FurnisherProblem({ ...FURNISHER, identificationNumber: "0000000" })).toMatch(/FURNISHER_ID/);
    expect(metro2FurnisherProblem({ ...FURNISHER, identificationNumber: "WS 01" })).toMatch(/FURNISHER_ID/);
  });
});
