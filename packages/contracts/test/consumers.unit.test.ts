/**
 * Each service's subscription table (services/<name>/src/adapters/consumes.ts — what the AsyncAPI document, the
 * broker's ACLs and the dead-letter topics are made from) is exactly what its Kafka subscriptions read: the test
 * builds each service's real subscriptions (handlers are closures; nothing runs until an event arrives) and
 * compares their topics with the table.
 */
import type { Subscription } from "../../bus/src/bus";
import { describe, expect, it } from "vitest";
import { creditLineSubscriptions } from "../../../services/billing/src/adapters/credit-consumer";
import { collectionsSubscriptions } from "../../../services/collections/src/adapters/consumers";
import { creditSubscriptions } from "../../../services/credit/src/adapters/kafka-consumers";
import { subscriptions as creditReportingSubscriptions } from "../../../services/credit-reporting/src/adapters/consumers";
import { caseStepSubscriptions } from "../../../services/notification/src/adapters/case-step-consumer";
import { factSubscriptions } from "../../../services/notification/src/adapters/consumers";
import type { ServiceName } from "../src/asyncapi";
import { SERVICE_CONSUMES, TOPIC_CONSUMERS } from "../src/consumers";
import { type TopicName, Topics } from "../src/topics";

/** Stands for any dependency: every property and call gives itself back, so building a subscription needs no service. */
function anything(): never {
  const f: object = new Proxy(() => f, { get: (_t, k) => (k === "then" ? undefined : f), apply: () => f });
  return f as never;
}

const BUILT: Record<ServiceName, () => Subscription[]> = {
  credit: () => creditSubscriptions(anything(), anything()),
  billing: () => creditLineSubscriptions(anything(), anything()),
  // as main.ts wires them: the facts, then the case steps collections requests
  notification: () => [...factSubscriptions(anything(), anything(), anything(), anything()), ...caseStepSubscriptions(anything(), anything())],
  collections: () => collectionsSubscriptions(anything(), anything()),
  "credit-reporting": () => creditReportingSubscriptions(anything(), anything()),
};

const nameOf = (topic: string): TopicName => (Object.keys(Topics) as TopicName[]).find((k) => Topics[k].topic === topic)!;

describe("the services' subscription tables", () => {
  for (const service of Object.keys(BUILT) as ServiceName[]) {
    it(`${service}: its table lists exactly the topics its Kafka subscriptions read`, () => {
      const read = BUILT[service]().map((s) => nameOf(s.spec.topic));
      expect(new Set(read).size, "one subscription per topic").toBe(read.length);
      expect([...read].sort()).toEqual([...SERVICE_CONSUMES[service]].sort());
    });
  }

  it("give every topic its consumers (none for one published for partners only), in the platform's service order", () => {
    expect(Object.keys(TOPIC_CONSUMERS).sort()).toEqual(Object.keys(Topics).sort());
    expect(TOPIC_CONSUMERS.Overdue).toEqual(["credit", "notification", "collections", "credit-reporting"]);
    expect(TOPIC_CONSUMERS.StatementIssued).toEqual([]);
    for (const [topic, consumers] of Object.entries(TOPIC_CONSUMERS))
      for (const c of consumers) expect(SERVICE_CONSUMES[c], `${c} reads ${topic}`).toContain(topic);
  });
});
