/**
 * A consumer group member that hands a handler the messages of a partition in batches (kafkajs `eachBatch`), for a
 * consumer whose work per message is mostly round trips to its database (one query for a batch instead of one per
 * message). The failure classes are the bus's (failure.ts, docs/architecture.md "Failure classes in the bus"):
 *
 * - a batch is first given whole to `handleBatch`; it returns → every message is done;
 * - it fails with an infrastructure error → the partition is held back at the batch's first message (paused,
 *   sought back, resumed after a capped jittered backoff) for as long as it takes, and `healthy` is false meanwhile
 *   (readiness NOT_SERVING); nothing of the batch is committed;
 * - it fails otherwise → the batch is taken apart: each message goes to `handle` alone, so a poison message is
 *   dead-lettered at once (permanent), a bug retried `maxAttempts` times in place and then dead-lettered with its
 *   error, stack and attempts, and the good messages around it are applied. An infrastructure error there holds
 *   the partition at that message;
 * - undecodable messages are dead-lettered at once, before the batch is handed over.
 *
 * Offsets are committed only for done messages (every `commitIntervalMs` and before leaving the group), so a
 * member killed mid-batch leaves the batch to the next owner; handlers must be idempotent by event id, as every
 * consumer of the platform is. Replay topics (`dlq replay`) are read like the GroupConsumer reads them.
 */
import { context } from "@opentelemetry/api";
import type { Consumer, KafkaMessage } from "kafkajs";
import type { BusLogger, ConsumerHandle, EventBus, HeldPartition, Subscription } from "./bus";
import { type DeadLetterCause, deadLetterHeaders, deadLetterTopic, REPLAY_PARTITIONS, replayTopic } from "./dead-letter";
import { decodeEvent, type EventEnvelope, headersToStrings, UndecodableEventError } from "./envelope";
import { backoffDelay, classifyFailure, type FailureClass } from "./failure";
import { resumeUnarmedPauses, unpause } from "./pauses";
import { endProcessSpan, startBatchSpans, startProcessSpan } from "./tracing";
import type { TopicSpec } from "@whiteslip/contracts";
import type { DescMessage } from "@bufbuild/protobuf";

/** A topic whose events are handled in batches, with the one-event handler the batch falls back to. */
export interface BatchSubscription {
  readonly spec: TopicSpec;
  /** Applies a batch (in partition order) as one unit of work; throwing means none of it is known to be done. */
  handleBatch(events: EventEnvelope[]): Promise<void>;
  /** Applies one event (a failed batch is retried message by message). */
  handle(event: EventEnvelope): Promise<void>;
}

/** Binds typed batch and single handlers to a topic. */
export function subscribeBatch<S extends DescMessage>(
  spec: TopicSpec<S>,
  handleBatch: (events: EventEnvelope<S>[]) => Promise<void>,
  handle: (event: EventEnvelope<S>) => Promise<void>,
): BatchSubscription {
  return {
    spec,
    handleBatch: handleBatch as (e: EventEnvelope[]) => Promise<void>,
    handle: handle as (e: EventEnvelope) => Promise<void>,
  };
}

/**
 * A one-event subscription (`subscribe(Topics.X, handle)`, how every service declares what it reads) given a batch
 * handler for the same events.
 */
export function withBatch<S extends DescMessage>(
  sub: Subscription,
  handleBatch: (events: EventEnvelope<S>[]) => Promise<void>,
): BatchSubscription {
  return { spec: sub.spec, handleBatch: handleBatch as (e: EventEnvelope[]) => Promise<void>, handle: (e) => sub.handle(e) };
}

/**
 * A one-event subscription as a batch subscription: its events applied one after the other, in order. A
 * subscription that is a batch subscription already (withBatch) is returned as it is.
 */
export function asBatch(sub: Subscription | BatchSubscription): BatchSubscription {
  if ("handleBatch" in sub) return sub;
  return {
    spec: sub.spec,
    handleBatch: async (events) => {
      for (const e of events) await sub.handle(e);
    },
    handle: (e) => sub.handle(e),
  };
}

/** Options of a batch consumer. */
export interface BatchConsumerOptions {
  groupId: string;
  subscriptions: BatchSubscription[];
  /** Most events per handler call (a fetch larger than this is handed over in slices). Default 500. */
  maxBatch?: number;
  /** Tries of a single event failing with a bug before it is dead-lettered (default 5). */
  maxAttempts?: number;
  /** First retry delay (default 200 ms), doubled each try, jittered, capped at `maxBackoffMs` (default 30 s). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** How often done offsets are committed (default 1 s). */
  commitIntervalMs?: number;
  /** Partitions handled at once (default 3). */
  partitionsConcurrently?: number;
  /** Read a new group's topics from the start (default true). */
  fromBeginning?: boolean;
}

