/**
 * The cadence policy as data: a table of rules a risk team can change (stored in
 * Mongo, seeded with DEFAULT_CADENCE_POLICY). A fact selects every rule whose
 * trigger, DPD range, DPD schedule and bucket match; each rule contributes its
 * channels. The first rule (by `priority`) to claim a channel wins, because there
 * is exactly one message per (fact, channel).
 */
import { type FieldViolation, invalidArgument } from "@whiteslip/core";
import {
  BUCKETS,
  type Bucket,
  CATEGORIES,
  type Category,
  CHANNELS,
  type Channel,
  type Fact,
  TRIGGERS,
  type Trigger,
} from "./model";
import { hasTemplate } from "./templates";

/** One row of the cadence table. */
export interface CadenceRule {
  /** Stable id, e.g. `overdue-dpd1`. */
  id: string;
  /** Lower sorts first; decides which rule owns a channel when two match. */
  priority: number;
  /** The fact kind. */
  trigger: Trigger;
  /** Lowest DPD (inclusive) the rule applies to (overdue facts; default 0). */
  minDpd?: number;
  /** Highest DPD (inclusive) (default unbounded). */
  maxDpd?: number;
  /** Exact DPDs on which to send (e.g. [1]); exclusive with everyNDays. */
  onDpd?: number[];
  /** Send every N days from minDpd (minDpd, minDpd+N, …); exclusive with onDpd. */
  everyNDays?: number;
  /** Buckets the rule applies to (default all). */
  buckets?: Bucket[];
  /** Channels to use, filtered by the customer's preferences unless the category is LEGAL. */
  channels: Channel[];
  /** Template `id@version`. */
  template: string;
  /** Category (caps, preferences, legal rules). */
  category: Category;
  /** Use the per-customer best hour (default true for REMINDER and COLLECTION). */
  useBestHour?: boolean;
}

/** A channel chosen for a fact with the rule that chose it. */
export interface ChannelSelection {
  /** The rule. */
  rule: CadenceRule;
  /** The channel. */
  channel: Channel;
}

const ALL_CHANNELS: Channel[] = ["SMS", "EMAIL", "IN_APP"];

/**
 * The default policy (domain.md, Notification): DueSoon → reminder; Overdue DPD 1
 * SMS + in-app; DPD 3 email; DPD 7 SMS; weekly after (14, 21, …); M2+ adds the
 * formal notice once per bucket (DPD 31, 61, …); payment → confirmation; line
 * change → notice; pre-report notice and legal notice are LEGAL (opt-outs ignored).
 */
export const DEFAULT_CADENCE_POLICY: readonly CadenceRule[] = [
  {
    id: "due-soon",
    priority: 10,
    trigger: "DUE_SOON",
    channels: ALL_CHANNELS,
    template: "due-soon@1",
    category: "REMINDER",
  },
  // The formal notice comes first so that on a day both it and the weekly reminder fall, its in-app copy wins.
  {
    id: "overdue-formal-notice-m2plus",
    priority: 15,
    trigger: "OVERDUE",
    minDpd: 31,
    maxDpd: 180,
    everyNDays: 30,
    buckets: ["M2", "M3", "M4", "M5", "M6"],
    channels: ["EMAIL", "IN_APP"],
    template: "formal-notice@1",
    category: "COLLECTION",
  },
  {
    id: "overdue-dpd1",
    priority: 20,
    trigger: "OVERDUE",
    onDpd: [1],
    channels: ["SMS", "IN_APP"],
    template: "overdue-notice@1",
    category: "COLLECTION",
  },
  {
    id: "overdue-dpd3",
    priority: 30,
    trigger: "OVERDUE",
    onDpd: [3],
    channels: ["EMAIL"],
    template: "overdue-notice@1",
    category: "COLLECTION",
  },
  {
    id: "overdue-dpd7",
    priority: 40,
    trigger: "OVERDUE",
    onDpd: [7],
    channels: ["SMS"],
    template: "overdue-notice@1",
    category: "COLLECTION",
  },
  {
    id: "overdue-weekly",
    priority: 50,
    trigger: "OVERDUE",
    minDpd: 14,
    maxDpd: 180,
    everyNDays: 7,
    channels: ["SMS", "IN_APP"],
    template: "overdue-notice@1",
    category: "COLLECTION",
  },
  {
    id: "payment-received",
    priority: 60,
    trigger: "PAYMENT_RECEIVED",
    channels: ["SMS", "IN_APP"],
    template: "payment-received@1",
    category: "TRANSACTIONAL",
  },
  {
    id: "payment-deferred",
    priority: 65,
    trigger: "PAYMENT_DEFERRED",
    channels: ["SMS", "IN_APP"],
    template: "payment-deferred@1",
    category: "TRANSACTIONAL",
  },
  {
    id: "credit-line-changed",
    priority: 70,
    trigger: "CREDIT_LINE_CHANGED",
    channels: ["EMAIL", "IN_APP"],
    template: "credit-line-changed@1",
    category: "TRANSACTIONAL",
  },
  {
    id: "pre-report-notice",
    priority: 80,
    trigger: "NEGATIVE_REPORT_PENDING",
    channels: ["SMS", "EMAIL", "IN_APP"],
    template: "pre-report-notice@1",
    category: "LEGAL",
  },
  {
    id: "legal-notice",
    priority: 90,
    trigger: "LEGAL_NOTICE_REQUESTED",
    channels: ["EMAIL", "SMS", "IN_APP"],
    template: "legal-notice@1",
    category: "LEGAL",
  },
];

