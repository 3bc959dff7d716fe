/**
 * A bureau file format: turns the format-neutral report lines of an as-of date
 * into bytes. Metro 2 is the first; another format (e.g. a PBOC-style
 * submission) plugs in beside it without touching the reporting rules.
 */
import type { LocalDate } from "@whiteslip/core";
import type { ReportLine } from "./bureau-view";
import type { ConsumerIdentity } from "./identity";

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
  /** PBOC financial institution code (金融机构代码, 14 characters) assigned by the Credit Reference Center. */
  pbocInstitutionCode: string;
}

/** A report line with the consumer's identity, ready to render. */
export interface IdentifiedLine {
  readonly line: ReportLine;
  readonly identity: ConsumerIdentity;
}

/** A file format. */
export interface BureauFormat {
  /** Format name as stored and returned by the API, e.g. `METRO2`. */
  readonly name: string;
  /**
   * Why this format cannot carry the account of this identity (null: it can) — e.g. Metro 2 needs a Latin-letter
   * name and an address. Such an account is withheld from the file (nothing rather than something untrue).
   */
  refuses(identity: ConsumerIdentity | undefined): string | null;
  /** What the furnisher configuration lacks for this format (null: complete). */
  furnisherProblem(furnisher: Furnisher): string | null;
  /**
   * Renders the lines (already in file order, every one admitted) for `asOf`. Must be a pure
   * function of its input: the same input gives the same bytes.
   */
  render(input: { asOf: LocalDate; lines: readonly IdentifiedLine[]; furnisher: Furnisher }): Uint8Array;
}
