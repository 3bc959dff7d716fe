/**
 * Metro 2® character-format records (CDIA Credit Reporting Resource Guide):
 * header, base segment and trailer, each 426 characters, fields by position.
 * Positions match moov-io/metro2 `pkg/lib/specifications.go` (character format).
 * Amounts are whole currency units (the CRRG reports whole dollars; we report
 * whole yuan, cents truncated). Dates are `MMDDYYYY`, zero-filled when absent.
 */
import type { LocalDate } from "@whiteslip/core";
import { decodeRecord, encodeRecord, type FieldValue, layout } from "./fixed-width";

/** Length of every Metro 2 character-format record written here (no J/K/L/N segments are appended). */
export const RECORD_LENGTH = 426;
/** The Record Descriptor Word: the record length as four digits. */
export const RDW = 426;

/** Header record: identifies the furnisher and the activity date of the file. */
export interface HeaderRecord {
  /** Record Descriptor Word, `0426`. */
  recordDescriptorWord: number;
  /** Constant `HEADER`. */
  recordIdentifier: string;
  /** Cycle identifier (blank for monthly reporting of all accounts). */
  cycleIdentifier: string;
  /** Program identifiers assigned by Innovis, Equifax, Experian, TransUnion. */
  innovisProgramIdentifier: string;
  equifaxProgramIdentifier: string;
  experianProgramIdentifier: string;
  transUnionProgramIdentifier: string;
  /** Activity date: the as-of date of the data in the file. */
  activityDate: LocalDate | null;
  /** Date the file was created: derived from the as-of date so regeneration is byte-identical. */
  dateCreated: LocalDate | null;
  /** Program date / revision date (not used: zero-filled). */
  programDate: LocalDate | null;
  programRevisionDate: LocalDate | null;
  /** Furnisher name and address. */
  reporterName: string;
  reporterAddress: string;
  /** Furnisher telephone number, digits. */
  reporterTelephoneNumber: number;
  /** Software vendor name and version. */
  softwareVendorName: string;
  softwareVersionNumber: string;
  /** PRBC program identifier (blank). */
  prbcProgramIdentifier: string;
  /** Reserved, blank. */
  reserved: string;
}

const HEADER_LAYOUT = layout<keyof HeaderRecord>([
  ["recordDescriptorWord", 1, 4, "N"],
  ["recordIdentifier", 5, 6, "A"],
  ["cycleIdentifier", 11, 2, "A"],
  ["innovisProgramIdentifier", 13, 10, "A"],
  ["equifaxProgramIdentifier", 23, 10, "A"],
  ["experianProgramIdentifier", 33, 5, "A"],
  ["transUnionProgramIdentifier", 38, 10, "A"],
  ["activityDate", 48, 8, "D"],
  ["dateCreated", 56, 8, "D"],
  ["programDate", 64, 8, "D"],
  ["programRevisionDate", 72, 8, "D"],
  ["reporterName", 80, 40, "A"],
  ["reporterAddress", 120, 96, "A"],
  ["reporterTelephoneNumber", 216, 10, "N"],
  ["softwareVendorName", 226, 40, "A"],
  ["softwareVersionNumber", 266, 5, "A"],
  ["prbcProgramIdentifier", 271, 10, "A"],
  ["reserved", 281, 146, "A"],
]);

