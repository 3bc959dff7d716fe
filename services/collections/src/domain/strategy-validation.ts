/**
 * Validation of a strategy table edited by a risk manager: every field checked at once, violations named by the
 * proto field path (`table.champion.rules[2].treatment`). Besides value checks, a rule that an earlier rule of the
 * same strategy fully covers is refused: first match wins, so it could never be reached (an overlap that is almost
 * always an ordering mistake).
 */
import type { FieldViolation } from "@whiteslip/core";
import type { Strategy, StrategySet, TreatmentRule } from "./strategy";
import { bannedClaims } from "./banned-claims";
import { isDigitalStep, STEP_CHANNELS } from "./treatment-path";
import type { Bucket, RiskTier, Treatment } from "./types";

const BUCKETS: readonly Bucket[] = ["M0", "M1", "M2", "M3", "M4", "M5", "M6", "CHARGED_OFF"];
const TIERS: readonly RiskTier[] = ["A", "B", "C", "D", "E"];
const TREATMENTS: readonly Treatment[] = ["DIGITAL_ONLY", "AGENT_CALLS", "LEGAL_NOTICE", "EXTERNAL_AGENCY"];
const ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** A notification template reference, `id@version`. */
const TEMPLATE = /^[a-z0-9][a-z0-9-]{0,62}@[1-9][0-9]{0,3}$/;
/** The last DPD a path step may fall on (charge-off at 181 by default). */
export const MAX_STEP_DPD = 180;
/** Longest wording of a step. */
export const MAX_STEP_TEXT = 500;

/** True when every case `later` matches is matched by `earlier` (so `later` is never reached after it). */
export function covers(earlier: TreatmentRule, later: TreatmentRule): boolean {
  const tiersOk =
    earlier.tiers === undefined ||
    (later.tiers !== undefined && later.tiers.every((t) => earlier.tiers!.includes(t)));
  const minOk = (earlier.minBalanceFen ?? 0n) <= (later.minBalanceFen ?? 0n);
  const maxOk =
    earlier.maxBalanceFen === undefined ||
    (later.maxBalanceFen !== undefined && later.maxBalanceFen <= earlier.maxBalanceFen);
  return (
    later.buckets.every((b) => earlier.buckets.includes(b)) &&
    tiersOk &&
    minOk &&
    maxOk &&
    (earlier.minDpd ?? 0) <= (later.minDpd ?? 0)
  );
}

function checkRule(r: TreatmentRule, f: (name: string) => string, v: FieldViolation[]): void {
  if (r.buckets.length === 0) v.push({ field: f("buckets"), description: "must list at least one bucket" });
  r.buckets.forEach((b, j) => {
    if (!BUCKETS.includes(b))
      v.push({ field: `${f("buckets")}[${j}]`, description: `unknown bucket ${String(b)}` });
    else if (r.buckets.indexOf(b) !== j)
      v.push({ field: `${f("buckets")}[${j}]`, description: `duplicate bucket ${b}` });
  });
  r.tiers?.forEach((t, j) => {
    if (!TIERS.includes(t))
      v.push({ field: `${f("tiers")}[${j}]`, description: `unknown risk tier ${String(t)} (A–E)` });
  });
  if (r.minBalanceFen !== undefined && r.minBalanceFen < 0n)
    v.push({ field: f("min_balance_fen"), description: "must not be negative" });
  if (r.maxBalanceFen !== undefined && r.maxBalanceFen <= (r.minBalanceFen ?? 0n))
    v.push({ field: f("max_balance_fen"), description: "must be greater than min_balance_fen" });
  if (r.minDpd !== undefined && (!Number.isInteger(r.minDpd) || r.minDpd < 0))
    v.push({ field: f("min_dpd"), description: "must be a non-negative integer" });
  if (!TREATMENTS.includes(r.treatment))
    v.push({ field: f("treatment"), description: `must be one of ${TREATMENTS.join(", ")}` });
  const seen = new Set<string>();
  (r.path ?? []).forEach((st, j) => {
    const g = (name: string) => `${f("path")}[${j}].${name}`;
    if (!Number.isInteger(st.dpd) || st.dpd < 1 || st.dpd > MAX_STEP_DPD)
      v.push({ field: g("dpd"), description: `must be an integer 1–${MAX_STEP_DPD}` });
    if (!STEP_CHANNELS.includes(st.channel)) {
      v.push({ field: g("channel"), description: `must be one of ${STEP_CHANNELS.join(", ")}` });
      return;
    }
    if (isDigitalStep(st.channel) && !TEMPLATE.test(st.template ?? ""))
      v.push({ field: g("template"), description: "a digital step names a notification template `id@version`" });
    if (!isDigitalStep(st.channel) && st.template)
      v.push({ field: g("template"), description: `must be empty for a ${st.channel} step` });
    if (st.text) {
      if (!isDigitalStep(st.channel)) v.push({ field: g("text"), description: `must be empty for a ${st.channel} step` });
      else if (st.text.length > MAX_STEP_TEXT)
        v.push({ field: g("text"), description: `must be at most ${MAX_STEP_TEXT} characters` });
      // the CBA guideline's banned claims, one violation per rule, named by its code
      for (const b of bannedClaims(st.text))
        v.push({ field: g("text"), description: `${b.code}: "${b.phrase}" — ${b.what}` });
    }
    const key = `${st.dpd}/${st.channel}`;
    if (seen.has(key)) v.push({ field: `${f("path")}[${j}]`, description: `duplicate step DPD ${st.dpd} ${st.channel}` });
    seen.add(key);
  });
}

function checkStrategy(s: Strategy, path: string, v: FieldViolation[]): void {
  if (!ID.test(s.id)) v.push({ field: `${path}.id`, description: "must be lower-kebab-case, 1–63 chars" });
  if (s.description.length > 200)
    v.push({ field: `${path}.description`, description: "must be at most 200 chars" });
  if (s.rules.length === 0) v.push({ field: `${path}.rules`, description: "must contain at least one rule" });
  s.rules.forEach((r, i) => {
    const f = (name: string) => `${path}.rules[${i}].${name}`;
    const before = v.length;
    checkRule(r, f, v);
    if (v.length > before) return;
    const k = s.rules.slice(0, i).findIndex((e) => covers(e, r));
    if (k >= 0)
      v.push({
        field: `${path}.rules[${i}]`,
        description: `is never reached: rules[${k}] comes first and matches every case it matches (reorder or narrow it)`,
      });
  });
}

/** All violations of a strategy table (empty when valid); `prefix` is the path of the table in the request. */
export function strategyTableViolations(set: StrategySet, prefix = "table"): FieldViolation[] {
  const v: FieldViolation[] = [];
  const p = set.challengerPercent;
  if (!Number.isFinite(p) || p < 0 || p > 100)
    v.push({ field: `${prefix}.challenger_percent`, description: "must be between 0 and 100" });
  else if (Math.abs(p * 100 - Math.round(p * 100)) > 1e-9)
    v.push({ field: `${prefix}.challenger_percent`, description: "must have at most two decimals" });
  else if (p > 0 && set.challengers.length === 0)
    v.push({ field: `${prefix}.challenger_percent`, description: "must be 0 when there is no challenger" });
  checkStrategy(set.champion, `${prefix}.champion`, v);
  const ids = new Set([set.champion.id]);
  set.challengers.forEach((c, i) => {
    const path = `${prefix}.challengers[${i}]`;
    checkStrategy(c, path, v);
    if (ids.has(c.id)) v.push({ field: `${path}.id`, description: `duplicate strategy id ${c.id}` });
    ids.add(c.id);
  });
  return v;
}
