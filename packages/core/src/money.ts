/**
 * Money is an integer count of fen (CNY minor unit, 1/100 yuan) held in a
 * `bigint`. Never a float. Rates are given in parts-per-million (ppm) so that
 * 0.05%/day = 500 ppm and 5% = 50_000 ppm stay integers.
 */

/** Amount in fen. */
export type Fen = bigint;

export const PPM = 1_000_000n;

/** `amount × numerator / denominator`, rounded half away from zero. */
export function mulDivRound(amount: bigint, numerator: bigint, denominator: bigint): bigint {
  if (denominator === 0n) throw new RangeError("division by zero");
  const product = amount * numerator;
  const negative = product < 0n !== denominator < 0n;
  const p = product < 0n ? -product : product;
  const d = denominator < 0n ? -denominator : denominator;
  const q = (p + d / 2n) / d;
  return negative ? -q : q;
}

/** `amount × ppm / 1e6`, rounded half away from zero. */
export function applyPpm(amount: Fen, ppm: bigint | number): Fen {
  return mulDivRound(amount, BigInt(ppm), PPM);
}

export function minFen(...xs: Fen[]): Fen {
  return xs.reduce((a, b) => (b < a ? b : a));
}

export function maxFen(...xs: Fen[]): Fen {
  return xs.reduce((a, b) => (b > a ? b : a));
}

export function sumFen(xs: Iterable<Fen>): Fen {
  let s = 0n;
  for (const x of xs) s += x;
  return s;
}

/** `¥1,234.56` (negative as `-¥1,234.56`). */
export function formatCny(fen: Fen): string {
  const negative = fen < 0n;
  const abs = negative ? -fen : fen;
  const yuan = (abs / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const cents = (abs % 100n).toString().padStart(2, "0");
  return `${negative ? "-" : ""}¥${yuan}.${cents}`;
}

/** Parses `1234.56` / `¥1,234.56` into fen; throws on more than two decimals. */
export function parseCny(text: string): Fen {
  const m = /^(-)?¥?([\d,]+)(?:\.(\d{1,2}))?$/.exec(text.trim());
  if (!m) throw new RangeError(`not a CNY amount: ${JSON.stringify(text)}`);
  const yuan = BigInt(m[2]!.replaceAll(",", ""));
  const cents = BigInt((m[3] ?? "0").padEnd(2, "0"));
  const v = yuan * 100n + cents;
  return m[1] ? -v : v;
}
