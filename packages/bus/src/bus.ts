import type { DescMessage } from "@bufbuild/protobuf";
import { context, propagation } from "@opentelemetry/api";
import type { TopicSpec } from "@whiteslip/contracts";
import { type Admin, Kafka, logLevel, type Producer, type SASLOptions } from "kafkajs";
import { retryBroker } from "./broker-retry";
import { GroupConsumer } from "./consumer";
import type { EventEnvelope, OutgoingEvent } from "./envelope";
import type { FailureClass } from "./failure";
import type { MemberOptions } from "./group-member";

/** SASL credentials of a bus's Kafka principal (SCRAM, as on the platform's brokers, or PLAIN). */
export interface BusSasl {
  mechanism: "scram-sha-512" | "scram-sha-256" | "plain";
  username: string;
  password: string;
}

/** The logging surface the bus needs (pino-compatible). */
export interface BusLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

/** A handler for one topic. */
export interface Subscription {
  readonly spec: TopicSpec;
  handle(event: EventEnvelope): Promise<void>;
}

/** Binds a typed handler to a topic. */
export function subscribe<S extends DescMessage>(
  spec: TopicSpec<S>,
  handler: (event: EventEnvelope<S>) => Promise<void>,
): Subscription {
  return { spec, handle: handler as (e: EventEnvelope) => Promise<void> };
}

/** Options of a consumer group. */
/** A one-message-at-a-time consumer's options (group-member.ts documents each). */
export type ConsumerOptions = MemberOptions<Subscription>;

/** A running consumer group member. */
export interface ConsumerHandle {
  readonly groupId: string;
  start(): Promise<void>;
  /** Stops taking messages, lets the in-flight one finish, leaves the group. */
  stop(): Promise<void>;
  /** Messages handled (or dead-lettered) since start. */
  readonly processed: number;
  /**
   * False while a partition is held back for infrastructure trouble (or the consumer crashed for good): the
   * service's readiness reports NOT_SERVING meanwhile. Retries of a bug do not make it unhealthy.
   */
  readonly healthy: boolean;
  /** The partitions held back right now, each at the message it retries. */
  readonly heldPartitions: HeldPartition[];
}

/** A partition a consumer holds back at a message it has not handled yet. */
export interface HeldPartition {
  topic: string;
  partition: number;
  /** Offset of the message being retried (nothing after it is handled or committed before it). */
  offset: string;
  /** Failed handler calls so far. */
  attempts: number;
  failureClass: FailureClass;
  /** When the first call failed. */
  since: Date;
  /** The last error, `name: message`. */
  error: string;
}

/**
 * Kafka for the platform: an idempotent producer with CloudEvents headers and
 * trace propagation, topic creation, and consumers that commit an offset only
 * after its effect is stored and act on the failure class of an error: permanent
 * → dead-letter at once, infrastructure → hold the partition and retry for as long
 * as it takes, unexpected → bounded retries, then dead-letter (see failure.ts).
 */
export class EventBus {
  private readonly consumers = new Set<ConsumerHandle>();

  private constructor(
    readonly kafka: Kafka,
    private readonly producer: Producer,
    private readonly admin: Admin,
    private readonly logger: BusLogger,
    /**
     * Put before every topic name this bus creates, produces to and consumes from
     * (dead-letter topics included), so several platforms can share one cluster
     * without reading each other's facts: e.g. `staging.`, or one per test platform.
     * Empty by default: the names of the contract.
     */
    readonly topicPrefix: string,
  ) {}

  /** The topic on the cluster for a contract topic name. */
  topicName(topic: string): string {
    return this.topicPrefix + topic;
  }

  /** Connects the producer and admin client. */
  static async connect(opts: {
    brokers: string[];
    clientId: string;
    logger: BusLogger;
    topicPrefix?: string;
    /** SASL credentials of the bus's own Kafka principal. */
    sasl?: BusSasl;
  }): Promise<EventBus> {
    const kafka = new Kafka({
      clientId: opts.clientId,
      brokers: opts.brokers,
      logLevel: logLevel.NOTHING,
      retry: { initialRetryTime: 100, retries: 8 },
      // kafkajs types `sasl` as a union per mechanism; BusSasl is the same shape
      ...(opts.sasl ? { sasl: opts.sasl as SASLOptions } : {}),
    });
    // Idempotent producer: the broker drops duplicates of a retried batch (KIP-98);
    // kafkajs requires at most one in-flight request for it.
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    const admin = kafka.admin();
    await Promise.all([producer.connect(), admin.connect()]);
    return new EventBus(kafka, producer, admin, opts.logger, opts.topicPrefix ?? "");
  }

