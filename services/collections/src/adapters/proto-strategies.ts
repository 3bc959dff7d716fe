/**
 * Strategy table ↔ proto (whiteslip.collections.v1.StrategyTable). Decoding keeps unknown or unset enum values as
 * `UNSPECIFIED` so that validation reports them as field violations; empty `tiers` means every tier.
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { billing, collections } from "@whiteslip/contracts";
import type { StrategyChange, StrategyChangeKind, StrategyTableVersion } from "../app/ports";
import type { Strategy, StrategySet, TreatmentRule } from "../domain/strategy";
import type { Bucket, RiskTier, Treatment } from "../domain/types";
import { bucketToProto, pathStepFromProto, pathStepToProto, treatmentToProto } from "./proto";

const enumName = (e: Record<string, string | number>, v: number): string =>
  typeof e[v] === "string" ? (e[v] as string) : "UNSPECIFIED";

function ruleFromProto(r: collections.TreatmentRule): TreatmentRule {
  return {
    buckets: r.buckets.map((b) => enumName(billing.DelinquencyBucket, b) as Bucket),
    ...(r.tiers.length > 0 ? { tiers: r.tiers as RiskTier[] } : {}),
    ...(r.minBalanceFen !== undefined ? { minBalanceFen: r.minBalanceFen } : {}),
    ...(r.maxBalanceFen !== undefined ? { maxBalanceFen: r.maxBalanceFen } : {}),
    ...(r.minDpd !== undefined ? { minDpd: r.minDpd } : {}),
    treatment: enumName(collections.Treatment, r.treatment) as Treatment,
    ...(r.path.length > 0 ? { path: r.path.map(pathStepFromProto) } : {}),
  };
}

function strategyFromProto(s: collections.CollectionStrategy): Strategy {
  return { id: s.id, description: s.description, rules: s.rules.map(ruleFromProto) };
}

/** Proto table → domain; undefined when the champion is missing (reported as a violation by the caller). */
export function strategyTableFromProto(t: collections.StrategyTable | undefined): StrategySet | undefined {
  if (!t?.champion) return undefined;
  return {
    champion: strategyFromProto(t.champion),
    challengers: t.challengers.map(strategyFromProto),
    challengerPercent: t.challengerPercent,
  };
}

function strategyToProto(s: Strategy): collections.CollectionStrategy {
  return create(collections.CollectionStrategySchema, {
    id: s.id,
    description: s.description,
    rules: s.rules.map((r) => ({
      buckets: r.buckets.map(bucketToProto),
      tiers: r.tiers ?? [],
      ...(r.minBalanceFen !== undefined ? { minBalanceFen: r.minBalanceFen } : {}),
      ...(r.maxBalanceFen !== undefined ? { maxBalanceFen: r.maxBalanceFen } : {}),
      ...(r.minDpd !== undefined ? { minDpd: r.minDpd } : {}),
      treatment: treatmentToProto(r.treatment),
      path: (r.path ?? []).map(pathStepToProto),
    })),
  });
}

function tableToProto(t: StrategySet): collections.StrategyTable {
  return create(collections.StrategyTableSchema, {
    champion: strategyToProto(t.champion),
    challengers: t.challengers.map(strategyToProto),
    challengerPercent: t.challengerPercent,
  });
}

const KIND: Record<StrategyChangeKind, collections.StrategyChangeKind> = {
  SEED: collections.StrategyChangeKind.SEED,
  UPDATE: collections.StrategyChangeKind.UPDATE,
  PROMOTION: collections.StrategyChangeKind.PROMOTION,
};

/** An audit-trail version → proto. */
export function strategyChangeToProto(c: StrategyChange): collections.StrategyChange {
  return create(collections.StrategyChangeSchema, {
    version: c.version,
    previousVersion: c.previousVersion,
    kind: KIND[c.kind],
    actor: c.actor,
    changedAt: timestampFromDate(c.at),
    reason: c.reason,
    promotedStrategyId: c.promotedStrategyId ?? "",
    formerChampionId: c.formerChampionId ?? "",
    table: tableToProto(c.table),
  });
}

/** Stored table → proto. */
export function strategyTableVersionToProto(v: StrategyTableVersion): collections.StrategyTableVersion {
  return create(collections.StrategyTableVersionSchema, {
    table: tableToProto(v.table),
    version: v.version,
    updatedAt: timestampFromDate(v.updatedAt),
    updatedBy: v.updatedBy,
  });
}
