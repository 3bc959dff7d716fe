/**
 * Fixed-width field codec for Metro 2 character-format records. A layout lists
 * each field by its 1-based start position and length, as the CDIA Credit
 * Reporting Resource Guide (CRRG) prints them; the same layout both writes and
 * parses a record, so bytes → record → bytes is the identity.
 *
 * Field kinds (CRRG conventions):
 * - `A` alphanumeric: left-justified, blank-filled; unused = blanks.
 * - `N` numeric: right-justified, zero-filled; whole currency units only.
 * - `D` date `MMDDYYYY`; not applicable = zero-filled (`00000000`).
 * - `T` timestamp `MMDDYYYYHHMMSS`.
 */
import { isLocalDate, type LocalDate } from "@whiteslip/core";

/** One field of a fixed-width record. */
export interface FieldSpec<K extends string> {
  /** Property name on the typed record. */
  readonly key: K;
  /** 1-based start position, as in the CRRG. */
  readonly start: number;
  /** Length in characters. */
  readonly length: number;
  /** Field kind: alphanumeric, numeric, date or timestamp. */
  readonly kind: "A" | "N" | "D" | "T";
}

/** The value type of each field kind: text, a whole number, a date or null, a local date-time `YYYY-MM-DDTHH:MM:SS`. */
export type FieldValue = string | number | LocalDate | null;

/** Raised when a record cannot be written or parsed; names the field and the record, like moov-io/metro2's errors. */
export class Metro2FormatError extends Error {
  override readonly name = "Metro2FormatError";
  constructor(
    readonly record: string,
    readonly field: string,
    detail: string,
  ) {
    super(`${field} in ${record} has an invalid value: ${detail}`);
  }
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** Writes one field's value as exactly `length` characters. */
export function encodeField(record: string, spec: FieldSpec<string>, value: FieldValue): string {
  const bad = (d: string) => new Metro2FormatError(record, spec.key, d);
  switch (spec.kind) {
    case "A": {
      const s = value === null ? "" : String(value);
      if (!PRINTABLE_ASCII.test(s)) throw bad("not printable ASCII");
      if (s.length > spec.length) throw bad(`longer than ${spec.length} characters`);
      return s.padEnd(spec.length, " ");
    }
    case "N": {
      const n = value === null ? 0 : value;
      if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0)
        throw bad(`not a whole non-negative number: ${String(n)}`);
      const s = String(n);
      if (s.length > spec.length) throw bad(`more than ${spec.length} digits`);
      return s.padStart(spec.length, "0");
    }
    case "D": {
      if (value === null || value === "") return "0".repeat(spec.length);
      if (typeof value !== "string" || !isLocalDate(value)) throw bad(`not a date: ${String(value)}`);
      return `${value.slice(5, 7)}${value.slice(8, 10)}${value.slice(0, 4)}`;
    }
    case "T": {
      if (value === null || value === "") return "0".repeat(spec.length);
      const m =
        typeof value === "string" ? /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(value) : null;
      if (!m || !isLocalDate(`${m[1]}-${m[2]}-${m[3]}`)) throw bad(`not a timestamp: ${String(value)}`);
      return `${m[2]}${m[3]}${m[1]}${m[4]}${m[5]}${m[6]}`;
    }
  }
}

/** Reads one field from its characters; the inverse of {@link encodeField} for every value the writer accepts. */
export function decodeField(record: string, spec: FieldSpec<string>, text: string): FieldValue {
  const bad = (d: string) => new Metro2FormatError(record, spec.key, d);
  switch (spec.kind) {
    case "A":
      return text.replace(/ +$/, "");
    case "N":
      if (!/^\d+$/.test(text)) throw bad(`not numeric: ${JSON.stringify(text)}`);
      return Number(text);
    case "D": {
      if (/^0+$/.test(text)) return null;
      const date = `${text.slice(4, 8)}-${text.slice(0, 2)}-${text.slice(2, 4)}`;
      if (!isLocalDate(date)) throw bad(`not a MMDDYYYY date: ${JSON.stringify(text)}`);
      return date;
    }
    case "T": {
      if (/^0+$/.test(text)) return null;
      const date = `${text.slice(4, 8)}-${text.slice(0, 2)}-${text.slice(2, 4)}`;
      if (!isLocalDate(date) || !/^\d{6}$/.test(text.slice(8)))
        throw bad(`not a MMDDYYYYHHMMSS timestamp: ${JSON.stringify(text)}`);
      return `${date}T${text.slice(8, 10)}:${text.slice(10, 12)}:${text.slice(12, 14)}`;
    }
  }
}

/** Writes a whole record by its layout; the result is exactly `recordLength` characters. */
export function encodeRecord<K extends string>(
  name: string,
  layout: readonly FieldSpec<K>[],
  recordLength: number,
  values: Readonly<Record<K, FieldValue>>,
): string {
  let out = "";
  for (const spec of layout) {
    if (out.length !== spec.start - 1)
      throw new Metro2FormatError(name, spec.key, `layout gap before position ${spec.start}`);
    out += encodeField(name, spec, values[spec.key]);
  }
  if (out.length !== recordLength)
    throw new Metro2FormatError(name, "layout", `record is ${out.length} long, not ${recordLength}`);
  return out;
}

/** Parses a whole record by its layout (fields by position). */
export function decodeRecord<K extends string>(
  name: string,
  layout: readonly FieldSpec<K>[],
  recordLength: number,
  line: string,
): Record<K, FieldValue> {
  if (line.length !== recordLength)
    throw new Metro2FormatError(name, "length", `record is ${line.length} long, not ${recordLength}`);
  const out = {} as Record<K, FieldValue>;
  for (const spec of layout) {
    out[spec.key] = decodeField(name, spec, line.slice(spec.start - 1, spec.start - 1 + spec.length));
  }
  return out;
}

/** Builds a layout from `[key, start, length, kind]` rows. */
export function layout<K extends string>(
  rows: readonly (readonly [K, number, number, FieldSpec<K>["kind"]])[],
): FieldSpec<K>[] {
  return rows.map(([key, start, length, kind]) => ({ key, start, length, kind }));
}
