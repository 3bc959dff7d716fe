/**
 * Cost of one contact per channel, fen — the figure behind GetCollectionsStats' cost per case and the simulator's
 * cost per arm. The table is configuration (services/collections/config/contact-costs.json, or CONTACT_COSTS_FILE),
 * read by collections at start and by packages/simulator, so both price a contact the same way. A channel missing
 * from the table costs nothing.
 */
import type { FieldViolation } from "@whiteslip/core";

/** Channels that can carry a cost (contact channels, path-step channels, and VOICE for the simulator's robocalls). */
export const COST_CHANNELS = ["SMS", "EMAIL", "IN_APP", "PUSH", "VOICE", "CALL", "LETTER", "LEGAL_NOTICE", "AGENCY"] as const;

/** Fen per contact, by channel. */
export type ContactCosts = Readonly<Record<string, bigint>>;

/** Parses a cost table (`{ "CALL": "300", … }`, fen as decimal strings or integers); violations name the channel. */
export function parseContactCosts(raw: unknown, prefix = "contact_costs"): { costs: ContactCosts } | { violations: FieldViolation[] } {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    return { violations: [{ field: prefix, description: "must be an object of channel → fen" }] };
  const costs: Record<string, bigint> = {};
  const violations: FieldViolation[] = [];
  for (const [k, v] of Object.entries(raw)) {
    if (!(COST_CHANNELS as readonly string[]).includes(k))
      violations.push({ field: `${prefix}.${k}`, description: `unknown channel (one of ${COST_CHANNELS.join(", ")})` });
    else if ((typeof v === "string" && /^\d{1,12}$/.test(v)) || (typeof v === "number" && Number.isSafeInteger(v) && v >= 0))
      costs[k] = BigInt(v);
    else violations.push({ field: `${prefix}.${k}`, description: "must be a non-negative whole number of fen" });
  }
  return violations.length ? { violations } : { costs };
}
