export * from "./logger";
export * from "./otel";
