/**
 * The topics collections consumes, by their name in @whiteslip/contracts `Topics`: its Kafka subscriptions
 * (src/adapters/consumers.ts) are exactly these, which packages/contracts/test/consumers.unit.test.ts checks by calling
 * them. One home for "who reads what": the AsyncAPI document's consumers, the broker's read ACLs and the
 * dead-letter topics are made from this table. Plain data with no imports, so those read it without the
 * service's dependencies.
 */
export const collectionsConsumes = [
  "NotificationSent",
  "NotificationDelivered",
  "NotificationFailed",
  "NotificationSuppressed",
  "Overdue",
  "DueSoon",
  "RiskFlagRaised",
  "PaymentReceived",
  "AccountCured",
  "ChargedOff",
  "CreditLineOpened",
  "CreditLineChanged",
] as const;