interface Hold {
  topic: string;
  partition: number;
  offset: string;
  attempts: number;
  failureClass: FailureClass;
  since: Date;
  error: string;
  timer?: NodeJS.Timeout;
}

/** Runs a batch consumer on `bus` (start, stop, healthy, like EventBus.consumer's members). */
export class BatchGroupConsumer implements ConsumerHandle {
  private consumer: Consumer | undefined;
  private stopping = false;
  private crashed = false;
  private readonly holds = new Map<string, Hold>();
  private readonly pending = new Map<string, { topic: string; partition: number; offset: string }>();
  private readonly inFlight = new Set<Promise<void>>();
  private commitTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  processed = 0;
  /** Handler calls with more than one event (how often batching applied). */
  batches = 0;
  readonly groupId: string;

  constructor(
    private readonly bus: EventBus,
    private readonly opts: BatchConsumerOptions,
    private readonly logger: BusLogger,
  ) {
    this.groupId = opts.groupId;
  }

  get healthy(): boolean {
    if (this.crashed) return false;
    for (const h of this.holds.values()) if (h.failureClass === "infrastructure") return false;
    return true;
  }

  get heldPartitions(): HeldPartition[] {
    return [...this.holds.values()].map((h) => ({
      topic: h.topic,
      partition: h.partition,
      offset: h.offset,
      attempts: h.attempts,
      failureClass: h.failureClass,
      since: h.since,
      error: h.error,
    }));
  }

