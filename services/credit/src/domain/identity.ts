/**
 * Identity and contact validation for customer registration.
 *
 * Violation descriptions never echo the submitted value: names, ID numbers,
 * phones and emails are personal data and must not reach logs or error details.
 */
import { type FieldViolation, type LocalDate, isLocalDate } from "@whiteslip/core";

/**
 * ISO 7064 MOD 11-2 weights for the first 17 characters of a Chinese resident
 * identity number (GB 11643-1999 §7): W_i = 2^(17−i) mod 11.
 */
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
/** Check character for (Σ a_i·W_i) mod 11 = 0..10 (GB 11643-1999 §7). */
const CHECK_CHARS = "10X98765432";

/**
 * First two digits of the administrative division code (GB/T 2260): provinces,
 * autonomous regions, municipalities, plus 71 Taiwan, 81 Hong Kong, 82 Macao, 83
 * (residence permits for Taiwan residents, 2018).
 */
const PROVINCE_CODES = new Set([
  "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
  "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
  "71", "81", "82", "83",
]);

/** The oldest birth year accepted as plausible. */
const MIN_BIRTH_YEAR = 1900;

/** The MOD 11-2 check character for the first 17 digits of an ID number. */
export function nationalIdCheckChar(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * WEIGHTS[i]!;
  return CHECK_CHARS[sum % 11]!;
}

/** A parsed, valid resident identity number. */
export interface NationalId {
  /** Normalised form (upper-case `X`). */
  readonly value: string;
  /** Birth date encoded in positions 7–14. */
  readonly birthDate: LocalDate;
}

/**
 * Validates an 18-character Chinese resident identity number (GB 11643-1999):
 * 17 digits + check character (digit or `X`, lower-case `x` accepted), a known
 * province code, a real birth date between 1900 and `today`, and the ISO 7064
 * MOD 11-2 check character. Returns the parsed id or the violations on `field`.
 */
export function parseNationalId(
  raw: string,
  today: LocalDate,
  field = "national_id",
): { ok: true; id: NationalId } | { ok: false; violations: FieldViolation[] } {
  const bad = (description: string) => ({ ok: false as const, violations: [{ field, description }] });
  const value = raw.trim().toUpperCase();
  if (value.length === 0) return bad("is required");
  if (!/^\d{17}[\dX]$/.test(value)) return bad("must be 18 characters: 17 digits and a check digit (0-9 or X)");
  if (!PROVINCE_CODES.has(value.slice(0, 2))) return bad("region code (first 2 digits) is not a known province code");
  const birth = `${value.slice(6, 10)}-${value.slice(10, 12)}-${value.slice(12, 14)}`;
  if (!isLocalDate(birth)) return bad("birth date (digits 7-14) is not a calendar date");
  if (Number(birth.slice(0, 4)) < MIN_BIRTH_YEAR || birth > today) {
    return bad(`birth date (digits 7-14) must be between ${MIN_BIRTH_YEAR} and today`);
  }
  if (nationalIdCheckChar(value) !== value[17]) return bad("check digit does not match (ISO 7064 MOD 11-2)");
  return { ok: true, id: { value, birthDate: birth } };
}

/** Age in whole years on `today` for someone born on `birthDate`. */
export function ageOn(birthDate: LocalDate, today: LocalDate): number {
  const years = Number(today.slice(0, 4)) - Number(birthDate.slice(0, 4));
  return today.slice(5) < birthDate.slice(5) ? years - 1 : years;
}

const E164 = /^\+[1-9]\d{6,14}$/;
/** Mainland China mobile numbers: +86 1[3-9]x xxxx xxxx (MIIT numbering plan). */
const CN_MOBILE = /^\+861[3-9]\d{9}$/;

/**
 * Validates a phone number in E.164 form; a +86 number must be a mainland
 * mobile number (the product texts reminders). Returns the violations on `field`.
 */
export function validatePhone(raw: string, field = "phone"): FieldViolation[] {
  const v = raw.trim();
  if (v.length === 0) return [{ field, description: "is required" }];
  if (!E164.test(v)) return [{ field, description: "must be in E.164 form, e.g. +8613800138000" }];
  if (v.startsWith("+86") && !CN_MOBILE.test(v)) {
    return [{ field, description: "a +86 number must be a mobile number: +861 then [3-9] and 9 digits" }];
  }
  return [];
}

/** Pragmatic RFC 5321/5322 subset: dot-atom local part, a domain with a dot and a 2+ letter TLD. */
const EMAIL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

/** Validates an email address (≤ 254 characters, local part ≤ 64, RFC 5321 §4.5.3.1). */
export function validateEmail(raw: string, field = "email"): FieldViolation[] {
  const v = raw.trim();
  if (v.length === 0) return [{ field, description: "is required" }];
  const at = v.lastIndexOf("@");
  if (v.length > 254 || at > 64 || !EMAIL.test(v)) {
    return [{ field, description: "is not a valid email address" }];
  }
  return [];
}

