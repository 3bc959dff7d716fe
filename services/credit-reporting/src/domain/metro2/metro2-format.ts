/**
 * Metro 2 rendering of report lines: one header, one base segment per line,
 * one trailer. Choices (see README):
 * - portfolio type `R` (revolving), account type `07` (charge account: a
 *   revolving line for the furnisher's own goods, which is what 白条 is), terms
 *   `REV` monthly;
 * - amounts in whole yuan, cents truncated (the CRRG's whole-dollar rule);
 * - time stamp and date created derived from the as-of date (23:59:59), never
 *   the wall clock, so a file for a date is byte-identical when regenerated;
 * - no personal data: credit-reporting does not own names, ID numbers or
 *   addresses. The name fields carry placeholders and the customer id; a
 *   production feed would join credit's customer data (over gRPC) at render time.
 */
import { deterministicId, type LocalDate } from "@whiteslip/core";
import type { BureauFormat, Furnisher } from "../bureau-format";
import type { ReportLine } from "../bureau-view";
import { writeMetro2File } from "./file";
import { type BaseSegment, type HeaderRecord, RDW } from "./records";

/** Largest amount a 9-digit numeric field holds. */
const MAX_AMOUNT = 999_999_999;

/** Placeholder for name and address fields (see the module comment). */
export const PLACEHOLDER = "PLACEHOLDER";

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
    reporterName: f.name,
    reporterAddress: f.address,
    reporterTelephoneNumber: f.telephone === "" ? 0 : Number(f.telephone),
    softwareVendorName: "WHITESLIP",
    softwareVersionNumber: "1.0",
    prbcProgramIdentifier: "",
    reserved: "",
  };
}

/** The base segment of one report line. */
export function baseFor(line: ReportLine, f: Furnisher): BaseSegment {
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
    surname: PLACEHOLDER,
    firstName: fitId(line.customerId, 20),
    middleName: "",
    generationCode: "",
    socialSecurityNumber: 0,
    dateBirth: null,
    telephoneNumber: 0,
    ecoaCode: "1",
    consumerInformationIndicator: "",
    countryCode: "CN",
    firstLineAddress: PLACEHOLDER,
    secondLineAddress: "",
    city: PLACEHOLDER,
    state: "",
    zipCode: "",
    addressIndicator: "",
    residenceCode: "",
  };
}

/** The Metro 2 format. */
export const metro2Format: BureauFormat = {
  name: "METRO2",
  render({ asOf, lines, furnisher }) {
    return writeMetro2File(
      headerFor(asOf, furnisher),
      lines.map((l) => baseFor(l, furnisher)),
    );
  },
};