/** Base segment: one account's data as of the activity date. */
export interface BaseSegment {
  /** Record Descriptor Word, `0426`. */
  recordDescriptorWord: number;
  /** Processing indicator, always 1. */
  processingIndicator: number;
  /** Time stamp `MMDDYYYYHHMMSS` (local date-time), derived from the as-of date. */
  timeStamp: string | null;
  /** Correction indicator (reserved; 0). */
  correctionIndicator: number;
  /** Identification number: the furnisher's id assigned by the bureaus. */
  identificationNumber: string;
  /** Cycle identifier (blank). */
  cycleIdentifier: string;
  /** Consumer account number: the account id (≤ 30 characters; longer ids are shortened deterministically). */
  consumerAccountNumber: string;
  /** Portfolio type: `R` revolving. */
  portfolioType: string;
  /** Account type: `07` charge account (a revolving retailer line; see README). */
  accountType: string;
  /** Date opened. */
  dateOpened: LocalDate | null;
  /** Credit limit, whole yuan. */
  creditLimit: number;
  /** Highest credit (highest balance ever), whole yuan. */
  highestCredit: number;
  /** Terms duration: `REV` for revolving. */
  termsDuration: string;
  /** Terms frequency: `M` monthly. */
  termsFrequency: string;
  /** Scheduled monthly payment, whole yuan. */
  scheduledMonthlyPaymentAmount: number;
  /** Actual payment amount received in the period, whole yuan. */
  actualPaymentAmount: number;
  /** Account status code (11, 13, 71, 78, 80, 82, 83, 84, 97). */
  accountStatus: string;
  /** Payment rating (required with status 13; blank otherwise here). */
  paymentRating: string;
  /** 24-month payment history profile; position 1 is the month before the activity date's month. */
  paymentHistoryProfile: string;
  /** Special comment code (`CP` = account in forbearance, else blank). */
  specialComment: string;
  /** Compliance condition code: XB dispute open, XC verified – consumer disagrees, XH dispute resolved. */
  complianceConditionCode: string;
  /** Current balance, whole yuan. */
  currentBalance: number;
  /** Amount past due, whole yuan. */
  amountPastDue: number;
  /** Original charge-off amount, whole yuan. */
  originalChargeOffAmount: number;
  /** Date of account information: the as-of date. */
  dateAccountInformation: LocalDate | null;
  /** FCRA compliance / date of first delinquency (statuses 71–97 only). */
  dateFirstDelinquency: LocalDate | null;
  /** Date closed. */
  dateClosed: LocalDate | null;
  /** Date of last payment. */
  dateLastPayment: LocalDate | null;
  /** Interest type indicator (blank). */
  interestTypeIndicator: string;
  /** Reserved, blank. */
  reserved2: string;
  /** Consumer name (from credit at render time, upper-case Latin letters). */
  surname: string;
  firstName: string;
  middleName: string;
  generationCode: string;
  /** Social security number; zero-filled for a consumer without one (a CN product), the date of birth then required. */
  socialSecurityNumber: number;
  /** Date of birth. */
  dateBirth: LocalDate | null;
  /** Telephone number, 10 digits (North American numbers only; others zero-filled). */
  telephoneNumber: number;
  /** ECOA code: `1` individual. */
  ecoaCode: string;
  /** Consumer information indicator (blank). */
  consumerInformationIndicator: string;
  /** Country code (ISO 3166-1 alpha-2). */
  countryCode: string;
  /** Address lines, city, state (province code), postal code; address indicator and residence code blank (unknown). */
  firstLineAddress: string;
  secondLineAddress: string;
  city: string;
  state: string;
  zipCode: string;
  addressIndicator: string;
  residenceCode: string;
}

const BASE_LAYOUT = layout<keyof BaseSegment>([
  ["recordDescriptorWord", 1, 4, "N"],
  ["processingIndicator", 5, 1, "N"],
  ["timeStamp", 6, 14, "T"],
  ["correctionIndicator", 20, 1, "N"],
  ["identificationNumber", 21, 20, "A"],
  ["cycleIdentifier", 41, 2, "A"],
  ["consumerAccountNumber", 43, 30, "A"],
  ["portfolioType", 73, 1, "A"],
  ["accountType", 74, 2, "A"],
  ["dateOpened", 76, 8, "D"],
  ["creditLimit", 84, 9, "N"],
  ["highestCredit", 93, 9, "N"],
  ["termsDuration", 102, 3, "A"],
  ["termsFrequency", 105, 1, "A"],
  ["scheduledMonthlyPaymentAmount", 106, 9, "N"],
  ["actualPaymentAmount", 115, 9, "N"],
  ["accountStatus", 124, 2, "A"],
  ["paymentRating", 126, 1, "A"],
  ["paymentHistoryProfile", 127, 24, "A"],
  ["specialComment", 151, 2, "A"],
  ["complianceConditionCode", 153, 2, "A"],
  ["currentBalance", 155, 9, "N"],
  ["amountPastDue", 164, 9, "N"],
  ["originalChargeOffAmount", 173, 9, "N"],
  ["dateAccountInformation", 182, 8, "D"],
  ["dateFirstDelinquency", 190, 8, "D"],
  ["dateClosed", 198, 8, "D"],
  ["dateLastPayment", 206, 8, "D"],
  ["interestTypeIndicator", 214, 1, "A"],
  ["reserved2", 215, 17, "A"],
  ["surname", 232, 25, "A"],
  ["firstName", 257, 20, "A"],
  ["middleName", 277, 20, "A"],
  ["generationCode", 297, 1, "A"],
  ["socialSecurityNumber", 298, 9, "N"],
  ["dateBirth", 307, 8, "D"],
  ["telephoneNumber", 315, 10, "N"],
  ["ecoaCode", 325, 1, "A"],
  ["consumerInformationIndicator", 326, 2, "A"],
  ["countryCode", 328, 2, "A"],
  ["firstLineAddress", 330, 32, "A"],
  ["secondLineAddress", 362, 32, "A"],
  ["city", 394, 20, "A"],
  ["state", 414, 2, "A"],
  ["zipCode", 416, 9, "A"],
  ["addressIndicator", 425, 1, "A"],
  ["residenceCode", 426, 1, "A"],
]);

