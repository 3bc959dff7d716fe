// Generated-code barrel for whiteslip.credit.v1 (hand-written: lists the generated files).
export * from "./gen/whiteslip/credit/v1/credit_pb";
export * from "./gen/whiteslip/credit/v1/credit_service_pb";
export * from "./gen/whiteslip/credit/v1/events_pb";
