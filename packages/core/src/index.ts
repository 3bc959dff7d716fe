export * from "./cache";
export * from "./clock";
export * from "./dates";
export * from "./delinquency";
export * from "./errors";
export * from "./ids";
export * from "./infrastructure";
export * from "./money";
