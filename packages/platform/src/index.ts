export * from "./demo";
export * from "./narrator";
export * from "./processes";
export * from "./sinks";
export * from "./harness";
export * from "./pii-scan";
export * from "./driver";
