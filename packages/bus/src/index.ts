export * from "./bus";
export * from "./dead-letter";
export * from "./envelope";
export * from "./failure";
export * from "./batch-consumer";
export { isTransientBrokerError, retryBroker } from "./broker-retry";
