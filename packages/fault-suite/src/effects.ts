/**
 * Effects of a scripted workload and their comparison with a fault-free run.
 *
 * An effect is a key (what happened, to what: `statement acc-0009:2027-03-10`,
 * `whiteslip.billing.overdue.v1 <ce_id>`, `EMAIL c9@example.com Payment due …`) and how often it
 * happened. The fault-free run of the same script (same seed, same dates, same ids) gives the
 * expected multiset; a run with a fault gives the seen one. Per key: lost = expected − seen when
 * positive, duplicated = seen − expected when positive (an effect the fault-free run never had
 * counts as duplicated too: it happened more often than it should, e.g. a day closed early).
 */

/** Kinds of effect, each read from where it lives (see observe.ts). */
export const EFFECT_KINDS = ["ledger", "events", "cases", "scores", "messages", "authorizations"] as const;
export type EffectKind = (typeof EFFECT_KINDS)[number];

/** Effect key → how many times it happened, per kind. */
export type Effects = Record<EffectKind, Map<string, number>>;

/** Empty effects. */
export function emptyEffects(): Effects {
  return Object.fromEntries(EFFECT_KINDS.map((k) => [k, new Map<string, number>()])) as Effects;
}

/** Counts one occurrence of `key` under `kind`. */
export function count(e: Effects, kind: EffectKind, key: string, n = 1): void {
  const m = e[kind];
  m.set(key, (m.get(key) ?? 0) + n);
}

/** The comparison of one kind. */
export interface KindComparison {
  kind: EffectKind;
  expected: number;
  seen: number;
  lost: number;
  duplicated: number;
  /** Up to a few keys lost and duplicated, for the failure message. */
  lostKeys: string[];
  duplicatedKeys: string[];
}

const EXAMPLES = 5;

/** Compares seen with expected, kind by kind. */
export function compare(expected: Effects, seen: Effects): KindComparison[] {
  return EFFECT_KINDS.map((kind) => {
    const ex = expected[kind];
    const se = seen[kind];
    const row: KindComparison = { kind, expected: 0, seen: 0, lost: 0, duplicated: 0, lostKeys: [], duplicatedKeys: [] };
    for (const n of ex.values()) row.expected += n;
    for (const n of se.values()) row.seen += n;
    for (const [key, n] of ex) {
      const d = n - (se.get(key) ?? 0);
      if (d > 0) {
        row.lost += d;
        if (row.lostKeys.length < EXAMPLES) row.lostKeys.push(d > 1 ? `${key} (×${d})` : key);
      }
    }
    for (const [key, n] of se) {
      const d = n - (ex.get(key) ?? 0);
      if (d > 0) {
        row.duplicated += d;
        if (row.duplicatedKeys.length < EXAMPLES) row.duplicatedKeys.push(`${key} (${ex.has(key) ? `${n} instead of ${ex.get(key)}` : "not in the fault-free run"})`);
      }
    }
    return row;
  });
}

/** A fixed-width table of a scenario's comparison. */
export function table(title: string, rows: KindComparison[]): string {
  const head = ["effect", "expected", "seen", "lost", "duplicated"];
  const body = rows.filter((r) => r.expected > 0 || r.seen > 0).map((r) => [r.kind, String(r.expected), String(r.seen), String(r.lost), String(r.duplicated)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")}`;
  return [title, line(head), ...body.map(line)].join("\n");
}

/** Why a scenario failed: each kind that lost or duplicated something, with examples. */
export function failures(rows: KindComparison[], why: string[] = []): string[] {
  const out: string[] = [];
  for (const r of rows) {
    if (r.lost > 0) out.push(`${r.kind}: ${r.lost} lost, e.g. ${r.lostKeys.join("; ")}`);
    if (r.duplicated > 0) out.push(`${r.kind}: ${r.duplicated} duplicated, e.g. ${r.duplicatedKeys.join("; ")}`);
  }
  if (out.length > 0) out.push(...why);
  return out;
}

/** Plain-object form (for the result files). */
export function toJson(e: Effects): Record<string, Record<string, number>> {
  return Object.fromEntries(EFFECT_KINDS.map((k) => [k, Object.fromEntries(e[k])]));
}
