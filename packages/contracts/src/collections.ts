// Generated-code barrel for whiteslip.collections.v1 (hand-written: lists the generated files).
export * from "./gen/whiteslip/collections/v1/collections_pb";
export * from "./gen/whiteslip/collections/v1/collections_service_pb";
export * from "./gen/whiteslip/collections/v1/events_pb";
