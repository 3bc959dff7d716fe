/**
 * The consumer's identity as a bureau file needs it. credit-reporting owns none of it: credit holds it encrypted
 * and discloses it over GetReportingIdentities when a file is rendered; it lives in memory for the rendering and
 * then only inside the encrypted file (adapters/mongo-files.ts).
 */
import type { LocalDate } from "@whiteslip/core";

/** Kinds of identification number. The product holds Chinese resident identity numbers only; `US_SSN` is what a US product would hold. */
export type IdType = "CN_RESIDENT_ID" | "US_SSN";

/** A mailing address. */
export interface ConsumerAddress {
  readonly line1: string;
  readonly line2: string;
  readonly city: string;
  /** Province / state code: ISO 3166-2:CN without `CN-` (`BJ`), or a USPS state code. */
  readonly provinceCode: string;
  readonly postalCode: string;
  /** ISO 3166-1 alpha-2. */
  readonly countryCode: string;
}

/** One consumer (personal data: never log it, never store it in clear). */
export interface ConsumerIdentity {
  readonly accountId: string;
  readonly customerId: string;
  /** Full name as registered. */
  readonly name: string;
  readonly idType: IdType;
  readonly idNumber: string;
  readonly dateOfBirth: LocalDate;
  /** E.164. */
  readonly phone: string;
  readonly address: ConsumerAddress | null;
}