/** Status codes counted in the trailer, in trailer order. */
export const TRAILER_STATUS_CODES = [
  "DA",
  "05",
  "11",
  "13",
  "61",
  "62",
  "63",
  "64",
  "65",
  "71",
  "78",
  "80",
  "82",
  "83",
  "84",
  "88",
  "89",
  "93",
  "94",
  "95",
  "96",
  "97",
] as const;

/** A status code the trailer counts. */
export type TrailerStatusCode = (typeof TRAILER_STATUS_CODES)[number];

type StatusTotalKey = `totalStatusCode${TrailerStatusCode}`;

/** Trailer record: totals over the file's base segments. */
export type TrailerRecord = {
  /** Record Descriptor Word, `0426`. */
  recordDescriptorWord: number;
  /** Constant `TRAILER`. */
  recordIdentifier: string;
  /** Number of base segments. */
  totalBaseRecords: number;
  /** Reserved (blank). */
  reserved1: string;
  /** Total of status code DF (obsolete, zero). */
  totalStatusCodeDF: number;
  /** Totals of J1 / J2 segments (none written: zero). */
  totalConsumerSegmentsJ1: number;
  totalConsumerSegmentsJ2: number;
  /** Block count: every record of this unblocked file is its own block — header + base segments + trailer. */
  blockCount: number;
  /** Total of ECOA code Z. */
  totalEcoaCodeZ: number;
  /** Totals of employment, original creditor, purchased-from, mortgage, payment information and change segments. */
  totalEmploymentSegments: number;
  totalOriginalCreditorSegments: number;
  totalPurchasedToSegments: number;
  totalMortgageInformationSegments: number;
  totalPaymentInformationSegments: number;
  totalChangeSegments: number;
  /** Social security numbers reported (not zero- or 9-filled). */
  totalSocialNumbersAllSegments: number;
  totalSocialNumbersBaseSegments: number;
  totalSocialNumbersJ1Segments: number;
  totalSocialNumbersJ2Segments: number;
  /** Dates of birth reported. */
  totalDatesBirthAllSegments: number;
  totalDatesBirthBaseSegments: number;
  totalDatesBirthJ1Segments: number;
  totalDatesBirthJ2Segments: number;
  /** Telephone numbers reported. */
  totalTelephoneNumbersAllSegments: number;
  /** Reserved (blank). */
  reserved2: string;
} & Record<StatusTotalKey, number>;

const TRAILER_LAYOUT = layout<keyof TrailerRecord>([
  ["recordDescriptorWord", 1, 4, "N"],
  ["recordIdentifier", 5, 7, "A"],
  ["totalBaseRecords", 12, 9, "N"],
  ["reserved1", 21, 9, "A"],
  ["totalStatusCodeDF", 30, 9, "N"],
  ["totalConsumerSegmentsJ1", 39, 9, "N"],
  ["totalConsumerSegmentsJ2", 48, 9, "N"],
  ["blockCount", 57, 9, "N"],
  ...TRAILER_STATUS_CODES.map((code, i) => [`totalStatusCode${code}`, 66 + 9 * i, 9, "N"] as const),
  ["totalEcoaCodeZ", 264, 9, "N"],
  ["totalEmploymentSegments", 273, 9, "N"],
  ["totalOriginalCreditorSegments", 282, 9, "N"],
  ["totalPurchasedToSegments", 291, 9, "N"],
  ["totalMortgageInformationSegments", 300, 9, "N"],
  ["totalPaymentInformationSegments", 309, 9, "N"],
  ["totalChangeSegments", 318, 9, "N"],
  ["totalSocialNumbersAllSegments", 327, 9, "N"],
  ["totalSocialNumbersBaseSegments", 336, 9, "N"],
  ["totalSocialNumbersJ1Segments", 345, 9, "N"],
  ["totalSocialNumbersJ2Segments", 354, 9, "N"],
  ["totalDatesBirthAllSegments", 363, 9, "N"],
  ["totalDatesBirthBaseSegments", 372, 9, "N"],
  ["totalDatesBirthJ1Segments", 381, 9, "N"],
  ["totalDatesBirthJ2Segments", 390, 9, "N"],
  ["totalTelephoneNumbersAllSegments", 399, 9, "N"],
  ["reserved2", 408, 19, "A"],
]);

