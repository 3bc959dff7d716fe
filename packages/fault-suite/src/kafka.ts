/**
 * The fault suite's one way to build a Kafka client (topic creation, the observer, the barrier, poison, the
 * broker-restart check). Brokers and credentials come from the testkit (`kafkaClientConfig`: SASL as the local
 * broker's admin when the broker needs it), so a change of how tests authenticate to Kafka is made there, not here.
 */
import { type KafkaEndpoints, kafkaClientConfig } from "@whiteslip/testkit";
import { Kafka, type KafkaConfig, logLevel } from "kafkajs";

/** A kafkajs client of the fault suite on `infra`'s broker (quiet: the suite reports what it sees itself). */
export function faultKafka(infra: KafkaEndpoints, clientId: string, extra: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({ clientId, logLevel: logLevel.NOTHING, ...extra, ...kafkaClientConfig(infra) });
}
