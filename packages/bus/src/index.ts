export * from "./bus";
export * from "./envelope";
