/**
 * An independent Metro 2® (character format, 426 bytes) rule checker for tests, written from the field
 * definitions of the CDIA Credit Reporting Resource Guide (CRRG) as moov-io/metro2 states them
 * (pkg/lib/specifications.go: positions, lengths, required fields; pkg/lib/base_segment.go and validators.go:
 * valid values and cross-field rules; pkg/file/file_instance.go: trailer totals and block count) — read at
 * github.com/moov-io/metro2 (commit fe80ca7), not copied, and not sharing anything with our writer or parser:
 * it slices the raw record by the CRRG's 1-based positions typed in again here, so a wrong position in our
 * layout shows as a rule failure instead of agreeing with itself.
 *
 * Each rule returns messages of the form `<field> in <record>: <problem>`; an empty list = the record passes.
 */

/** 1-based start and length, as the CRRG prints them. */
type Pos = readonly [start: number, length: number];

const cut = (rec: string, [start, length]: Pos) => rec.slice(start - 1, start - 1 + length);
const blank = (s: string) => /^ *$/.test(s);
const zeros = (s: string) => /^0+$/.test(s);
const filled = (s: string) => /^(0+|9+| +)$/.test(s);
const numeric = (s: string) => /^\d+$/.test(s);
/** CRRG alphanumeric: printable ASCII; "alpha" fields upper case. */
const upperText = (s: string) => /^[ A-Z0-9!"#$%&'()*+,\-./:;<=>?@[\]^_{}|~]*$/.test(s);

/** MMDDYYYY → valid calendar date? */
function isDate(s: string): boolean {
  if (!/^\d{8}$/.test(s)) return false;
  const m = Number(s.slice(0, 2));
  const d = Number(s.slice(2, 4));
  const y = Number(s.slice(4, 8));
  const dt = new Date(Date.UTC(y, m - 1, d));
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === m - 1 && dt.getUTCDate() === d;
}
const isoOf = (mmddyyyy: string) => `${mmddyyyy.slice(4, 8)}-${mmddyyyy.slice(0, 2)}-${mmddyyyy.slice(2, 4)}`;

// --- Header record (CRRG "Header Record — Character Format") -------------------------------------------
const H = {
  rdw: [1, 4],
  recordIdentifier: [5, 6],
  cycle: [11, 2],
  activityDate: [48, 8],
  dateCreated: [56, 8],
  programDate: [64, 8],
  programRevisionDate: [72, 8],
  reporterName: [80, 40],
  reporterAddress: [120, 96],
  reporterTelephone: [216, 10],
  softwareVendor: [226, 40],
  reserved: [281, 146],
} as const satisfies Record<string, Pos>;

/** Rules of the header. */
export function checkHeader(rec: string): string[] {
  const out: string[] = [];
  const bad = (f: string, p: string) => out.push(`${f} in header: ${p}`);
  if (rec.length !== 426) return [`record in header: length ${rec.length}, not 426`];
  if (cut(rec, H.rdw) !== "0426") bad("record descriptor word", "must be 0426 (the record length)");
  if (cut(rec, H.recordIdentifier) !== "HEADER") bad("record identifier", "must be HEADER");
  for (const [f, p] of [["activity date", H.activityDate], ["date created", H.dateCreated]] as const) {
    const v = cut(rec, p);
    if (zeros(v) || blank(v)) bad(f, "is a required field");
    else if (!isDate(v)) bad(f, "must be MMDDYYYY");
  }
  for (const [f, p] of [["program date", H.programDate], ["program revision date", H.programRevisionDate]] as const) {
    const v = cut(rec, p);
    if (!zeros(v) && !isDate(v)) bad(f, "must be MMDDYYYY or zero-filled");
  }
  if (blank(cut(rec, H.reporterName))) bad("reporter name", "is a required field");
  if (blank(cut(rec, H.reporterAddress))) bad("reporter address", "is a required field");
  if (!numeric(cut(rec, H.reporterTelephone))) bad("reporter telephone number", "must be numeric");
  if (!upperText(cut(rec, H.reporterName)) || !upperText(cut(rec, H.reporterAddress)))
    bad("reporter name/address", "must be upper-case alphanumeric");
  if (!blank(cut(rec, H.reserved))) bad("reserved", "must be blank");
  return out;
}

// --- Base segment (CRRG "Base Segment — Character Format", fields 1–45) -----------------------------------
export const B = {
  rdw: [1, 4],
  processingIndicator: [5, 1],
  timeStamp: [6, 14],
  correctionIndicator: [20, 1],
  identificationNumber: [21, 20],
  cycle: [41, 2],
  consumerAccountNumber: [43, 30],
  portfolioType: [73, 1],
  accountType: [74, 2],
  dateOpened: [76, 8],
  creditLimit: [84, 9],
  highestCredit: [93, 9],
  termsDuration: [102, 3],
  termsFrequency: [105, 1],
  scheduledPayment: [106, 9],
  actualPayment: [115, 9],
  accountStatus: [124, 2],
  paymentRating: [126, 1],
  paymentHistoryProfile: [127, 24],
  specialComment: [151, 2],
  complianceCondition: [153, 2],
  currentBalance: [155, 9],
  amountPastDue: [164, 9],
  originalChargeOff: [173, 9],
  dateAccountInformation: [182, 8],
  dateFirstDelinquency: [190, 8],
  dateClosed: [198, 8],
  dateLastPayment: [206, 8],
  interestType: [214, 1],
  reserved: [215, 17],
  surname: [232, 25],
  firstName: [257, 20],
  middleName: [277, 20],
  generationCode: [297, 1],
  ssn: [298, 9],
  dateOfBirth: [307, 8],
  telephone: [315, 10],
  ecoa: [325, 1],
  consumerInformationIndicator: [326, 2],
  countryCode: [328, 2],
  firstLineAddress: [330, 32],
  secondLineAddress: [362, 32],
  city: [394, 20],
  state: [414, 2],
  zip: [416, 9],
  addressIndicator: [425, 1],
  residenceCode: [426, 1],
} as const satisfies Record<string, Pos>;

/** Account status codes of CRRG Exhibit 4. */
const STATUSES = new Set(["DA", "DF", "05", "11", "13", "61", "62", "63", "64", "65", "71", "78", "80", "82", "83", "84", "88", "89", "93", "94", "95", "96", "97"]);
/** Statuses that require a payment rating (field 17B); for all others it must be blank. */
const RATED = new Set(["05", "13", "65", "88", "89", "94", "95"]);
/** Statuses that require the date of first delinquency (CRRG field 25, hierarchy rule 1). */
const DELINQUENT = new Set(["61", "62", "63", "64", "65", "71", "78", "80", "82", "83", "84", "88", "89", "93", "94", "95", "96", "97"]);
/** The profile characters of CRRG field 18. */
const PROFILE = /^[0-6BDEGHJKLZ ]{24}$/;
/** Compliance condition codes (CRRG Exhibit 8). */
const COMPLIANCE = new Set(["", "XA", "XB", "XC", "XD", "XE", "XF", "XG", "XH", "XJ", "XR"]);
/** Days past due each delinquent status stands for, and the profile character it reports in the next month. */
const STATUS_BAND: Record<string, string> = { "71": "1", "78": "2", "80": "3", "82": "4", "83": "5", "84": "6", "97": "L" };

/** Rules of one base segment; `activityDate` is the header's (MMDDYYYY). */
export function checkBase(rec: string, activityDate: string): string[] {
  const out: string[] = [];
  const bad = (f: string, p: string) => out.push(`${f} in base segment: ${p}`);
  if (rec.length !== 426) return [`record in base segment: length ${rec.length}, not 426`];
  const v = (p: Pos) => cut(rec, p);
  if (v(B.rdw) !== "0426") bad("record descriptor word", "must be 0426");
  if (v(B.processingIndicator) !== "1") bad("processing indicator", "must be the constant 1");
  if (!/^\d{14}$/.test(v(B.timeStamp)) || !isDate(v(B.timeStamp).slice(0, 8))) bad("time stamp", "must be MMDDYYYYHHMMSS");
  if (!["0", "1"].includes(v(B.correctionIndicator))) bad("correction indicator", "must be 0 or 1");
  const idn = v(B.identificationNumber).trim();
  if (filled(v(B.identificationNumber)) || filled(idn) || idn.length < 5 || /\s/.test(idn))
    bad("identification number", "must be at least 5 characters, no embedded blanks, never zero, 9 or blank filled");
  const acct = v(B.consumerAccountNumber).trim();
  if (acct === "" || /\s/.test(acct)) bad("consumer account number", "is a required field without embedded blanks");
  if (!["C", "I", "M", "O", "R", "L"].includes(v(B.portfolioType))) bad("portfolio type", "has an invalid value");
  if (blank(v(B.accountType))) bad("account type", "is a required field");
  const opened = v(B.dateOpened);
  if (!isDate(opened)) bad("date opened", "is a required date (never zero or blank)");
  else if (isoOf(opened) > isoOf(activityDate)) bad("date opened", "must not be in the future");
  for (const [f, p] of [["credit limit", B.creditLimit], ["highest credit", B.highestCredit], ["scheduled monthly payment", B.scheduledPayment], ["actual payment", B.actualPayment], ["current balance", B.currentBalance], ["amount past due", B.amountPastDue], ["original charge-off amount", B.originalChargeOff]] as const)
    if (!numeric(v(p))) bad(f, "must be numeric, whole units, zero-filled");
  const portfolio = v(B.portfolioType);
  const terms = v(B.termsDuration);
  if (blank(terms)) bad("terms duration", "is a required field");
  else if (portfolio === "R" && terms !== "REV") bad("terms duration", "must be REV for a revolving account");
  if (!["D", "P", "W", "B", "E", "M", "L", "Q", "T", "S", "Y", " "].includes(v(B.termsFrequency))) bad("terms frequency", "has an invalid value");
  if (portfolio === "R" && zeros(v(B.creditLimit)) && v(B.accountStatus) !== "97") bad("credit limit", "a revolving account reports its assigned credit limit");
  const status = v(B.accountStatus);
  if (!STATUSES.has(status)) bad("account status", "has an invalid value");
  const rating = v(B.paymentRating);
  if (RATED.has(status) ? !/^[0-6GL]$/.test(rating) : rating !== " ")
    bad("payment rating", RATED.has(status) ? "is required with this status" : "must be blank with this status");
  const profile = v(B.paymentHistoryProfile);
  if (!PROFILE.test(profile)) bad("payment history profile", "must be 24 characters of 0-6, B, D, E, G, H, J, K, L, Z");
  else if (/B[^B]/.test(profile)) bad("payment history profile", "B (no history before) may not be embedded in other values");
  if (!COMPLIANCE.has(v(B.complianceCondition).trim())) bad("compliance condition code", "has an invalid value");
  if (!/^([A-Z ]{2})$/.test(v(B.specialComment))) bad("special comment", "must be a code or blank");
  if (status === "11" && !zeros(v(B.amountPastDue))) bad("amount past due", "must be zero when the status is current (11)");
  if (DELINQUENT.has(status) && zeros(v(B.amountPastDue)) && status !== "97") bad("amount past due", "a delinquent status reports the amount 30+ days past due");
  if (status === "97" && zeros(v(B.originalChargeOff))) bad("original charge-off amount", "is required with status 97");
  if (status !== "97" && status !== "64" && !zeros(v(B.originalChargeOff))) bad("original charge-off amount", "only with status 64 or 97");
  const dai = v(B.dateAccountInformation);
  if (!isDate(dai)) bad("date of account information", "is a required date");
  else if (isoOf(dai) > isoOf(activityDate)) bad("date of account information", "must not be a future date");
  else if (isoOf(dai).slice(0, 7) !== isoOf(activityDate).slice(0, 7)) bad("date of account information", "must be within the reporting month");
  const dofd = v(B.dateFirstDelinquency);
  if (DELINQUENT.has(status) && !isDate(dofd)) bad("date of first delinquency", "is required with a delinquent status (FCRA purge date)");
  if (status === "11" && !zeros(dofd)) bad("date of first delinquency", "must be zero-filled for a current account");
  if (isDate(dofd) && isDate(opened) && isoOf(dofd) < isoOf(opened)) bad("date of first delinquency", "must not be before the date opened");
  for (const [f, p] of [["date closed", B.dateClosed], ["date of last payment", B.dateLastPayment]] as const)
    if (!zeros(v(p)) && !isDate(v(p))) bad(f, "must be MMDDYYYY or zero-filled");
  if (!["F", "V", " "].includes(v(B.interestType))) bad("interest type indicator", "must be F, V or blank");
  if (!blank(v(B.reserved))) bad("reserved", "must be blank");
  // consumer name: required, upper case, only the hyphen as special character
  for (const [f, p, req] of [["surname", B.surname, true], ["first name", B.firstName, true], ["middle name", B.middleName, false]] as const) {
    const n = v(p);
    if (req && blank(n)) bad(f, "is a required field");
    else if (!/^[A-Z][A-Z -]*$|^ *$/.test(n)) bad(f, "must be upper-case letters, spaces or hyphens");
  }
  if (!/^[JS2-9 ]$/.test(v(B.generationCode))) bad("generation code", "has an invalid value");
  const ssn = v(B.ssn);
  const dob = v(B.dateOfBirth);
  if (!numeric(ssn)) bad("social security number", "must be numeric (zero- or 9-filled when the consumer has none)");
  const hasSsn = numeric(ssn) && !filled(ssn);
  if (!hasSsn && !isDate(dob) && !["2", "5"].includes(v(B.ecoa)))
    bad("social security number", "has an invalid value: with no SSN the date of birth is required");
  if (!zeros(dob) && !isDate(dob)) bad("date of birth", "must be MMDDYYYY or zero-filled");
  if (isDate(dob) && isoOf(dob) > isoOf(activityDate)) bad("date of birth", "must not be in the future");
  if (!numeric(v(B.telephone))) bad("telephone number", "must be numeric");
  else if (!zeros(v(B.telephone)) && !/^[2-9]\d{2}[2-9]\d{6}$/.test(v(B.telephone))) bad("telephone number", "must be area code + 7 digits");
  if (!/^[1235789TWXZ]$/.test(v(B.ecoa))) bad("ECOA code", "has an invalid value (0, 4, 6 are obsolete)");
  if (!/^[A-Z]{2}$/.test(v(B.countryCode))) bad("country code", "must be a two-letter country code");
  if (blank(v(B.firstLineAddress))) bad("first line of address", "is a required field");
  if (blank(v(B.city))) bad("city", "is a required field");
  if (!/^[A-Z]{2}$/.test(v(B.state))) bad("state", "is a required two-letter code");
  if (blank(v(B.zip))) bad("zip code", "is a required field");
  for (const [f, p] of [["first line of address", B.firstLineAddress], ["second line of address", B.secondLineAddress], ["city", B.city], ["zip code", B.zip]] as const)
    if (!upperText(v(p))) bad(f, "must be upper-case alphanumeric");
  if (/PLACEHOLDER/.test(rec)) bad("record", "carries a placeholder");
  if (!/^[CYNMSBUDP ]$/.test(v(B.addressIndicator))) bad("address indicator", "has an invalid value");
  if (!/^[OR ]$/.test(v(B.residenceCode))) bad("residence code", "has an invalid value");
  return out;
}

/** The profile character that the status of a month stands for (for checks across months). */
export const profileCharOfStatus = (status: string) => STATUS_BAND[status] ?? "0";

// --- Trailer record (CRRG "Trailer Record — Character Format") ------------------------------------------
const T = {
  rdw: [1, 4],
  recordIdentifier: [5, 7],
  totalBase: [12, 9],
  blockCount: [57, 9],
  statusDA: [66, 9],
  ecoaZ: [264, 9],
  ssnAll: [327, 9],
  ssnBase: [336, 9],
  dobAll: [363, 9],
  dobBase: [372, 9],
  telephoneAll: [399, 9],
  reserved: [408, 19],
} as const satisfies Record<string, Pos>;
/** Status totals in trailer order, each 9 digits from position 66. */
const TRAILER_STATUSES = ["DA", "05", "11", "13", "61", "62", "63", "64", "65", "71", "78", "80", "82", "83", "84", "88", "89", "93", "94", "95", "96", "97"];

/** Rules of the trailer against the bases it closes. */
export function checkTrailer(rec: string, bases: readonly string[]): string[] {
  const out: string[] = [];
  const bad = (f: string, p: string) => out.push(`${f} in trailer: ${p}`);
  if (rec.length !== 426) return [`record in trailer: length ${rec.length}, not 426`];
  const n = (p: Pos) => Number(cut(rec, p));
  if (cut(rec, T.rdw) !== "0426") bad("record descriptor word", "must be 0426");
  if (cut(rec, T.recordIdentifier) !== "TRAILER") bad("record identifier", "must be TRAILER");
  for (let pos = 12; pos <= 407; pos += 9) if (![21].includes(pos) && !numeric(rec.slice(pos - 1, pos + 8))) bad(`total at ${pos}`, "must be numeric");
  if (n(T.totalBase) !== bases.length) bad("total base records", `is ${n(T.totalBase)}, the file has ${bases.length}`);
  if (n(T.blockCount) === 0) bad("block count", "is a required field");
  else if (n(T.blockCount) !== bases.length + 2) bad("block count", `is ${n(T.blockCount)}, not header + ${bases.length} bases + trailer`);
  TRAILER_STATUSES.forEach((code, i) => {
    const want = bases.filter((b) => cut(b, B.accountStatus) === code).length;
    const got = Number(rec.slice(65 + 9 * i, 74 + 9 * i));
    if (got !== want) bad(`total status code ${code}`, `is ${got}, the bases have ${want}`);
  });
  const ssns = bases.filter((b) => !filled(cut(b, B.ssn))).length;
  const dobs = bases.filter((b) => !zeros(cut(b, B.dateOfBirth))).length;
  const phones = bases.filter((b) => !zeros(cut(b, B.telephone))).length;
  const ecoaZ = bases.filter((b) => cut(b, B.ecoa) === "Z").length;
  if (n(T.ssnAll) !== ssns || n(T.ssnBase) !== ssns) bad("total social security numbers", `must be ${ssns}`);
  if (n(T.dobAll) !== dobs || n(T.dobBase) !== dobs) bad("total dates of birth", `must be ${dobs}`);
  if (n(T.telephoneAll) !== phones) bad("total telephone numbers", `must be ${phones}`);
  if (n(T.ecoaZ) !== ecoaZ) bad("total ECOA code Z", `must be ${ecoaZ}`);
  if (!blank(cut(rec, T.reserved))) bad("reserved", "must be blank");
  return out;
}

/** Checks a whole file: records separated by `\n`, header first, trailer last. */
export function checkFile(bytes: Uint8Array): string[] {
  const text = new TextDecoder("ascii").decode(bytes);
  if (!text.endsWith("\n")) return ["file: the last record must end with a line feed"];
  const recs = text.slice(0, -1).split("\n");
  if (recs.length < 2) return ["file: needs a header and a trailer"];
  const header = recs[0]!;
  const bases = recs.slice(1, -1);
  const activity = cut(header, H.activityDate);
  return [...checkHeader(header), ...bases.flatMap((b) => checkBase(b, activity)), ...checkTrailer(recs.at(-1)!, bases)];
}

/** The base segments of a file, raw. */
export function rawBases(bytes: Uint8Array): string[] {
  return new TextDecoder("ascii").decode(bytes).slice(0, -1).split("\n").slice(1, -1);
}

/** A field of a raw base segment by its CRRG position. */
export const field = (rec: string, name: keyof typeof B) => cut(rec, B[name]);
