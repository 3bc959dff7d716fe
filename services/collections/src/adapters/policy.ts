/**
 * Builds the collections policy from configuration: strategies (built-in defaults or a JSON file), the
 * champion/challenger share, product → jurisdiction/time zone, creditor, waiver limit; and reads seed agents.
 */
import { readFile } from "node:fs/promises";
import { isTimeZone } from "@whiteslip/core";
import { z } from "zod";
import type { Agent, CollectionsPolicy } from "../app/ports";
import type { Locale } from "../domain/case";
import { type ContactCosts, parseContactCosts } from "../domain/contact-costs";
import { DEFAULT_STRATEGIES, type Strategy, type StrategySet } from "../domain/strategy";

const bucket = z.enum(["M0", "M1", "M2", "M3", "M4", "M5", "M6", "CHARGED_OFF"]);
const treatment = z.enum(["DIGITAL_ONLY", "AGENT_CALLS", "LEGAL_NOTICE", "EXTERNAL_AGENCY"]);
const strategySchema = z.object({
  id: z.string().min(1),
  description: z.string().default(""),
  rules: z.array(
    z.object({
      buckets: z.array(bucket).min(1),
      tiers: z.array(z.enum(["A", "B", "C", "D", "E"])).optional(),
      minBalanceFen: z
        .union([z.string().regex(/^\d+$/), z.number().int().nonnegative()])
        .transform((v) => BigInt(v))
        .optional(),
      maxBalanceFen: z
        .union([z.string().regex(/^\d+$/), z.number().int().nonnegative()])
        .transform((v) => BigInt(v))
        .optional(),
      minDpd: z.number().int().nonnegative().optional(),
      treatment,
      path: z
        .array(
          z.object({
            dpd: z.number().int(),
            channel: z.enum(["SMS", "EMAIL", "IN_APP", "PUSH", "CALL", "LETTER", "LEGAL_NOTICE", "AGENCY"]),
            template: z.string().optional(),
            text: z.string().optional(),
          }),
        )
        .optional(),
    }),
  ),
});
const strategiesFile = z.object({
  champion: strategySchema,
  challengers: z.array(strategySchema).default([]),
});
const agentsFile = z.array(
  z.object({
    agentId: z.string().min(1),
    displayName: z.string().default(""),
    skills: z.array(z.string().min(1)),
    active: z.boolean().default(true),
  }),
);

/** Reads a strategies JSON file (`{ champion, challengers }`, amounts in fen as strings or integers). */
export async function loadStrategies(
  path: string | undefined,
  challengerPercent: number,
): Promise<StrategySet> {
  if (!path) return { ...DEFAULT_STRATEGIES, challengerPercent };
  const parsed = strategiesFile.safeParse(JSON.parse(await readFile(path, "utf8")));
  if (!parsed.success) throw new Error(`STRATEGIES_FILE ${path}: ${parsed.error.message}`);
  return {
    champion: parsed.data.champion as Strategy,
    challengers: parsed.data.challengers as Strategy[],
    challengerPercent,
  };
}

/** Reads seed agents (a JSON array of `{ agentId, displayName, skills, active }`). */
export async function loadAgents(path: string | undefined): Promise<Agent[]> {
  if (!path) return [];
  const parsed = agentsFile.safeParse(JSON.parse(await readFile(path, "utf8")));
  if (!parsed.success) throw new Error(`AGENTS_FILE ${path}: ${parsed.error.message}`);
  return parsed.data;
}

/**
 * Parses `PRODUCT_LOCALES`: `PRODUCT=JURISDICTION:Time/Zone` entries separated by `;` or `,`
 * (e.g. `US_BNPL=US:America/New_York`). Throws naming the bad entry.
 */
export function parseProductLocales(spec: string): Map<string, Locale> {
  const m = new Map<string, Locale>();
  for (const entry of spec
    .split(/[;,]/)
    .map((s) => s.trim())
    .filter(Boolean)) {
    const match = /^([^=]+)=(CN|US):(.+)$/.exec(entry);
    if (!match || !isTimeZone(match[3]!))
      throw new Error(`PRODUCT_LOCALES: bad entry ${JSON.stringify(entry)} (want PRODUCT=CN|US:Time/Zone)`);
    m.set(match[1]!.trim(), { jurisdiction: match[2] as "CN" | "US", timeZone: match[3]! });
  }
  return m;
}

/**
 * The policy object the use cases read; `strategies` may be a function returning the table in force (the stored,
 * editable table), read on every access.
 */
export function buildPolicy(o: {
  strategies: StrategySet | (() => StrategySet);
  productLocales: Map<string, Locale>;
  defaultLocale: Locale;
  creditor: string;
  waiverMaxPerCaseFen: bigint;
  businessTimeZone: string;
  contactCostFen: ContactCosts;
}): CollectionsPolicy {
  const strategies = o.strategies;
  return {
    get strategies() {
      return typeof strategies === "function" ? strategies() : strategies;
    },
    localeFor: (productCode) => o.productLocales.get(productCode) ?? o.defaultLocale,
    creditor: o.creditor,
    waiverMaxPerCaseFen: o.waiverMaxPerCaseFen,
    businessTimeZone: o.businessTimeZone,
    contactCostFen: o.contactCostFen,
  };
}

/** Reads the contact cost table (channel → fen); a bad entry fails start-up naming the file and the channel. */
export async function loadContactCosts(path: string): Promise<ContactCosts> {
  const r = parseContactCosts(JSON.parse(await readFile(path, "utf8")));
  if ("violations" in r)
    throw new Error(`${path}: ${r.violations.map((v) => `${v.field} ${v.description}`).join("; ")}`);
  return r.costs;
}