/** Validates a person's name: 1–64 characters, no control characters. */
export function validateName(raw: string, field = "name"): FieldViolation[] {
  const v = raw.trim();
  if (v.length === 0) return [{ field, description: "is required" }];
  if ([...v].length > 64) return [{ field, description: "must be at most 64 characters" }];
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(v)) return [{ field, description: "must not contain control characters" }];
  return [];
}

/** A registration whose fields passed validation, normalised. */
export interface ValidRegistration {
  readonly name: string;
  readonly nationalId: NationalId;
  readonly phone: string;
  readonly email: string;
}

/** Validates all registration fields at once; every bad field is reported. */
export function validateRegistration(
  input: { name: string; nationalId: string; phone: string; email: string },
  today: LocalDate,
): { ok: true; value: ValidRegistration } | { ok: false; violations: FieldViolation[] } {
  const violations: FieldViolation[] = [];
  violations.push(...validateName(input.name));
  const id = parseNationalId(input.nationalId, today);
  if (!id.ok) violations.push(...id.violations);
  violations.push(...validatePhone(input.phone));
  violations.push(...validateEmail(input.email));
  if (violations.length > 0 || !id.ok) return { ok: false, violations };
  return {
    ok: true,
    value: { name: input.name.trim(), nationalId: id.id, phone: input.phone.trim(), email: input.email.trim().toLowerCase() },
  };
}

/** `1101**********1234`: region prefix and last four kept (the form in the RegisterCustomer contract). */
export function maskNationalId(id: string): string {
  return id.length < 8 ? "*".repeat(id.length) : `${id.slice(0, 4)}${"*".repeat(id.length - 8)}${id.slice(-4)}`;
}

/** `+86138****8000`: country code, first three digits and last four kept. */
export function maskPhone(phone: string): string {
  if (phone.length < 10) return "*".repeat(phone.length);
  const head = phone.startsWith("+86") ? 6 : 4;
  return `${phone.slice(0, head)}${"*".repeat(phone.length - head - 4)}${phone.slice(-4)}`;
}

/** Province-level divisions of China, ISO 3166-2:CN (2017 edition) codes without the `CN-` prefix. */
export const CN_PROVINCE_CODES: ReadonlySet<string> = new Set([
  "AH", "BJ", "CQ", "FJ", "GD", "GS", "GX", "GZ", "HA", "HB", "HE", "HI", "HK", "HL", "HN", "JL", "JS",
  "JX", "LN", "MO", "NM", "NX", "QH", "SC", "SD", "SH", "SN", "SX", "TJ", "TW", "XJ", "XZ", "YN", "ZJ",
]);

/** A mailing address as registered (personal data). */
export interface PostalAddress {
  readonly line1: string;
  readonly line2: string;
  readonly city: string;
  /** ISO 3166-2:CN code without the prefix (`BJ`). */
  readonly provinceCode: string;
  readonly postalCode: string;
  /** ISO 3166-1 alpha-2 (`CN`). */
  readonly countryCode: string;
}

/**
 * Validates an optional mailing address: none at all is fine (undefined); a given one needs line 1 (≤ 64), city
 * (≤ 40), a province code of ISO 3166-2:CN and a 6-digit postal code (the product is sold in mainland China;
 * another country is refused until a market needs it). Returns the normalised address or the violations.
 */
export function validateAddress(
  raw: { line1: string; line2: string; city: string; provinceCode: string; postalCode: string; countryCode: string } | undefined,
  field = "address",
): { ok: true; value: PostalAddress | undefined } | { ok: false; violations: FieldViolation[] } {
  if (!raw) return { ok: true, value: undefined };
  const v = {
    line1: raw.line1.trim(),
    line2: raw.line2.trim(),
    city: raw.city.trim(),
    provinceCode: raw.provinceCode.trim().toUpperCase(),
    postalCode: raw.postalCode.trim(),
    countryCode: (raw.countryCode.trim() || "CN").toUpperCase(),
  };
  const violations: FieldViolation[] = [];
  const bad = (f: string, description: string) => violations.push({ field: `${field}.${f}`, description });
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  const control = /[\u0000-\u001f\u007f]/;
  if (v.line1 === "") bad("line1", "is required");
  else if ([...v.line1].length > 64 || control.test(v.line1)) bad("line1", "must be at most 64 characters, no control characters");
  if ([...v.line2].length > 64 || control.test(v.line2)) bad("line2", "must be at most 64 characters, no control characters");
  if (v.city === "") bad("city", "is required");
  else if ([...v.city].length > 40 || control.test(v.city)) bad("city", "must be at most 40 characters, no control characters");
  if (v.countryCode !== "CN") bad("country_code", "must be CN (the product is offered in mainland China)");
  if (!CN_PROVINCE_CODES.has(v.provinceCode)) bad("province_code", "must be an ISO 3166-2:CN province code without the CN- prefix, e.g. BJ");
  if (!/^\d{6}$/.test(v.postalCode)) bad("postal_code", "must be 6 digits");
  return violations.length > 0 ? { ok: false, violations } : { ok: true, value: v };
}
