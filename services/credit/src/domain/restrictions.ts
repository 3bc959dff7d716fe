/**
 * Restrictions while overdue (shared/design/domain.md, "Credit"): from DPD 1 the
 * account loses the configured features and regains them when cured. Events from
 * billing arrive on different topics, so a late Overdue may follow a cure (or a
 * late cure a new delinquency): business dates decide which fact is newer.
 */
import { type LocalDate, deterministicId } from "@whiteslip/core";
import { type CreditLine, type LineUpdate, changed } from "./credit-line";
import type { CreditEvent } from "./events";
import type { CreditPolicy, Feature } from "./policy";

function sameSet(a: readonly Feature[], b: readonly Feature[]): boolean {
  return a.length === b.length && a.every((f) => b.includes(f));
}

/** An Overdue fact from billing. */
export interface OverdueFact {
  readonly eventId: string;
  readonly businessDate: LocalDate;
  readonly daysPastDue: number;
  readonly at: Date;
}

/**
 * Applies an Overdue: updates DPD, and from `restrictFromDpd` restricts the
 * configured features. RestrictionChanged is emitted only when the set changes.
 * Returns null for a stale fact (older than the latest cure or Overdue seen).
 */
export function applyOverdue(line: CreditLine, o: OverdueFact, policy: CreditPolicy): LineUpdate | null {
  const b = line.behaviour;
  if ((b.lastCuredOn && o.businessDate <= b.lastCuredOn) || (b.lastOverdueOn && o.businessDate < b.lastOverdueOn)) return null;
  const behaviour = { ...b, currentDpd: o.daysPastDue, worstDpd: Math.max(b.worstDpd, o.daysPastDue), lastOverdueOn: o.businessDate };
  const restrict = o.daysPastDue >= policy.restrictFromDpd;
  const target = restrict ? [...policy.restrictedFeatures] : [...line.restriction.features];
  const events: CreditEvent[] = [];
  let restriction = line.restriction;
  if (!sameSet(target, line.restriction.features)) {
    restriction = { features: target, reason: "OVERDUE", since: line.restriction.since ?? o.at, daysPastDue: o.daysPastDue };
    events.push(restrictionChanged(line, target, "OVERDUE", o.businessDate, o.eventId, o.at));
  } else if (restriction.features.length > 0) {
    restriction = { ...restriction, daysPastDue: o.daysPastDue };
  }
  return { line: { ...line, behaviour, restriction }, events, changes: [] };
}

/** An AccountCured fact from billing. */
export interface CuredFact {
  readonly eventId: string;
  readonly businessDate: LocalDate;
  readonly at: Date;
}

/**
 * Applies a cure: DPD back to 0 and every restriction lifted (RestrictionChanged
 * with reason `CURED` when any was in force). Returns null for a stale cure
 * (older than the latest Overdue seen: a newer delinquency is in progress).
 */
export function applyCured(line: CreditLine, c: CuredFact): LineUpdate | null {
  const b = line.behaviour;
  if (b.lastOverdueOn && c.businessDate < b.lastOverdueOn) return null;
  const behaviour = { ...b, currentDpd: 0, lastCuredOn: b.lastCuredOn && b.lastCuredOn > c.businessDate ? b.lastCuredOn : c.businessDate };
  const events: CreditEvent[] = [];
  if (line.restriction.features.length > 0) events.push(restrictionChanged(line, [], "CURED", c.businessDate, c.eventId, c.at));
  return {
    line: { ...line, behaviour, restriction: { features: [], reason: "", since: null, daysPastDue: 0 } },
    events,
    changes: [],
  };
}

/** Billing charged the account off: the line closes for good. */
export function applyChargedOff(line: CreditLine, c: { eventId: string; at: Date }): LineUpdate | null {
  if (line.status === "CLOSED") return null;
  return changed(line, { ...line, status: "CLOSED", frozenBy: null }, {
    reason: "CHARGED_OFF",
    actor: "system:billing",
    at: c.at,
    eventId: deterministicId("credit.credit-line-changed", line.id, c.eventId),
  });
}

function restrictionChanged(line: CreditLine, features: readonly Feature[], reason: string, businessDate: LocalDate, cause: string, at: Date): CreditEvent {
  return {
    type: "RestrictionChanged",
    id: deterministicId("credit.restriction-changed", line.id, cause),
    time: at,
    data: { creditLineId: line.id, customerId: line.customerId, features, reason, businessDate },
  };
}
