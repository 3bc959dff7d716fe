/** Conversions between domain values and the generated protobuf enums/messages of whiteslip.credit.v1. */
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { credit } from "@whiteslip/contracts";
import { type CreditLine, availableFen } from "../domain/credit-line";
import type { LineStatus } from "../domain/events";
import type { Feature, MerchantScenario } from "../domain/policy";
import type { ApplicationDecision, Employment, Tier } from "../domain/scorecard";

/** Domain tier → proto enum. */
export function toProtoTier(t: Tier): credit.RiskTier {
  return credit.RiskTier[t];
}
/** Domain status → proto enum. */
export function toProtoStatus(s: LineStatus): credit.CreditLineStatus {
  return credit.CreditLineStatus[s];
}
/** Domain feature → proto enum. */
export function toProtoFeature(f: Feature): credit.Feature {
  return credit.Feature[f];
}
/** Domain decision → proto enum. */
export function toProtoDecision(d: ApplicationDecision): credit.Decision {
  return credit.Decision[d];
}
/** Proto employment → domain (UNSPECIFIED stays invalid and is rejected by validation). */
export function fromProtoEmployment(e: credit.Employment): Employment {
  return (credit.Employment[e] ?? "UNSPECIFIED") as Employment;
}
/** Proto merchant scenario → domain. */
export function fromProtoScenario(s: credit.MerchantScenario): MerchantScenario {
  return (credit.MerchantScenario[s] ?? "UNSPECIFIED") as MerchantScenario;
}

/** A line as the CreditLine message. */
export function toProtoLine(l: CreditLine): import("@bufbuild/protobuf").MessageInitShape<typeof credit.CreditLineSchema> {
  return {
    creditLineId: l.id,
    customerId: l.customerId,
    limitFen: l.limitFen,
    availableFen: availableFen(l),
    postedBalanceFen: l.postedBalanceFen,
    openHoldsFen: l.openHoldsFen,
    status: toProtoStatus(l.status),
    tier: toProtoTier(l.tier),
    score: l.score,
    openedAt: timestampFromDate(l.openedAt),
    restrictedFeatures: l.restriction.features.map(toProtoFeature),
    statementDay: l.statementDay,
  };
}
