/** What a run prints and draws: a table, one RESULT line per arm, an HTML chart (inline SVG) of buckets over time. */
import { twoProportionZ, wilson } from "../../../services/collections/src/domain/significance";
import type { ArmResult } from "./simulate";

// the statistics are collections' own (GetCollectionsStats uses the same functions), so a simulated arm and a
// production arm are judged alike
export { twoProportionZ, wilson };

const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);
export const cureRate = (r: ArmResult): number => ratio(r.cured, r.cases);
export const rollRate = (r: ArmResult): number => ratio(r.rolled, r.rollEligible);

/** The exact line the issue asks for, one per strategy. */
export function resultLine(r: ArmResult): string {
  return `RESULT simulate strategy=${r.strategyId} accounts=${r.accounts} cure_rate=${cureRate(r).toFixed(4)} roll_rate=${rollRate(r).toFixed(4)} collected_fen=${r.collectedFen} cost_fen=${r.costFen}`;
}

const yuan = (f: bigint): string => `${f / 100n}.${String(f % 100n).padStart(2, "0")}`;

/** A plain-text table; challengers carry a z-test of their cure rate against the champion's. */
export function table(results: readonly ArmResult[]): string {
  const champ = results[0]!;
  const head = ["strategy", "accounts", "cases", "cure_rate (95% CI)", "z (p) vs champion", "roll M1→M2", "promises kept", "contacts", "held by cap", "collected ¥", "cost ¥", "cost/case ¥"];
  const rows = results.map((r, i) => {
    const { low: lo, high: hi } = wilson(r.cured, r.cases);
    const t = twoProportionZ(r.cured, r.cases, champ.cured, champ.cases);
    const z = i === 0 ? "—" : `${t.z.toFixed(2)} (${t.pValue.toFixed(3)})`;
    return [
      r.strategyId,
      String(r.accounts),
      String(r.cases),
      `${cureRate(r).toFixed(3)} (${lo.toFixed(3)}–${hi.toFixed(3)})`,
      z,
      `${rollRate(r).toFixed(3)} (${r.rolled}/${r.rollEligible})`,
      `${r.promisesKept}/${r.promises}`,
      String(r.contacts),
      String(r.heldByCap),
      yuan(r.collectedFen),
      yuan(r.costFen),
      r.cases === 0 ? "0.00" : yuan(r.costFen / BigInt(r.cases)),
    ];
  });
  const w = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) => cells.map((s, c) => s.padEnd(w[c]!)).join("  ");
  return [line(head), line(w.map((n) => "-".repeat(n))), ...rows.map(line)].join("\n");
}

const COLORS = { m1: "#f2c14e", m2: "#f78154", m3: "#b33f40", m4plus: "#4d1a2a" } as const;

/** A self-contained HTML page: per arm, the share of accounts in M1, M2, M3, M4+ by day (inline SVG, no network). */
export function chartHtml(results: readonly ArmResult[], title: string): string {
  const W = 640;
  const H = 240;
  const pad = 40;
  const max = Math.max(0.01, ...results.flatMap((r) => r.series.map((s) => Math.max(s.m1, s.m2, s.m3, s.m4plus))));
  const svg = (r: ArmResult): string => {
    const n = Math.max(r.series.length - 1, 1);
    const x = (i: number) => pad + (i * (W - 2 * pad)) / n;
    const y = (v: number) => H - pad + (-v * (H - 2 * pad)) / max;
    const lines = (Object.keys(COLORS) as (keyof typeof COLORS)[])
      .map((k) => `<polyline fill="none" stroke="${COLORS[k]}" stroke-width="2" points="${r.series.map((s, i) => `${x(i).toFixed(1)},${y(s[k]).toFixed(1)}`).join(" ")}"><title>${k}</title></polyline>`)
      .join("");
    const ticks = [0, 0.5, 1].map((f) => `<text x="4" y="${y(max * f) + 4}" font-size="10">${(max * f * 100).toFixed(1)}%</text>`).join("");
    const first = r.series[0]?.date ?? "";
    const last = r.series.at(-1)?.date ?? "";
    return `<svg width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg" role="img"><title>${r.strategyId}: share of accounts in M1, M2, M3, M4+ per day</title><rect x="${pad}" y="${pad}" width="${W - 2 * pad}" height="${H - 2 * pad}" fill="none" stroke="#ccc"/>${ticks}<text x="${pad}" y="${H - 10}" font-size="10">${first}</text><text x="${W - pad - 60}" y="${H - 10}" font-size="10">${last}</text>${lines}</svg>`;
  };
  const legend = (Object.keys(COLORS) as (keyof typeof COLORS)[]).map((k) => `<span style="color:${COLORS[k]}">■ ${k === "m4plus" ? "M4+" : k.toUpperCase()}</span>`).join(" ");
  const body = results.map((r) => `<h2>${r.strategyId} — ${r.accounts} accounts</h2><p>${resultLine(r)}</p>${svg(r)}`).join("\n");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body style="font-family:sans-serif"><h1>${title}</h1><p>Share of each arm's accounts by delinquency bucket, per business day. ${legend}</p>${body}</body></html>\n`;
}
