import { EventBus } from "@whiteslip/bus";
import type { KafkaSasl } from "@whiteslip/config";
import { allTopics, type KafkaAclBinding, type PlatformAclOptions, platformAcls } from "@whiteslip/contracts";
import kafkajs, { type AclEntry } from "kafkajs";

// kafkajs' ACL enums are runtime objects of its CommonJS entry; Node's ESM loader does not see them as named exports.
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

/** A binding of the platform's ACL list in kafkajs' shape (ALLOW, any host). */
export function toKafkajsAcl(b: KafkaAclBinding): AclEntry {
  return {
    principal: b.principal,
    host: "*",
    resourceType: b.resourceType === "TOPIC" ? AclResourceTypes.TOPIC : AclResourceTypes.GROUP,
    resourceName: b.resourceName,
    resourcePatternType: b.patternType === "LITERAL" ? ResourcePatternTypes.LITERAL : ResourcePatternTypes.PREFIXED,
    operation: AclOperationTypes[b.operation],
    permissionType: AclPermissionTypes.ALLOW,
  };
}

/** Options of {@link provisionKafka}. */
export interface ProvisionKafkaOptions extends PlatformAclOptions {
  brokers: string[];
  /** The provisioning principal (a super user, or one allowed to create topics and ACLs). */
  sasl?: KafkaSasl;
  /** Create the ACLs (default: when `sasl` is given; a cluster without authentication has no authorizer). */
  acls?: boolean;
}

const quiet = { info() {}, warn() {}, error() {}, debug() {} };

/**
 * Provisions a platform on a cluster, as its admin: every registry topic under the platform's
 * prefix (a service creates only the topics it writes, so the topics it reads must exist before it
 * starts) and the ACLs of {@link platformAcls}. Idempotent: existing topics and ACLs stay as they are.
 */
export async function provisionKafka(opts: ProvisionKafkaOptions): Promise<{ topics: number; acls: number }> {
  const bus = await EventBus.connect({
    brokers: opts.brokers,
    clientId: "whiteslip-ops-provision",
    logger: quiet,
    topicPrefix: opts.topicPrefix,
    ...(opts.sasl ? { sasl: opts.sasl } : {}),
  });
  try {
    await bus.ensureTopics(allTopics.map((t) => t.topic));
    if (!(opts.acls ?? opts.sasl !== undefined)) return { topics: allTopics.length, acls: 0 };
    const bindings = platformAcls(opts);
    const admin = bus.kafka.admin();
    await admin.connect();
    try {
      await admin.createAcls({ acl: bindings.map(toKafkajsAcl) });
    } finally {
      await admin.disconnect();
    }
    return { topics: allTopics.length, acls: bindings.length };
  } finally {
    await bus.close();
  }
}