/** The layouts, exported for tests that check positions and coverage. */
export const LAYOUTS = { header: HEADER_LAYOUT, base: BASE_LAYOUT, trailer: TRAILER_LAYOUT } as const;

/** Writes a header record (426 characters). */
export function writeHeader(h: HeaderRecord): string {
  return encodeRecord(
    "Header Record",
    HEADER_LAYOUT,
    RECORD_LENGTH,
    h as unknown as Record<keyof HeaderRecord, FieldValue>,
  );
}

/** Parses a header record by field position. */
export function parseHeader(line: string): HeaderRecord {
  return decodeRecord("Header Record", HEADER_LAYOUT, RECORD_LENGTH, line) as unknown as HeaderRecord;
}

/** Writes a base segment (426 characters). */
export function writeBase(b: BaseSegment): string {
  return encodeRecord(
    "Base Segment",
    BASE_LAYOUT,
    RECORD_LENGTH,
    b as unknown as Record<keyof BaseSegment, FieldValue>,
  );
}

/** Parses a base segment by field position. */
export function parseBase(line: string): BaseSegment {
  return decodeRecord("Base Segment", BASE_LAYOUT, RECORD_LENGTH, line) as unknown as BaseSegment;
}

/** Writes a trailer record (426 characters). */
export function writeTrailer(t: TrailerRecord): string {
  return encodeRecord(
    "Trailer Record",
    TRAILER_LAYOUT,
    RECORD_LENGTH,
    t as unknown as Record<keyof TrailerRecord, FieldValue>,
  );
}

/** Parses a trailer record by field position. */
export function parseTrailer(line: string): TrailerRecord {
  return decodeRecord("Trailer Record", TRAILER_LAYOUT, RECORD_LENGTH, line) as unknown as TrailerRecord;
}

/** The trailer for a set of base segments: counts per status code and total base records. */
export function trailerFor(bases: readonly BaseSegment[]): TrailerRecord {
  const t = {
    recordDescriptorWord: RDW,
    recordIdentifier: "TRAILER",
    totalBaseRecords: bases.length,
    reserved1: "",
    totalStatusCodeDF: 0,
    totalConsumerSegmentsJ1: 0,
    totalConsumerSegmentsJ2: 0,
    blockCount: bases.length + 2,
    totalEcoaCodeZ: bases.filter((b) => b.ecoaCode === "Z").length,
    totalEmploymentSegments: 0,
    totalOriginalCreditorSegments: 0,
    totalPurchasedToSegments: 0,
    totalMortgageInformationSegments: 0,
    totalPaymentInformationSegments: 0,
    totalChangeSegments: 0,
    totalSocialNumbersAllSegments: bases.filter((b) => isReportedSsn(b.socialSecurityNumber)).length,
    totalSocialNumbersBaseSegments: bases.filter((b) => isReportedSsn(b.socialSecurityNumber)).length,
    totalSocialNumbersJ1Segments: 0,
    totalSocialNumbersJ2Segments: 0,
    totalDatesBirthAllSegments: bases.filter((b) => b.dateBirth !== null).length,
    totalDatesBirthBaseSegments: bases.filter((b) => b.dateBirth !== null).length,
    totalDatesBirthJ1Segments: 0,
    totalDatesBirthJ2Segments: 0,
    totalTelephoneNumbersAllSegments: bases.filter((b) => b.telephoneNumber !== 0).length,
    reserved2: "",
  } as TrailerRecord;
  for (const code of TRAILER_STATUS_CODES)
    t[`totalStatusCode${code}`] = bases.filter((b) => b.accountStatus === code).length;
  return t;
}

/** True for an SSN that is reported: not zero- or 9-filled (CRRG: how a consumer without an SSN is reported). */
export function isReportedSsn(ssn: number): boolean {
  return ssn !== 0 && ssn !== 999_999_999;
}
