/**
 * Business dates are calendar dates (ISO `YYYY-MM-DD`) in a business time zone,
 * Asia/Shanghai unless a product says otherwise. Arithmetic is on epoch days so
 * month ends and leap years need no special cases.
 */

/** An ISO calendar date, `YYYY-MM-DD`. */
export type LocalDate = string;

export const BUSINESS_TIME_ZONE = "Asia/Shanghai";

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/** True when `s` is a real calendar date in `YYYY-MM-DD` form. */
export function isLocalDate(s: string): boolean {
  const m = ISO_DATE.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

/** Days since 1970-01-01 for a date. Throws on a malformed date. */
export function toEpochDay(date: LocalDate): number {
  if (!isLocalDate(date)) throw new RangeError(`not a YYYY-MM-DD date: ${JSON.stringify(date)}`);
  return Date.parse(`${date}T00:00:00Z`) / DAY_MS;
}

/** The date `n` epoch days after 1970-01-01. */
export function fromEpochDay(n: number): LocalDate {
  return new Date(n * DAY_MS).toISOString().slice(0, 10);
}

/** `date` plus `days` (may be negative). */
export function addDays(date: LocalDate, days: number): LocalDate {
  return fromEpochDay(toEpochDay(date) + days);
}

/** Whole days from `from` to `to` (positive when `to` is later). */
export function daysBetween(from: LocalDate, to: LocalDate): number {
  return toEpochDay(to) - toEpochDay(from);
}

/** Day of month, 1–31. */
export function dayOfMonth(date: LocalDate): number {
  return Number(date.slice(8, 10));
}

/** Last day of the month of `date`. */
export function endOfMonth(date: LocalDate): LocalDate {
  const y = Number(date.slice(0, 4));
  const m = Number(date.slice(5, 7));
  return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
}

/**
 * The same day-of-month `months` later, clamped to the month's last day
 * (Jan 31 + 1 month = Feb 28/29).
 */
export function addMonths(date: LocalDate, months: number): LocalDate {
  const y = Number(date.slice(0, 4));
  const m = Number(date.slice(5, 7)) - 1 + months;
  const d = dayOfMonth(date);
  const last = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return new Date(Date.UTC(y, m, Math.min(d, last))).toISOString().slice(0, 10);
}

/** The date with day-of-month `day` in the month of `date` (clamped to the month's end). */
export function withDayOfMonth(date: LocalDate, day: number): LocalDate {
  const last = dayOfMonth(endOfMonth(date));
  return `${date.slice(0, 8)}${String(Math.min(day, last)).padStart(2, "0")}`;
}

/** Compares two dates: negative, zero or positive. */
export function compareDates(a: LocalDate, b: LocalDate): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * One formatter per (kind, zone), made once: constructing an `Intl.DateTimeFormat` costs tens of microseconds and
 * these run several times per message planned or dispatched (a due wave's planning spent most of its CPU there).
 * An unknown zone throws RangeError from the constructor, before anything is cached.
 */
const FORMATS = {
  date: ["en-CA", { year: "numeric", month: "2-digit", day: "2-digit" }],
  time: ["en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }],
  offset: [
    "en-US",
    { hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" },
  ],
} as const satisfies Record<string, readonly [string, Intl.DateTimeFormatOptions]>;
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(kind: keyof typeof FORMATS, timeZone: string): Intl.DateTimeFormat {
  const key = `${kind} ${timeZone}`;
  let f = formatters.get(key);
  if (!f) {
    const [locale, options] = FORMATS[kind];
    f = new Intl.DateTimeFormat(locale, { ...options, timeZone });
    formatters.set(key, f);
  }
  return f;
}

/** The calendar date of an instant in a time zone (default Asia/Shanghai). */
export function dateInZone(instant: Date, timeZone: string = BUSINESS_TIME_ZONE): LocalDate {
  const parts = formatter("date", timeZone).formatToParts(instant);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? "";
  return `${get("year")}-${get("month")}-${get("day")}`;
}

/** Wall-clock hour (0–23) and minute of an instant in a time zone. */
export function timeInZone(instant: Date, timeZone: string): { hour: number; minute: number } {
  const parts = formatter("time", timeZone).formatToParts(instant);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? "0");
  return { hour: get("hour"), minute: get("minute") };
}

/**
 * The instant at which the wall clock in `timeZone` shows `date` `hour:minute`.
 * Works for zones with DST by correcting once for the offset found at the guess.
 */
export function zonedInstant(date: LocalDate, hour: number, minute: number, timeZone: string): Date {
  const guess = Date.parse(`${date}T${pad(hour)}:${pad(minute)}:00Z`);
  const offset = zoneOffsetMs(new Date(guess), timeZone);
  const first = guess - offset;
  const offset2 = zoneOffsetMs(new Date(first), timeZone);
  return new Date(guess - offset2);
}

/** Offset of `timeZone` from UTC at `instant`, in milliseconds. */
export function zoneOffsetMs(instant: Date, timeZone: string): number {
  const parts = formatter("offset", timeZone).formatToParts(instant);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? "0");
  const asUtc = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return asUtc - Math.floor(instant.getTime() / 1000) * 1000;
}

/** True when `tz` is an IANA time zone this runtime knows. */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}
