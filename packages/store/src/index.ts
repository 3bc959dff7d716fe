export * from "./command";
export * from "./outbox";
export * from "./store";
