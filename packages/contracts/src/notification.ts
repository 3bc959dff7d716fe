// Generated-code barrel for whiteslip.notification.v1 (hand-written: lists the generated files).
export * from "./gen/whiteslip/notification/v1/events_pb";
export * from "./gen/whiteslip/notification/v1/notification_pb";
export * from "./gen/whiteslip/notification/v1/notification_service_pb";
