import type { DescMessage } from "@bufbuild/protobuf";
import { context, propagation, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { TopicSpec } from "@whiteslip/contracts";
import { isDomainError } from "@whiteslip/core";
import { type Admin, type Consumer, Kafka, type KafkaMessage, logLevel, type Producer } from "kafkajs";
import { decodeEvent, type EventEnvelope, headersToStrings, type OutgoingEvent, UndecodableEventError } from "./envelope";

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
export interface ConsumerOptions {
  /** The group; one per consuming service (and purpose). */
  groupId: string;
  subscriptions: Subscription[];
  /** Tries of a failing handler before the message goes to the dead-letter topic (default 5). */
  maxAttempts?: number;
  /** First retry delay in ms, doubled each try (default 200). */
  backoffMs?: number;
  /** Read a new group's topics from the start (default true: no fact is missed). */
  fromBeginning?: boolean;
  /** Partitions handled in parallel (order is kept within a partition, i.e. per account). Default 3. */
  partitionsConcurrently?: number;
}

/** A running consumer group member. */
export interface ConsumerHandle {
  readonly groupId: string;
  start(): Promise<void>;
  /** Stops taking messages, lets the in-flight one finish, leaves the group. */
  stop(): Promise<void>;
  /** Messages handled (or dead-lettered) since start. */
  readonly processed: number;
}

const tracer = trace.getTracer("whiteslip.bus");

/** Dead-letter topic of a topic for a consumer group. */
export function deadLetterTopic(topic: string, groupId: string): string {
  return `${topic}.${groupId}.dlq`;
}

/**
 * Kafka for the platform: an idempotent producer with CloudEvents headers and
 * trace propagation, topic creation, and consumers that commit an offset only
 * after its effect is stored, retry with backoff and dead-letter what cannot be
 * handled.
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
  static async connect(opts: { brokers: string[]; clientId: string; logger: BusLogger; topicPrefix?: string }): Promise<EventBus> {
    const kafka = new Kafka({
      clientId: opts.clientId,
      brokers: opts.brokers,
      logLevel: logLevel.NOTHING,
      retry: { initialRetryTime: 100, retries: 8 },
    });
    // Idempotent producer: the broker drops duplicates of a retried batch (KIP-98);
    // kafkajs requires at most one in-flight request for it.
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    const admin = kafka.admin();
    await Promise.all([producer.connect(), admin.connect()]);
    return new EventBus(kafka, producer, admin, opts.logger, opts.topicPrefix ?? "");
  }

  /**
   * Creates the topics that do not exist yet and waits until every partition has
   * a leader. (kafkajs' own `waitForLeaders` gives up on UNKNOWN_TOPIC_OR_PARTITION,
   * which a KRaft broker answers for a moment after creation.)
   */
  async ensureTopics(topics: string[], partitions = 3): Promise<void> {
    const existing = new Set(await this.admin.listTopics());
    const missing = [...new Set(topics.map((t) => this.topicName(t)))].filter((t) => !existing.has(t));
    if (missing.length === 0) return;
    try {
      await this.admin.createTopics({
        topics: missing.map((topic) => ({ topic, numPartitions: partitions })),
        waitForLeaders: false,
      });
    } catch (e) {
      // Another service may have created them at the same moment.
      if (!/already exists/i.test(String((e as Error).message))) throw e;
    }
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const md = await this.admin.fetchTopicMetadata({ topics: missing });
        if (md.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
      } catch (e) {
        if (Date.now() > deadline) throw e;
      }
      if (Date.now() > deadline) throw new Error(`topics have no leader after 30 s: ${missing.join(", ")}`);
      await sleep(100);
    }
  }

  /** Produces events, grouped by topic in one request; resolves when all replicas acknowledged. */
  async publish(events: OutgoingEvent[]): Promise<void> {
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

  /** Stops consumers, disconnects producer and admin. */
  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => c.stop()));
    await Promise.allSettled([this.producer.disconnect(), this.admin.disconnect()]);
  }
}

class GroupConsumer implements ConsumerHandle {
  private consumer: Consumer | undefined;
  private stopping = false;
  processed = 0;
  readonly groupId: string;

  constructor(
    private readonly bus: EventBus,
    private readonly opts: ConsumerOptions,
    private readonly logger: BusLogger,
  ) {
    this.groupId = opts.groupId;
  }

