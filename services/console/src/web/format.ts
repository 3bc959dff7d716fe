/**
 * Formatting for the page: money from fen strings (the JSON form of int64) without floats, instants in
 * Asia/Shanghai, rates as percentages, enum names as short words.
 */

/** The business time zone every date is shown in. */
export const DISPLAY_TIME_ZONE = "Asia/Shanghai";

/** UI languages. */
export type Lang = "zh-CN" | "en";

/** `¥1,234.56` from fen (a bigint, an integer string as toJson gives int64, or a safe integer); `—` when absent. */
export function formatFen(fen: string | bigint | number | null | undefined): string {
  if (fen === null || fen === undefined || fen === "") return "—";
  let v: bigint;
  try {
    v = typeof fen === "bigint" ? fen : BigInt(fen);
  } catch {
    return "—";
  }
  const negative = v < 0n;
  const abs = negative ? -v : v;
  const yuan = (abs / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const cents = (abs % 100n).toString().padStart(2, "0");
  return `${negative ? "-" : ""}¥${yuan}.${cents}`;
}

/** Yuan as a number for chart axes only (display values go through formatFen). */
export function fenToYuanNumber(fen: string | bigint | null | undefined): number {
  if (fen === null || fen === undefined || fen === "") return 0;
  const v = typeof fen === "bigint" ? fen : BigInt(fen);
  return Number(v / 100n) + Number(v % 100n) / 100;
}

/** Date and time of an instant (RFC 3339 string) in Asia/Shanghai: `2026-04-03 22:30` (en) / `2026/04/03 22:30` (zh). */
export function formatInstant(iso: string | null | undefined, lang: Lang): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "—";
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: DISPLAY_TIME_ZONE,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(d);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? "";
  const sep = lang === "zh-CN" ? "/" : "-";
  return `${get("year")}${sep}${get("month")}${sep}${get("day")} ${get("hour")}:${get("minute")}`;
}

/** A business date (`YYYY-MM-DD`, already in Asia/Shanghai): `2026-04-03` (en) / `2026年4月3日` (zh). */
export function formatBusinessDate(date: string | null | undefined, lang: Lang): string {
  if (!date) return "—";
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return date;
  return lang === "zh-CN" ? `${m[1]}年${Number(m[2])}月${Number(m[3])}日` : date;
}

/** A 0–1 rate as `12.3%`. */
export function formatRate(rate: number | null | undefined, digits = 1): string {
  if (rate === null || rate === undefined || Number.isNaN(rate)) return "—";
  return `${(rate * 100).toFixed(digits)}%`;
}

/** Enum name without its type prefix: `DELINQUENCY_BUCKET_M1` → `M1`, `CONTACT_OUTCOME_NO_ANSWER` → `NO_ANSWER`. */
export function shortEnum(name: string | null | undefined, prefix: string): string {
  if (!name) return "";
  return name.startsWith(prefix) ? name.slice(prefix.length) : name;
}

/** `NO_ANSWER` → `No answer`. */
export function humanize(code: string): string {
  if (!code) return "";
  const s = code.replaceAll("_", " ").toLowerCase();
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Converts a yuan text typed by a user (`1234.5`, `¥1,234.50`) to fen as a string; null when not an amount. */
export function yuanTextToFen(text: string): string | null {
  const m = /^¥?\s*([\d,]+)(?:\.(\d{1,2}))?$/.exec(text.trim());
  if (!m) return null;
  const yuan = BigInt(m[1]!.replaceAll(",", ""));
  const cents = BigInt((m[2] ?? "0").padEnd(2, "0"));
  return (yuan * 100n + cents).toString();
}
