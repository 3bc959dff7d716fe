/**
 * Metro 2 rendering of report lines: one header, one base segment per line,
 * one trailer. Choices (see README):
 * - portfolio type `R` (revolving), account type `07` (charge account: a
 *   revolving line for the furnisher's own goods, which is what 白条 is), terms
 *   `REV` monthly;
 * - amounts in whole yuan, cents truncated (the CRRG's whole-dollar rule);
 * - time stamp and date created derived from the as-of date (23:59:59), never
 *   the wall clock, so a file for a date is byte-identical when regenerated;
 * - the consumer's identity comes from credit (GetReportingIdentities) at render
 *   time; see `consumerFields` for what a product without SSNs reports.
 */
import { deterministicId, type LocalDate } from "@whiteslip/core";
import type { BureauFormat, Furnisher, IdentifiedLine } from "../bureau-format";
import type { ConsumerIdentity } from "../identity";
import { writeMetro2File } from "./file";
import { type BaseSegment, type HeaderRecord, RDW } from "./records";

/** Largest amount a 9-digit numeric field holds. */
const MAX_AMOUNT = 999_999_999;

/** Whole yuan from fen, cents truncated, clamped to the field's 9 digits. */
export function wholeYuan(fen: bigint): number {
  if (fen <= 0n) return 0;
  const y = fen / 100n;
  return y > BigInt(MAX_AMOUNT) ? MAX_AMOUNT : Number(y);
}

/** An id that fits `max` printable ASCII characters: itself if it fits, else a stable prefix + hash. */
export function fitId(id: string, max: number): string {
  if (id.length <= max && /^[\x21-\x7e]+$/.test(id)) return id;
  const hash = deterministicId("metro2-id", id).replaceAll("-", "").slice(0, 8).toUpperCase();
  const prefix = id.replace(/[^\x21-\x7e]/g, "").slice(0, max - 9);
  return `${prefix}~${hash}`;
}

