// Generated-code barrel for whiteslip.billing.v1 (hand-written: lists the generated files).
export * from "./gen/whiteslip/billing/v1/billing_pb";
export * from "./gen/whiteslip/billing/v1/billing_service_pb";
export * from "./gen/whiteslip/billing/v1/events_pb";