  /**
   * Creates the topics that do not exist yet (`partitions` each, or as the function says for a contract topic
   * name) and waits until every partition has
   * a leader. (kafkajs' own `waitForLeaders` gives up on UNKNOWN_TOPIC_OR_PARTITION,
   * which a KRaft broker answers for a moment after creation.)
   */
  async ensureTopics(topics: string[], partitions: number | ((topic: string) => number) = 3): Promise<void> {
    const wanted = new Map(topics.map((t) => [this.topicName(t), typeof partitions === "number" ? partitions : partitions(t)]));
    const onRetry = (e: unknown, attempt: number, delayMs: number) =>
      this.logger.warn({ err: (e as Error).message, attempt, retryInMs: delayMs }, "creating topics: broker busy or away; retrying");
    // Listed again on every try: a create that timed out may have been carried out by the controller after all.
    const missing = await retryBroker(async () => {
      const existing = new Set(await this.admin.listTopics());
      const left = [...wanted.keys()].filter((t) => !existing.has(t));
      if (left.length === 0) return left;
      try {
        await this.admin.createTopics({ topics: left.map((topic) => ({ topic, numPartitions: wanted.get(topic)! })), waitForLeaders: false });
      } catch (e) {
        // Another service may have created them at the same moment.
        if (!/already exists/i.test(String((e as Error).message)) && !isAllAlreadyExists(e)) throw e;
      }
      return left;
    }, { onRetry });
    if (missing.length === 0) return;
    const deadline = Date.now() + 120_000;
    for (;;) {
      try {
        const md = await this.admin.fetchTopicMetadata({ topics: missing });
        if (md.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
      } catch (e) {
        if (Date.now() > deadline) throw e;
      }
      if (Date.now() > deadline) throw new Error(`topics have no leader after 120 s: ${missing.join(", ")}`);
      await sleep(100);
    }
  }

  /** The send in flight: sends are one at a time (see publish). */
  private sending: Promise<unknown> = Promise.resolve();

  /**
   * Produces events, grouped by topic in one request; resolves when all replicas acknowledged. One send at a
   * time per bus: kafkajs' idempotent producer numbers each partition's batches as it sends them, and two sends
   * in flight that are retried across a broker restart arrive out of order — the broker then refuses every
   * later batch of that producer (OUT_OF_ORDER_SEQUENCE_NUMBER), measured in the fault suite's Kafka stop once
   * end-of-day published next to the outbox relay.
   */
  publish(events: OutgoingEvent[]): Promise<void> {
    const next = this.sending.then(
      () => this.send(events),
      () => this.send(events),
    );
    this.sending = next.catch(() => undefined);
    return next;
  }

  private async send(events: OutgoingEvent[]): Promise<void> {
    if (events.length === 0) return;
    const carrier: Record<string, string> = {};
    propagation.inject(context.active(), carrier);
    const byTopic = new Map<string, OutgoingEvent[]>();
    for (const e of events) {
      const topic = this.topicName(e.topic);
      const list = byTopic.get(topic) ?? [];
      list.push(e);
      byTopic.set(topic, list);
    }
    await this.producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, list]) => ({
        topic,
        messages: list.map((e) => ({
          key: e.key,
          value: Buffer.from(e.value),
          headers: { ...carrier, ...e.headers },
        })),
      })),
    });
  }

  /** A consumer group member; call `start()`. */
  consumer(opts: ConsumerOptions): ConsumerHandle {
    const handle = new GroupConsumer(this, opts, this.logger);
    this.consumers.add(handle);
    return handle;
  }

  /** False while any consumer of this bus holds a partition back for infrastructure trouble. */
  get healthy(): boolean {
    for (const c of this.consumers) if (!c.healthy) return false;
    return true;
  }

  /** Stops consumers, disconnects producer and admin. */
  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => c.stop()));
    await Promise.allSettled([this.producer.disconnect(), this.admin.disconnect()]);
  }
}

/** kafkajs' "Topic creation errors" where every topic's error is that it already exists. */
function isAllAlreadyExists(e: unknown): boolean {
  const errors = (e as { errors?: unknown })?.errors;
  return Array.isArray(errors) && errors.length > 0 && errors.every((x) => /already exists/i.test(String((x as Error)?.message)));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
