import { deadLetterTopicOf, PRODUCER_BY_DOMAIN, replayTopicOf, type ServiceName, TOPIC_CONSUMERS } from "./asyncapi";
import { type TopicName, Topics } from "./topics";

/**
 * Who may do what on the Kafka cluster, derived from the topic registry: the
 * one home of the platform's Kafka ACLs. The local broker of the testkit, the
 * test platforms and `whiteslip-ops kafka-acls` (for a real cluster) all apply
 * this list, so a new topic or a new consumer gets its rights in one place.
 *
 * - A service (principal = its name) WRITEs and CREATEs only the topics of its
 *   own domain and the dead-letter topics of its own consumer group, READs only
 *   the topics it consumes (per {@link TOPIC_CONSUMERS}) and their replay topics
 *   for its group (which it CREATEs at start; only the admin, through
 *   `whiteslip-ops dlq replay`, writes there), and only with its own group.
 *   READ and WRITE imply DESCRIBE in Kafka's authorizer.
 * - A partner principal reads one topic, with consumer groups named after
 *   itself; it writes nothing.
 * - Everything else is refused (`allow.everyone.if.no.acl.found=false`); the
 *   admin principal is a super user and needs no ACL.
 *
 * Resources are LITERAL names that include the platform's topic prefix, so every
 * platform sharing a cluster (a test platform, `staging.`) gets a set of its
 * own. LITERAL rather than PREFIXED on `whiteslip.<domain>.`: a dead-letter
 * topic is `<topic>.<group>.dlq`, so a prefix grant on a domain's topics would
 * also cover the dead-letter topics that other services write for that domain.
 * Partner groups are the one PREFIXED resource (`<partner>.`): a partner names
 * its own groups.
 */

/** An operation an ACL allows (Kafka names). */
export type KafkaAclOperation = "READ" | "WRITE" | "CREATE" | "DESCRIBE";

/** One ALLOW binding: principal may do operation on the resource, from any host. */
export interface KafkaAclBinding {
  /** `User:<name>` */
  readonly principal: string;
  readonly resourceType: "TOPIC" | "GROUP";
  readonly patternType: "LITERAL" | "PREFIXED";
  readonly resourceName: string;
  readonly operation: KafkaAclOperation;
}

/** The services of the platform that own a Kafka principal of their own. */
export const KAFKA_SERVICE_PRINCIPALS: readonly ServiceName[] = [
  "credit",
  "billing",
  "notification",
  "collections",
  "credit-reporting",
];

/** Kafka principal (SCRAM user name) of a service: its name. */
export function servicePrincipal(service: ServiceName): string {
  return service;
}

/** Read-only partner principal of a topic, e.g. `partner-payment-received` for PaymentReceived. */
export function partnerPrincipal(topic: TopicName): string {
  return `partner-${topic.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase()}`;
}

/** Every partner principal, one per registry topic. */
export function partnerPrincipals(): { principal: string; topic: TopicName }[] {
  return (Object.keys(Topics) as TopicName[]).map((topic) => ({ principal: partnerPrincipal(topic), topic }));
}

/** The SCRAM users a platform needs besides the admin: the services' and the partners'. */
export function platformPrincipals(): string[] {
  return [...KAFKA_SERVICE_PRINCIPALS.map(servicePrincipal), ...partnerPrincipals().map((p) => p.principal)];
}

/** The topics a service produces (its own domain's), e.g. to create them at its start. */
export function topicsProducedBy(service: string): string[] {
  return Object.values(Topics)
    .filter((spec) => PRODUCER_BY_DOMAIN[spec.domain] === service)
    .map((spec) => spec.topic);
}

/** Options of {@link platformAcls}. */
export interface PlatformAclOptions {
  /** TOPIC_PREFIX of the platform ("" for the contract's names). */
  readonly topicPrefix: string;
  /** Consumer group of each service (default: the service's name, as its CONSUMER_GROUP defaults). */
  readonly groups?: Partial<Record<ServiceName, string>>;
  /** Leave the partner principals out (default: included). */
  readonly partners?: boolean;
}

/** The ACL bindings of one platform, sorted and without duplicates. */
export function platformAcls(opts: PlatformAclOptions): KafkaAclBinding[] {
  const prefix = opts.topicPrefix;
  const out = new Map<string, KafkaAclBinding>();
  const add = (b: KafkaAclBinding) =>
    out.set(`${b.principal}|${b.resourceType}|${b.patternType}|${b.resourceName}|${b.operation}`, b);
  const topic = (principal: string, name: string, operation: KafkaAclOperation) =>
    add({ principal: `User:${principal}`, resourceType: "TOPIC", patternType: "LITERAL", resourceName: prefix + name, operation });

  for (const service of KAFKA_SERVICE_PRINCIPALS) {
    const principal = servicePrincipal(service);
    const group = opts.groups?.[service] ?? service;
    add({ principal: `User:${principal}`, resourceType: "GROUP", patternType: "LITERAL", resourceName: group, operation: "READ" });
    for (const name of Object.keys(Topics) as TopicName[]) {
      const spec = Topics[name];
      if (PRODUCER_BY_DOMAIN[spec.domain] === service) {
        topic(principal, spec.topic, "WRITE");
        topic(principal, spec.topic, "CREATE");
      }
      if (TOPIC_CONSUMERS[name].includes(service)) {
        topic(principal, spec.topic, "READ");
        const dlq = deadLetterTopicOf(spec.topic, group);
        topic(principal, dlq, "WRITE");
        topic(principal, dlq, "CREATE");
        const replay = replayTopicOf(spec.topic, group);
        topic(principal, replay, "READ");
        topic(principal, replay, "CREATE");
      }
    }
  }
  if (opts.partners ?? true) {
    for (const { principal, topic: name } of partnerPrincipals()) {
      topic(principal, Topics[name].topic, "READ");
      add({ principal: `User:${principal}`, resourceType: "GROUP", patternType: "PREFIXED", resourceName: `${principal}.`, operation: "READ" });
    }
  }
  return [...out.values()].sort((a, b) =>
    `${a.principal} ${a.resourceName} ${a.operation}`.localeCompare(`${b.principal} ${b.resourceName} ${b.operation}`),
  );
}
