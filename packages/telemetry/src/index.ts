export * from "./logger";
export * from "./otel";
export { instrumentLibraries } from "./instrumentations";