  async start(): Promise<void> {
    const logical = this.opts.subscriptions.map((s) => s.spec.topic);
    const replays = logical.map((t) => replayTopic(t, this.groupId));
    const replaySet = new Set(replays);
    await this.bus.ensureTopics([...logical, ...logical.map((t) => deadLetterTopic(t, this.groupId)), ...replays], (t) =>
      replaySet.has(t) ? REPLAY_PARTITIONS : 3,
    );
    const routes = new Map<string, { sub: BatchSubscription; logical: string }>();
    for (const s of this.opts.subscriptions) {
      routes.set(this.bus.topicName(s.spec.topic), { sub: s, logical: s.spec.topic });
      routes.set(this.bus.topicName(replayTopic(s.spec.topic, this.groupId)), { sub: s, logical: s.spec.topic });
    }
    const consumer = this.bus.kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      rebalanceTimeout: 10_000,
      maxWaitTimeInMs: 250,
      retry: { initialRetryTime: 100, retries: 10 },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const owned = new Set(Object.entries(payload.memberAssignment).flatMap(([t, ps]) => ps.map((p) => key(t, p))));
      for (const [k, h] of this.holds) if (!owned.has(k)) this.release(k, h);
      for (const k of this.pending.keys()) if (!owned.has(k)) this.pending.delete(k);
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.logger.error({ group: this.groupId, err: payload.error.message, restart: payload.restart }, "consumer crashed");
      if (!payload.restart && !this.stopping) this.crashed = true;
    });
    await consumer.connect();
    await consumer.subscribe({ topics: logical.map((t) => this.bus.topicName(t)), fromBeginning: this.opts.fromBeginning ?? true });
    await consumer.subscribe({ topics: replays.map((t) => this.bus.topicName(t)), fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.opts.partitionsConcurrently ?? 3,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
        const route = routes.get(batch.topic);
        if (!route || batch.messages.length === 0) return;
        // resolveOffset moves kafkajs' fetch position (commits are ours, markDone/flushCommits): an unresolved
        // message is fetched again, a resolved one is not
        const done = (topic: string, partition: number, offset: string) => {
          this.markDone(topic, partition, offset);
          resolveOffset(offset);
        };
        const work = this.partitionBatch(route, batch.topic, batch.partition, batch.messages, heartbeat, () => isRunning() && !isStale() && !this.stopping, done);
        this.inFlight.add(work);
        try {
          await work;
        } finally {
          this.inFlight.delete(work);
        }
      },
    });
    this.commitTimer = setInterval(() => {
      this.checkPauses();
      void this.flushCommits();
    }, this.opts.commitIntervalMs ?? 1_000);
    this.commitTimer.unref();
  }

  /** One fetch of one partition: sliced into batches, each handled whole or message by message. */
  private async partitionBatch(
    route: { sub: BatchSubscription; logical: string },
    topic: string,
    partition: number,
    messages: KafkaMessage[],
    heartbeat: () => Promise<void>,
    running: () => boolean,
    done: (topic: string, partition: number, offset: string) => void,
  ): Promise<void> {
    const max = this.opts.maxBatch ?? 500;
    for (let i = 0; i < messages.length; i += max) {
      if (!running()) {
        // Stopping: the partition stays where it is for its next owner. Stale (sought) or rejoining: kafkajs
        // fetches it again from the resolved position — pausing it here, with no retry armed, would leave it
        // paused for good (nothing would resume it), a silent stall of the partition.
        if (this.stopping) this.holdBack(topic, partition, messages[i]!.offset, undefined);
        return;
      }
      const slice = messages.slice(i, i + max);
      const events: { event: EventEnvelope; message: KafkaMessage; headers: Record<string, string> }[] = [];
      try {
        for (const message of slice) {
          const headers = headersToStrings(message.headers as Record<string, unknown>);
          try {
            events.push({ event: decodeEvent(route.sub.spec, { topic, partition, offset: message.offset, key: message.key, value: message.value, headers }), message, headers });
          } catch (e) {
            const error = e instanceof UndecodableEventError ? e : new UndecodableEventError(String((e as Error).message));
            await this.deadLetter(route.logical, message, headers, { topic, partition, offset: message.offset, groupId: this.groupId }, { error, errorClass: "permanent", attempts: 0, firstFailureAt: new Date() });
          }
        }
      } catch (e) {
        // dead-lettering failed (the broker is away): hold the partition at this slice
        this.hold(topic, partition, slice[0]!.offset, e, "infrastructure");
        return;
      }
      if (events.length > 0) {
        try {
          const spans = startBatchSpans(topic, this.groupId, events.map((x) => ({ topic, groupId: this.groupId, offset: x.message.offset, eventId: x.event.id, headers: x.headers })));
          try {
            await context.with(spans.ctx, () => route.sub.handleBatch(events.map((x) => x.event)));
            spans.end();
          } catch (e) {
            spans.end(e);
            throw e;
          }
          if (events.length > 1) this.batches++;
        } catch (e) {
          const cls = classifyFailure(e);
          if (cls === "infrastructure") {
            this.hold(topic, partition, slice[0]!.offset, e, cls);
            return;
          }
          this.logger.warn({ topic, partition, from: slice[0]!.offset, events: events.length, err: (e as Error).message }, "batch failed; handling its events one by one");
          for (const x of events) {
            if (!(await this.one(route, topic, partition, x, heartbeat))) return;
            done(topic, partition, x.message.offset); // applied or dead-lettered: not redelivered
          }
        }
      }
      const end = slice.at(-1)!.offset;
      this.release(key(topic, partition));
      done(topic, partition, end);
      this.processed += slice.length;
      await heartbeat().catch(() => undefined);
    }
  }

  /** One event of a failed batch: applied, dead-lettered, or (infrastructure) the partition held at it → false. */
  private async one(
    route: { sub: BatchSubscription; logical: string },
    topic: string,
    partition: number,
    x: { event: EventEnvelope; message: KafkaMessage; headers: Record<string, string> },
    heartbeat: () => Promise<void>,
  ): Promise<boolean> {
    const maxAttempts = this.opts.maxAttempts ?? 5;
    const firstFailureAt = new Date();
    for (let attempt = 1; ; attempt++) {
      const { span, ctx } = startProcessSpan({ topic, groupId: this.groupId, offset: x.message.offset, eventId: x.event.id, headers: x.headers });
      try {
        await context.with(ctx, () => route.sub.handle(x.event));
        endProcessSpan(span);
        return true;
      } catch (e) {
        endProcessSpan(span, e);
        const cls = classifyFailure(e);
        const err = e instanceof Error ? e : new Error(String(e));
        if (cls === "infrastructure" || (cls === "unexpected" && this.stopping)) {
          this.hold(topic, partition, x.message.offset, err, cls);
          return false;
        }
        if (cls === "permanent" || attempt >= maxAttempts) {
          try {
            await this.deadLetter(route.logical, x.message, x.headers, { topic, partition, offset: x.message.offset, groupId: this.groupId }, { error: err, errorClass: cls === "permanent" ? "permanent" : "unexpected", attempts: attempt, firstFailureAt });
          } catch (dlqErr) {
            this.hold(topic, partition, x.message.offset, dlqErr, "infrastructure");
            return false;
          }
          return true;
        }
        this.logger.warn({ topic, partition, offset: x.message.offset, eventId: x.event.id, attempt, err: err.message }, "event handler failed; retrying");
        await new Promise((r) => setTimeout(r, backoffDelay(attempt, this.opts.backoffMs ?? 200, this.opts.maxBackoffMs ?? 30_000)));
        await heartbeat().catch(() => undefined);
      }
    }
  }

  /** Holds the partition back at `offset` and resumes it after a backoff (never while stopping). */
  private hold(topic: string, partition: number, offset: string, e: unknown, failureClass: FailureClass) {
    const k = key(topic, partition);
    let h = this.holds.get(k);
    if (!h || h.offset !== offset) {
      if (h?.timer) clearTimeout(h.timer);
      h = { topic, partition, offset, attempts: 0, failureClass, since: new Date(), error: "" };
      this.holds.set(k, h);
    }
    h.attempts++;
    h.failureClass = failureClass;
    h.error = `${(e as Error).name}: ${(e as Error).message}`;
    const delay = backoffDelay(h.attempts, this.opts.backoffMs ?? 200, this.opts.maxBackoffMs ?? 30_000);
    if (failureClass === "infrastructure") this.logger.warn({ topic, partition, offset, attempt: h.attempts, retryInMs: delay, err: h.error }, "infrastructure failure; partition held back, retrying");
    this.holdBack(topic, partition, offset, this.stopping ? undefined : delay);
  }

  private holdBack(topic: string, partition: number, offset: string, delayMs: number | undefined) {
    const c = this.consumer;
    if (!c) return;
    const tp = [{ topic, partitions: [partition] }];
    c.pause(tp);
    c.seek({ topic, partition, offset });
    const h = this.holds.get(key(topic, partition));
    if (h?.timer) clearTimeout(h.timer);
    if (delayMs === undefined) return;
    const timer = setTimeout(() => {
      if (h) h.timer = undefined;
      if (this.stopping || this.consumer !== c) return;
      try {
        c.resume(tp);
      } catch {
        // not running any more: the next owner starts from the committed offset
      }
    }, delayMs);
    if (h) h.timer = timer;
  }

  private release(k: string, h = this.holds.get(k)) {
    if (!h) return;
    if (h.timer) clearTimeout(h.timer);
    this.holds.delete(k);
    // a pause outlives a rebalance in kafkajs; the hold and its timer do not (see GroupConsumer.release)
    this.unpause(h.topic, h.partition);
    if (h.failureClass === "infrastructure") this.logger.info({ topic: h.topic, partition: h.partition, offset: h.offset, attempts: h.attempts }, "partition recovered");
  }

  private unpause(topic: string, partition: number) {
    if (!this.stopping) unpause(this.consumer, topic, partition);
  }

  /** The pause invariant (pauses.ts), checked on each commit tick as GroupConsumer does. */
  private checkPauses() {
    if (this.stopping) return;
    resumeUnarmedPauses(
      this.consumer,
      (topic, partition) => this.holds.get(key(topic, partition))?.timer !== undefined,
      (topic, partition) => this.logger.warn({ group: this.groupId, topic, partition }, "partition paused with no retry armed; resuming it"),
    );
  }

  private markDone(topic: string, partition: number, offset: string) {
    const k = key(topic, partition);
    const next = (BigInt(offset) + 1n).toString();
    const cur = this.pending.get(k);
    if (!cur || BigInt(cur.offset) < BigInt(next)) this.pending.set(k, { topic, partition, offset: next });
  }

  /** Commits the offsets of done messages; a failure keeps them for the next flush. */
  flushCommits(): Promise<void> {
    this.flushing ??= (async () => {
      const c = this.consumer;
      const batch = [...this.pending.entries()];
      if (!c || batch.length === 0) return;
      try {
        await c.commitOffsets(batch.map(([, v]) => v));
        for (const [k, v] of batch) if (this.pending.get(k) === v) this.pending.delete(k);
      } catch (e) {
        this.logger.debug({ group: this.groupId, err: (e as Error).message }, "offset commit failed; will retry");
      }
    })().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async deadLetter(
    logical: string,
    message: KafkaMessage,
    headers: Record<string, string>,
    at: { topic: string; partition: number; offset: string; groupId: string },
    cause: DeadLetterCause,
  ) {
    const dlq = deadLetterTopic(logical, this.groupId);
    this.logger.error(
      { topic: at.topic, partition: at.partition, offset: at.offset, eventId: headers.ce_id, dlq: this.bus.topicName(dlq), attempts: cause.attempts, errorClass: cause.errorClass, err: cause.error.message },
      cause.error instanceof UndecodableEventError ? "undecodable message dead-lettered" : `event dead-lettered (${cause.errorClass})`,
    );
    await this.bus.publish([{ topic: dlq, key: message.key?.toString("utf8") ?? "", value: message.value ?? new Uint8Array(), headers: deadLetterHeaders(headers, at, cause, new Date()) }]);
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.commitTimer) clearInterval(this.commitTimer);
    for (const h of this.holds.values()) if (h.timer) clearTimeout(h.timer);
    await Promise.allSettled([...this.inFlight]);
    await this.flushCommits();
    const c = this.consumer;
    this.consumer = undefined;
    if (c) await c.disconnect().catch(() => undefined);
  }
}

function key(topic: string, partition: number): string {
  return `${topic}|${partition}`;
}
