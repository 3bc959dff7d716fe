/**
 * Who consumes which topic, derived from the services' own subscription tables
 * (`services/<name>/src/adapters/consumes.ts`, which each service's Kafka subscriptions must match — checked by
 * packages/contracts/test/consumers.unit.test.ts). The tables are plain data, so reading them here pulls in none
 * of a service's dependencies. The AsyncAPI document, the broker's ACLs (kafka-acls.ts) and the dead-letter
 * topics are made from this.
 */
import { billingConsumes } from "../../../services/billing/src/adapters/consumes";
import { collectionsConsumes } from "../../../services/collections/src/adapters/consumes";
import { creditConsumes } from "../../../services/credit/src/adapters/consumes";
import { creditReportingConsumes } from "../../../services/credit-reporting/src/adapters/consumes";
import { notificationConsumes } from "../../../services/notification/src/adapters/consumes";
import type { ServiceName } from "./asyncapi";
import { type TopicName, Topics } from "./topics";

/** The topics each service consumes, in the platform's service order (a misspelt topic name does not compile). */
export const SERVICE_CONSUMES: { readonly [S in ServiceName]: readonly TopicName[] } = {
  credit: creditConsumes,
  billing: billingConsumes,
  notification: notificationConsumes,
  collections: collectionsConsumes,
  "credit-reporting": creditReportingConsumes,
};

/** Consuming services of each topic (each reads with its own consumer group, named after the service by default). */
export const TOPIC_CONSUMERS: { readonly [K in TopicName]: readonly ServiceName[] } = Object.fromEntries(
  (Object.keys(Topics) as TopicName[]).map((t) => [
    t,
    (Object.keys(SERVICE_CONSUMES) as ServiceName[]).filter((s) => SERVICE_CONSUMES[s].includes(t)),
  ]),
) as { [K in TopicName]: ServiceName[] };
