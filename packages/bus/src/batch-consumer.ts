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
import type { DescMessage } from "@bufbuild/protobuf";
import type { TopicSpec } from "@whiteslip/contracts";
import type { Consumer, KafkaMessage } from "kafkajs";
import type { Subscription } from "./bus";
import { decodeEvent, type EventEnvelope, headersToStrings, UndecodableEventError } from "./envelope";
import { classifyFailure, type FailureClass } from "./failure";
import { GroupMember, type MemberOptions, type Route, tpKey } from "./group-member";
import { endProcessSpan, startBatchSpans, startProcessSpan } from "./tracing";

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

/** Options of a batch consumer: those of every consumer, and the batch size. */
export interface BatchConsumerOptions extends MemberOptions<BatchSubscription> {
  /** Most events per handler call (a fetch larger than this is handed over in slices). Default 500. */
  maxBatch?: number;
}

/** Runs a batch consumer on `bus` (start, stop, healthy, like EventBus.consumer's members). */
export class BatchGroupConsumer extends GroupMember<BatchSubscription, BatchConsumerOptions> {
  /** Handler calls with more than one event (how often batching applied). */
  batches = 0;

  protected async run(consumer: Consumer, routes: Map<string, Route<BatchSubscription>>): Promise<void> {
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
        const running = () => isRunning() && !isStale() && !this.stopping;
        const at = `${tpKey(batch.topic, batch.partition)}@${batch.messages[0]!.offset}`;
        await this.track(at, this.partitionBatch(route, batch.topic, batch.partition, batch.messages, heartbeat, running, done));
      },
    });
  }

  /** One fetch of one partition: sliced into batches, each handled whole or message by message. */
  private async partitionBatch(
    route: Route<BatchSubscription>,
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
      this.release(tpKey(topic, partition));
      done(topic, partition, end);
      this.processed += slice.length;
      await heartbeat().catch(() => undefined);
    }
  }

  /** One event of a failed batch: applied, dead-lettered, or (infrastructure) the partition held at it → false. */
  private async one(
    route: Route<BatchSubscription>,
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
        await new Promise((r) => setTimeout(r, this.backoff(attempt)));
        await heartbeat().catch(() => undefined);
      }
    }
  }

  /** Holds the partition back at `offset` and resumes it after a backoff (never while stopping). */
  private hold(topic: string, partition: number, offset: string, e: unknown, failureClass: FailureClass) {
    const h = this.noteFailure(topic, partition, offset, e, failureClass);
    const delay = this.backoff(h.attempts);
    if (failureClass === "infrastructure")
      this.logger.warn({ topic, partition, offset, attempt: h.attempts, retryInMs: delay, err: h.lastError }, "infrastructure failure; partition held back, retrying");
    this.holdBack(topic, partition, offset, this.stopping ? undefined : delay);
  }
}