  async start(): Promise<void> {
    const logical = this.opts.subscriptions.map((s) => s.spec.topic);
    await this.bus.ensureTopics([...logical, ...logical.map((t) => deadLetterTopic(t, this.groupId))]);
    const bySpec = new Map(this.opts.subscriptions.map((s) => [this.bus.topicName(s.spec.topic), s]));
    const topics = [...bySpec.keys()];
    const consumer = this.bus.kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      rebalanceTimeout: 10_000,
      // Long-poll at most 250 ms: new events are picked up fast and stop() does not wait 5 s.
      maxWaitTimeInMs: 250,
      retry: { initialRetryTime: 100, retries: 10 },
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: this.opts.fromBeginning ?? true });
    await consumer.run({
      // Offsets are resolved only after handleMessage returns (effect stored or
      // dead-lettered), and committed by kafkajs after that.
      autoCommit: true,
      autoCommitInterval: 1000,
      partitionsConsumedConcurrently: this.opts.partitionsConcurrently ?? 3,
      eachMessage: async ({ topic, partition, message }) => {
        const sub = bySpec.get(topic);
        if (sub) await this.handleMessage(sub, topic, partition, message);
        this.processed++;
      },
    });
  }

  private async handleMessage(sub: Subscription, topic: string, partition: number, message: KafkaMessage) {
    const headers = headersToStrings(message.headers as Record<string, unknown>);
    let event: EventEnvelope;
    try {
      event = decodeEvent(sub.spec, {
        topic,
        partition,
        offset: message.offset,
        key: message.key,
        value: message.value,
        headers,
      });
    } catch (e) {
      await this.deadLetter(topic, partition, message, headers, e as Error, 0);
      return;
    }
    const parent = propagation.extract(context.active(), headers);
    const maxAttempts = this.opts.maxAttempts ?? 5;
    const backoff = this.opts.backoffMs ?? 200;
    for (let attempt = 1; ; attempt++) {
      const span = tracer.startSpan(
        `${topic} process`,
        {
          kind: SpanKind.CONSUMER,
          attributes: {
            "messaging.system": "kafka",
            "messaging.destination.name": topic,
            "messaging.consumer.group.name": this.groupId,
            "messaging.message.id": event.id,
          },
        },
        parent,
      );
      try {
        await context.with(trace.setSpan(parent, span), () => sub.handle(event));
        span.end();
        return;
      } catch (e) {
        const err = e as Error;
        span.recordException(err);
        span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
        span.end();
        // A caller's mistake in the payload will not get better by retrying.
        const permanent = isDomainError(e) && e.kind === "invalid_argument";
        if (permanent || attempt >= maxAttempts || this.stopping) {
          if (this.stopping && !permanent && attempt < maxAttempts) throw err; // redelivered after restart
          await this.deadLetter(topic, partition, message, headers, err, attempt);
          return;
        }
        this.logger.warn(
          { topic, partition, offset: message.offset, eventId: event.id, attempt, err: err.message },
          "event handler failed; retrying",
        );
        await sleep(backoff * 2 ** (attempt - 1));
      }
    }
  }

  private async deadLetter(
    topic: string,
    partition: number,
    message: KafkaMessage,
    headers: Record<string, string>,
    err: Error,
    attempts: number,
  ) {
    // `topic` is the name on the cluster; publish() puts the prefix before the dead-letter name again
    const logicalDlq = deadLetterTopic(topic.slice(this.bus.topicPrefix.length), this.groupId);
    const dlq = this.bus.topicName(logicalDlq);
    this.logger.error(
      { topic, partition, offset: message.offset, eventId: headers.ce_id, dlq, attempts, err: err.message },
      err instanceof UndecodableEventError ? "undecodable message dead-lettered" : "event dead-lettered after retries",
    );
    await this.bus.publish([
      {
        topic: logicalDlq,
        key: message.key?.toString("utf8") ?? "",
        value: message.value ?? new Uint8Array(),
        headers: {
          ...headers,
          dlq_error: err.message.slice(0, 1000),
          dlq_error_kind: err.name,
          dlq_attempts: String(attempts),
          dlq_original_topic: topic,
          dlq_original_partition: String(partition),
          dlq_original_offset: message.offset,
          dlq_consumer_group: this.groupId,
        },
      },
    ]);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const c = this.consumer;
    this.consumer = undefined;
    if (c) await c.disconnect().catch(() => undefined);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
