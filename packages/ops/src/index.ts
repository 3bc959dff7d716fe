export * from "./clients";
export * from "./end-of-day";
export * from "./kafka";
export * from "./tail";
export { advance } from "./cli";
export * from "./dlq";
