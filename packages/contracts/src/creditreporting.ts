// Generated-code barrel for whiteslip.creditreporting.v1 (hand-written: lists the generated files).
export * from "./gen/whiteslip/creditreporting/v1/creditreporting_pb";
export * from "./gen/whiteslip/creditreporting/v1/creditreporting_service_pb";
export * from "./gen/whiteslip/creditreporting/v1/events_pb";
