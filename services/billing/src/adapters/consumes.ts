/**
 * The topics billing consumes, by their name in @whiteslip/contracts `Topics`: its Kafka subscriptions
 * (src/adapters/credit-consumer.ts) are exactly these, which packages/contracts/test/consumers.unit.test.ts checks by calling
 * them. One home for "who reads what": the AsyncAPI document's consumers, the broker's read ACLs and the
 * dead-letter topics are made from this table. Plain data with no imports, so those read it without the
 * service's dependencies.
 */
export const billingConsumes = [
  "CreditLineOpened",
  "CreditLineChanged",
] as const;
