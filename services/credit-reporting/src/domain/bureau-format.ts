/**
 * A bureau file format: turns the format-neutral report lines of an as-of date
 * into bytes. Metro 2 is the first; another format (e.g. a PBOC-style
 * submission) plugs in beside it without touching the reporting rules.
 */
import type { LocalDate } from "@whiteslip/core";
import type { ReportLine } from "./bureau-view";

/** Who furnishes the data (the header / identification fields). */
export interface Furnisher {
  /** Identification number the bureaus assigned to the furnisher (≤ 20 characters). */
  identificationNumber: string;
  /** Furnisher name (≤ 40 characters). */
  name: string;
  /** Furnisher address (≤ 96 characters). */
  address: string;
  /** Telephone, digits only (≤ 10). */
  telephone: string;
  /** Program identifier used for all four bureaus (≤ 5 characters fits every field). */
  programIdentifier: string;
}

/** A file format. */
export interface BureauFormat {
  /** Format name as stored and returned by the API, e.g. `METRO2`. */
  readonly name: string;
  /**
   * Renders the lines (already in file order) for `asOf`. Must be a pure
   * function of its input: the same input gives the same bytes.
   */
  render(input: { asOf: LocalDate; lines: readonly ReportLine[]; furnisher: Furnisher }): Uint8Array;
}