/** Letters a Metro 2 name field may hold once upper-cased (CRRG: no special characters other than the hyphen). */
const NAME_WORD = /^[A-Z][A-Z-]*$/;
/** Address text: upper-case letters, digits, space and the punctuation of addresses. */
const ADDRESS_TEXT = /^[A-Z0-9 #,./-]*$/;

/** The consumer-name fields of a name written in Latin letters, given name first: `DAN TEST` → first `DAN`, surname `TEST`. */
export function splitName(name: string): { surname: string; firstName: string; middleName: string } | null {
  const words = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "") // accents off: Metro 2 is upper-case ASCII
    .replace(/['.]/g, "")
    .toUpperCase()
    .trim()
    .split(/\s+/);
  if (words.length < 2 || !words.every((w) => NAME_WORD.test(w))) return null;
  const surname = words.at(-1)!;
  const firstName = words[0]!;
  const middleName = words.slice(1, -1).join("-");
  if (surname.length > 25 || firstName.length > 20 || middleName.length > 20) return null;
  return { surname, firstName, middleName };
}

/** Upper-cased address text, or null when Metro 2 cannot carry it. */
function addressText(s: string, max: number, truncate = false): string | null {
  const t = s.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toUpperCase().trim().replace(/\s+/g, " ");
  if (!ADDRESS_TEXT.test(t)) return null;
  if (t.length > max && !truncate) return null;
  return t.slice(0, max).trimEnd();
}

/** The 10-digit telephone field (area code + 7 digits, the North American plan); 0 (not reported) for any other number. */
export function metro2Telephone(e164: string): number {
  const m = /^\+1([2-9]\d{2}[2-9]\d{6})$/.exec(e164);
  return m ? Number(m[1]) : 0;
}

/**
 * The consumer fields of a base segment. Identification number per market:
 * - `US_SSN` (a US product): the SSN in field 37, and the date of birth;
 * - `CN_RESIDENT_ID` (this product): there is no SSN, so the SSN field is zero-filled — the CRRG's rule for a
 *   consumer without one ("zero- or 9-fill all positions"; then "the Date of Birth is required") — and the date of
 *   birth (from the ID number) is reported. The resident ID number itself has no field in the base segment (it is
 *   not an SSN and must not be passed off as one); a PBOC file carries it.
 * The telephone is reported only for a North American number (10 digits); a +86 mobile has 11 and is zero-filled.
 */
export function consumerFields(id: ConsumerIdentity) {
  const name = splitName(id.name);
  const a = id.address;
  const ssn = id.idType === "US_SSN" && /^\d{9}$/.test(id.idNumber) ? Number(id.idNumber) : 0;
  const line1 = a ? addressText(a.line1, 32) : null;
  const line2 = a ? addressText(a.line2, 32) : null;
  const city = a ? addressText(a.city, 20, true) : null; // CRRG: truncate a city over 20 characters
  const state = a && /^[A-Z]{2}$/.test(a.provinceCode) ? a.provinceCode : null;
  const zip = a && /^[0-9A-Z]{5,9}$/.test(a.postalCode) ? a.postalCode : null;
  const country = a && /^[A-Z]{2}$/.test(a.countryCode) ? a.countryCode : null;
  if (!name) return { problem: "NAME_NOT_IN_LATIN_LETTERS" as const };
  if (!a) return { problem: "NO_ADDRESS" as const };
  if (!line1 || line1 === "" || line2 === null || !city || !state || !zip || !country)
    return { problem: "ADDRESS_NOT_REPRESENTABLE" as const };
  return {
    problem: null,
    fields: {
      ...name,
      generationCode: "",
      socialSecurityNumber: ssn,
      dateBirth: id.dateOfBirth,
      telephoneNumber: metro2Telephone(id.phone),
      ecoaCode: "1", // individual: the product has no co-borrowers, so no J1/J2 segments
      consumerInformationIndicator: "",
      countryCode: country,
      firstLineAddress: line1,
      secondLineAddress: line2,
      city,
      state,
      zipCode: zip,
      addressIndicator: "",
      residenceCode: "",
    },
  };
}

/** The header of a file for `asOf`. */
export function headerFor(asOf: LocalDate, f: Furnisher): HeaderRecord {
  return {
    recordDescriptorWord: RDW,
    recordIdentifier: "HEADER",
    cycleIdentifier: "",
    innovisProgramIdentifier: f.programIdentifier,
    equifaxProgramIdentifier: f.programIdentifier,
    experianProgramIdentifier: f.programIdentifier,
    transUnionProgramIdentifier: f.programIdentifier,
    activityDate: asOf,
    dateCreated: asOf,
    programDate: null,
    programRevisionDate: null,
    reporterName: f.name.toUpperCase(),
    reporterAddress: f.address.toUpperCase(),
    reporterTelephoneNumber: f.telephone === "" ? 0 : Number(f.telephone),
    softwareVendorName: "WHITESLIP",
    softwareVersionNumber: "1.0",
    prbcProgramIdentifier: "",
    reserved: "",
  };
}

/** The base segment of one report line and its consumer. */
export function baseFor({ line, identity }: IdentifiedLine, f: Furnisher): BaseSegment {
  const c = consumerFields(identity);
  if (c.problem !== null) throw new Error(`account ${line.accountId} cannot be rendered in Metro 2: ${c.problem}`);
  return {
    recordDescriptorWord: RDW,
    processingIndicator: 1,
    timeStamp: `${line.asOf}T23:59:59`,
    correctionIndicator: 0,
    identificationNumber: f.identificationNumber,
    cycleIdentifier: "",
    consumerAccountNumber: fitId(line.accountId, 30),
    portfolioType: "R",
    accountType: "07",
    dateOpened: line.openedOn,
    creditLimit: wholeYuan(line.creditLimitFen),
    highestCredit: wholeYuan(line.highestBalanceFen),
    termsDuration: "REV",
    termsFrequency: "M",
    scheduledMonthlyPaymentAmount: 0,
    actualPaymentAmount: wholeYuan(line.actualPaymentFen),
    accountStatus: line.status,
    paymentRating: line.paymentRating,
    paymentHistoryProfile: line.profile,
    specialComment: line.specialComment,
    complianceConditionCode: line.complianceCode,
    currentBalance: wholeYuan(line.balanceFen),
    amountPastDue: wholeYuan(line.pastDueFen),
    originalChargeOffAmount: wholeYuan(line.chargedOffFen),
    dateAccountInformation: line.asOf,
    dateFirstDelinquency: line.firstDelinquencyOn,
    dateClosed: line.closedOn,
    dateLastPayment: line.lastPaymentOn,
    interestTypeIndicator: "",
    reserved2: "",
    ...c.fields,
  };
}

/** What the header needs from configuration (CRRG: identification number ≥ 5 characters, never all zeros, nines or blanks; reporter name and address required). */
export function metro2FurnisherProblem(f: Furnisher): string | null {
  const id = f.identificationNumber.trim();
  if (id.length < 5 || /^(0+|9+)$/.test(id) || /\s/.test(id)) return "FURNISHER_ID must be at least 5 characters, no blanks, not all zeros or nines";
  if (f.name.trim() === "") return "FURNISHER_NAME is required";
  if (f.address.trim() === "") return "FURNISHER_ADDRESS is required (Metro 2 header: reporter address)";
  return null;
}

/** The Metro 2 format. */
export const metro2Format: BureauFormat = {
  name: "METRO2",
  refuses: (identity) => (identity === undefined ? "NO_IDENTITY" : consumerFields(identity).problem),
  furnisherProblem: metro2FurnisherProblem,
  render({ asOf, lines, furnisher }) {
    return writeMetro2File(
      headerFor(asOf, furnisher),
      lines.map((l) => baseFor(l, furnisher)),
    );
  },
};