/** True when `rule` applies to `fact` (trigger, DPD range and schedule, bucket). */
export function ruleMatches(rule: CadenceRule, fact: Fact): boolean {
  if (rule.trigger !== fact.trigger) return false;
  const usesDpd =
    rule.minDpd !== undefined ||
    rule.maxDpd !== undefined ||
    rule.onDpd !== undefined ||
    rule.everyNDays !== undefined;
  if (usesDpd) {
    const dpd = fact.dpd;
    if (dpd === undefined) return false;
    const min = rule.minDpd ?? 0;
    if (dpd < min) return false;
    if (rule.maxDpd !== undefined && dpd > rule.maxDpd) return false;
    if (rule.onDpd !== undefined && !rule.onDpd.includes(dpd)) return false;
    if (rule.everyNDays !== undefined && (dpd - min) % rule.everyNDays !== 0) return false;
  }
  if (rule.buckets !== undefined && (fact.bucket === undefined || !rule.buckets.includes(fact.bucket)))
    return false;
  return true;
}

/** The (rule, channel) pairs a fact selects, one per channel, the lowest-priority-number rule winning. */
export function selectChannels(rules: readonly CadenceRule[], fact: Fact): ChannelSelection[] {
  const ordered = [...rules].sort((a, b) => a.priority - b.priority || a.id.localeCompare(b.id));
  const taken = new Set<Channel>();
  const out: ChannelSelection[] = [];
  for (const rule of ordered) {
    if (!ruleMatches(rule, fact)) continue;
    for (const channel of rule.channels) {
      if (taken.has(channel)) continue;
      taken.add(channel);
      out.push({ rule, channel });
    }
  }
  return out;
}

/**
 * Rules that joined the defaults after the first release, with the defaults revision that brought them. A stored
 * table remembers the revision it has seen; on start the rules of later revisions are appended to it once, so a
 * deployment whose table was seeded (or edited) before gets them — and a rule a risk manager deleted after seeing it
 * stays deleted.
 */
export const DEFAULT_RULES_ADDED: readonly { readonly revision: number; readonly ruleId: string }[] = [
  { revision: 2, ruleId: "payment-deferred" },
];
/** The defaults revision of DEFAULT_CADENCE_POLICY. */
export const DEFAULTS_REVISION = Math.max(1, ...DEFAULT_RULES_ADDED.map((a) => a.revision));

/** The default rules to append to a stored table that has seen the defaults up to revision `seen`. */
export function newDefaultRules(stored: readonly CadenceRule[], seen: number): CadenceRule[] {
  const have = new Set(stored.map((r) => r.id));
  return DEFAULT_RULES_ADDED.filter((a) => a.revision > seen && !have.has(a.ruleId)).map(
    (a) => ({ ...DEFAULT_CADENCE_POLICY.find((r) => r.id === a.ruleId)! }),
  );
}

/** Checks a policy table; throws INVALID_ARGUMENT naming each bad field (`rules[2].everyNDays`). */
export function validatePolicy(rules: readonly CadenceRule[]): void {
  const v: FieldViolation[] = [];
  const ids = new Set<string>();
  rules.forEach((r, i) => {
    const f = (name: string) => `rules[${i}].${name}`;
    if (!r.id || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(r.id))
      v.push({ field: f("id"), description: "must be lower-kebab-case, 1–63 chars" });
    if (ids.has(r.id)) v.push({ field: f("id"), description: `duplicate rule id ${r.id}` });
    ids.add(r.id);
    if (!Number.isInteger(r.priority)) v.push({ field: f("priority"), description: "must be an integer" });
    if (!TRIGGERS.includes(r.trigger))
      v.push({ field: f("trigger"), description: `unknown trigger ${String(r.trigger)}` });
    if (!CATEGORIES.includes(r.category))
      v.push({ field: f("category"), description: `unknown category ${String(r.category)}` });
    if (!Array.isArray(r.channels) || r.channels.length === 0)
      v.push({ field: f("channels"), description: "must list at least one channel" });
    else
      r.channels.forEach((c, j) => {
        if (!CHANNELS.includes(c))
          v.push({ field: `${f("channels")}[${j}]`, description: `unknown channel ${String(c)}` });
      });
    if (!hasTemplate(r.template))
      v.push({ field: f("template"), description: `unknown template ${r.template}` });
    for (const k of ["minDpd", "maxDpd"] as const) {
      const x = r[k];
      if (x !== undefined && (!Number.isInteger(x) || x < 0))
        v.push({ field: f(k), description: "must be a non-negative integer" });
    }
    if (r.minDpd !== undefined && r.maxDpd !== undefined && r.minDpd > r.maxDpd)
      v.push({ field: f("maxDpd"), description: "must be ≥ minDpd" });
    if (r.everyNDays !== undefined && (!Number.isInteger(r.everyNDays) || r.everyNDays < 1))
      v.push({ field: f("everyNDays"), description: "must be a positive integer" });
    if (r.onDpd !== undefined && r.everyNDays !== undefined)
      v.push({ field: f("onDpd"), description: "use either onDpd or everyNDays, not both" });
    if (
      r.onDpd !== undefined &&
      (!Array.isArray(r.onDpd) || r.onDpd.some((d) => !Number.isInteger(d) || d < 0))
    )
      v.push({ field: f("onDpd"), description: "must be a list of non-negative integers" });
    if (r.buckets !== undefined)
      r.buckets.forEach((b, j) => {
        if (!BUCKETS.includes(b))
          v.push({ field: `${f("buckets")}[${j}]`, description: `unknown bucket ${String(b)}` });
      });
  });
  if (v.length > 0) throw invalidArgument(v);
}
