/** Maps domain events to CloudEvents on the credit topics (protobuf payloads). */
import { Topics } from "@whiteslip/contracts";
import { type OutgoingEvent, encodeEvent } from "@whiteslip/bus";
import type { CreditEvent } from "../domain/events";
import { toProtoFeature, toProtoStatus, toProtoTier } from "./proto-mapping";

/** Encodes one domain event for the outbox; key = credit line (= account) id. */
export function encodeCreditEvent(e: CreditEvent): OutgoingEvent {
  const base = { id: e.id, key: e.data.creditLineId, time: e.time };
  switch (e.type) {
    case "CreditLineOpened":
      return encodeEvent(Topics.CreditLineOpened, { ...base, data: { ...e.data, tier: toProtoTier(e.data.tier) } });
    case "CreditLineChanged":
      return encodeEvent(Topics.CreditLineChanged, {
        ...base,
        data: { ...e.data, status: toProtoStatus(e.data.status), tier: toProtoTier(e.data.tier), previousTier: toProtoTier(e.data.previousTier) },
      });
    case "RestrictionChanged":
      return encodeEvent(Topics.RestrictionChanged, {
        ...base,
        data: { creditLineId: e.data.creditLineId, customerId: e.data.customerId, restrictedFeatures: e.data.features.map(toProtoFeature), reason: e.data.reason, businessDate: e.data.businessDate },
      });
    case "RiskFlagRaised":
      return encodeEvent(Topics.RiskFlagRaised, { ...base, data: { ...e.data, tier: toProtoTier(e.data.tier) } });
  }
}
