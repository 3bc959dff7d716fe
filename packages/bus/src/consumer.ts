import { context, type ObservableResult } from "@opentelemetry/api";
import { meter } from "@whiteslip/telemetry";
import type { Consumer, KafkaMessage } from "kafkajs";
import { type DeadLetterCause, deadLetterHeaders, deadLetterTopic, REPLAY_PARTITIONS, replayTopic } from "./dead-letter";
import { decodeEvent, type EventEnvelope, headersToStrings, UndecodableEventError } from "./envelope";
import { backoffDelay, classifyFailure, type FailureClass } from "./failure";
import type { BusLogger, ConsumerHandle, ConsumerOptions, EventBus, HeldPartition, Subscription } from "./bus";
import { resumeUnarmedPauses, unpause } from "./pauses";
import { endProcessSpan, startProcessSpan } from "./tracing";

/** A message the consumer holds its partition back for: not handled yet, not committed, retried after a delay. */
interface Hold {
  topic: string;
  partition: number;
  offset: string;
  /** Failed handler calls (all classes). */
  attempts: number;
  /** Failed handler calls of class `unexpected` (bounded by maxAttempts). */
  unexpected: number;
  firstFailureAt: Date;
  failureClass: FailureClass;
  lastError: string;
  timer?: NodeJS.Timeout;
}

type Outcome = { done: true } | { done: false; failureClass: FailureClass; delayMs: number | undefined };

/**
 * One member of a consumer group. Offsets are committed by this class, not by kafkajs' auto-commit: a message is
 * "done" when its handler returned or it was dead-lettered, and only done offsets are committed (every
 * `commitIntervalMs`, and before leaving the group). A message that must be retried holds its partition back:
 * the partition is paused and sought back to the message, `eachMessage` returns at once (so kafkajs keeps
 * fetching the other partitions and heart-beating), and a timer resumes the partition after a jittered,
 * capped backoff, which redelivers the message. Auto-commit could not be used for this: kafkajs resolves and
 * commits the offset of every message whose `eachMessage` returned, and throwing instead counts against the
 * consumer's restart budget and stalls every partition of the broker for the retrier's delay.
 */
export class GroupConsumer implements ConsumerHandle {
  private consumer: Consumer | undefined;
  private stopping = false;
  private crashed = false;
  private readonly holds = new Map<string, Hold>();
  /** Next offset to commit per topic-partition (done messages only). */
  private readonly pending = new Map<string, { topic: string; partition: number; offset: string }>();
  private readonly inFlight = new Set<Promise<void>>();
  private commitTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private readonly meter = meter("bus");
  private readonly deadLetters = this.meter.createCounter("whiteslip.bus.dead_letters", {
    description: "Messages sent to a dead-letter topic, by dead-letter topic, consumer group and failure class",
  });
  private readonly retries = this.meter.createCounter("whiteslip.bus.retries", {
    description: "Failed handler calls that will be retried, by topic, consumer group and failure class",
  });
  private readonly heldGauge = this.meter.createObservableGauge("whiteslip.bus.held_partitions", {
    description: "Partitions a consumer group member holds back for infrastructure trouble (0 when healthy)",
  });
  private readonly pauseRepairs = this.meter.createCounter("whiteslip.bus.pause_repairs", {
    description: "Partitions found paused with no retry armed and resumed (a bug in the hold bookkeeping; 0 when healthy)",
  });
  /** Handler calls in flight: topic|partition@offset → when it started (for the slow-handler report). */
  private readonly handling = new Map<string, { at: number; reported: boolean }>();
  private readonly observeHeld = (r: ObservableResult) =>
    r.observe([...this.holds.values()].filter((h) => h.failureClass === "infrastructure").length, { group: this.groupId });
  processed = 0;
  readonly groupId: string;

  constructor(
    private readonly bus: EventBus,
    private readonly opts: ConsumerOptions,
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
      since: h.firstFailureAt,
      error: h.lastError,
    }));
  }

  async start(): Promise<void> {
    const logical = this.opts.subscriptions.map((s) => s.spec.topic);
    const replays = logical.map((t) => replayTopic(t, this.groupId));
    // A replay topic carries a few operator-chosen messages now and then: one partition is plenty (and every
    // partition is in each fetch of every member of the group). One request creates them all.
    const replaySet = new Set(replays);
    await this.bus.ensureTopics([...logical, ...logical.map((t) => deadLetterTopic(t, this.groupId)), ...replays], (t) =>
      replaySet.has(t) ? REPLAY_PARTITIONS : 3,
    );
    // cluster topic name → its subscription and the contract topic it belongs to (a replay topic belongs to its source)
    const routes = new Map<string, { sub: Subscription; logical: string }>();
    for (const s of this.opts.subscriptions) {
      routes.set(this.bus.topicName(s.spec.topic), { sub: s, logical: s.spec.topic });
      routes.set(this.bus.topicName(replayTopic(s.spec.topic, this.groupId)), { sub: s, logical: s.spec.topic });
    }
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
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => this.onAssignment(payload.memberAssignment));
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.logger.error({ group: this.groupId, err: payload.error.message, restart: payload.restart }, "consumer crashed");
      if (!payload.restart && !this.stopping) this.crashed = true;
    });
    this.heldGauge.addCallback(this.observeHeld);
    await consumer.connect();
    await consumer.subscribe({
      topics: logical.map((t) => this.bus.topicName(t)),
      fromBeginning: this.opts.fromBeginning ?? true,
    });
    // Replays are meant for this group whenever it runs: read from the start the first time.
    await consumer.subscribe({ topics: replays.map((t) => this.bus.topicName(t)), fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: this.opts.partitionsConcurrently ?? 3,
      eachMessage: async ({ topic, partition, message }) => {
        const route = routes.get(topic);
        if (!route) return;
        if (this.stopping) {
          // not handled: left for whoever owns the partition next (redelivered after restart)
          this.holdBack(topic, partition, message.offset, undefined);
          return;
        }
        const work = this.process(route.sub, route.logical, topic, partition, message);
        const at = `${tpKey(topic, partition)}@${message.offset}`;
        this.inFlight.add(work);
        this.handling.set(at, { at: Date.now(), reported: false });
        try {
          await work;
        } finally {
          this.inFlight.delete(work);
          this.handling.delete(at);
        }
      },
    });
    const interval = this.opts.commitIntervalMs ?? 1_000;
    this.commitTimer = setInterval(() => {
      this.checkPauses();
      void this.flushCommits();
    }, interval);
    this.commitTimer.unref();
  }

  /** Handles one delivery of a message: done (handled or dead-lettered), or held back for a retry. */
  private async process(sub: Subscription, logical: string, topic: string, partition: number, message: KafkaMessage) {
    const key = tpKey(topic, partition);
    const outcome = await this.attempt(sub, logical, topic, partition, message).catch(
      (e): Outcome => {
        // dead-lettering itself failed (the broker is away): keep the message and try again later
        const failureClass = classifyFailure(e);
        this.noteFailure(topic, partition, message.offset, e as Error, failureClass);
        this.logger.error({ topic, partition, offset: message.offset, err: (e as Error).message }, "dead-lettering failed; holding the partition");
        return { done: false, failureClass, delayMs: this.delayFor(this.holds.get(key)!, "infrastructure") };
      },
    );
    if (outcome.done) {
      const hold = this.holds.get(key);
      if (hold && BigInt(message.offset) >= BigInt(hold.offset)) this.release(key, hold);
      this.markDone(topic, partition, message.offset);
      this.processed++;
      return;
    }
    this.holdBack(topic, partition, message.offset, this.stopping ? undefined : outcome.delayMs);
  }

  private async attempt(
    sub: Subscription,
    logical: string,
    topic: string,
    partition: number,
    message: KafkaMessage,
  ): Promise<Outcome> {
    const headers = headersToStrings(message.headers as Record<string, unknown>);
    const at = { topic, partition, offset: message.offset, groupId: this.groupId };
    let event: EventEnvelope;
    try {
      event = decodeEvent(sub.spec, { topic, partition, offset: message.offset, key: message.key, value: message.value, headers });
    } catch (e) {
      const error = e instanceof UndecodableEventError ? e : new UndecodableEventError(String((e as Error).message));
      await this.deadLetter(logical, message, headers, at, { error, errorClass: "permanent", attempts: 0, firstFailureAt: new Date() });
      return { done: true };
    }
    const { span, ctx } = startProcessSpan({ topic, groupId: this.groupId, offset: message.offset, eventId: event.id, headers });
    try {
      await context.with(ctx, () => sub.handle(event));
      endProcessSpan(span);
      return { done: true };
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      endProcessSpan(span, err);
      const failureClass = classifyFailure(e);
      const hold = this.noteFailure(topic, partition, message.offset, err, failureClass);
      const maxAttempts = this.opts.maxAttempts ?? 5;
      const giveUp = failureClass === "permanent" || (failureClass === "unexpected" && hold.unexpected >= maxAttempts);
      // Stopping: nothing is given up on the way out (the next owner tries again); a permanent error stays permanent.
      if (giveUp && (failureClass === "permanent" || !this.stopping)) {
        await this.deadLetter(logical, message, headers, at, {
          error: err,
          errorClass: failureClass === "permanent" ? "permanent" : "unexpected",
          attempts: hold.attempts,
          firstFailureAt: hold.firstFailureAt,
        });
        return { done: true };
      }
      this.retries.add(1, { topic, group: this.groupId, error_class: failureClass });
      const delayMs = this.delayFor(hold, failureClass);
      const log = { topic, partition, offset: message.offset, eventId: event.id, attempt: hold.attempts, failureClass, retryInMs: delayMs, err: err.message };
      if (failureClass === "infrastructure") this.logger.warn(log, "infrastructure failure; partition held back, retrying");
      else this.logger.warn(log, "event handler failed; retrying");
      return { done: false, failureClass, delayMs };
    }
  }

  /** Counts a failed try of the message at `offset`, starting a new hold for it if it had none. */
  private noteFailure(topic: string, partition: number, offset: string, err: Error, failureClass: FailureClass): Hold {
    const key = tpKey(topic, partition);
    let hold = this.holds.get(key);
    if (!hold || hold.offset !== offset) {
      if (hold) this.release(key, hold);
      hold = { topic, partition, offset, attempts: 0, unexpected: 0, firstFailureAt: new Date(), failureClass, lastError: "" };
      this.holds.set(key, hold);
    }
    hold.attempts++;
    if (failureClass === "unexpected") hold.unexpected++;
    hold.failureClass = failureClass;
    hold.lastError = `${err.name}: ${err.message}`;
    return hold;
  }

  private delayFor(hold: Hold, failureClass: FailureClass): number {
    const base = this.opts.backoffMs ?? 200;
    const n = failureClass === "infrastructure" ? hold.attempts : hold.unexpected;
    return backoffDelay(n, base, this.opts.maxBackoffMs ?? 30_000);
  }

  /**
   * Pauses the partition and seeks it back to `offset` so that nothing after the message is handled before it;
   * resumes it after `delayMs` (never when undefined: on the way out).
   */
  private holdBack(topic: string, partition: number, offset: string, delayMs: number | undefined) {
    const c = this.consumer;
    if (!c) return;
    const tp = [{ topic, partitions: [partition] }];
    c.pause(tp);
    c.seek({ topic, partition, offset });
    const hold = this.holds.get(tpKey(topic, partition));
    if (hold?.timer) clearTimeout(hold.timer);
    if (delayMs === undefined) return;
    const timer = setTimeout(() => {
      if (hold) hold.timer = undefined;
      if (this.stopping || this.consumer !== c) return;
      try {
        c.resume(tp);
      } catch {
        // not running any more: the next owner starts from the committed offset
      }
    }, delayMs);
    if (hold) hold.timer = timer;
  }

  private release(key: string, hold: Hold, why: "done" | "revoked" = "done") {
    if (hold.timer) clearTimeout(hold.timer);
    this.holds.delete(key);
    // A pause lives in kafkajs' subscription state, not in the assignment: it survives a rebalance. A partition
    // revoked while held and later assigned back would stay paused for good, with no timer left to resume it.
    this.unpause(hold.topic, hold.partition);
    if (hold.failureClass === "infrastructure" || why === "revoked") {
      this.logger.info(
        { topic: hold.topic, partition: hold.partition, offset: hold.offset, attempts: hold.attempts, heldMs: Date.now() - hold.firstFailureAt.getTime() },
        why === "done" ? "partition recovered" : "held partition revoked; its next owner retries the message",
      );
    }
  }

  private unpause(topic: string, partition: number) {
    if (!this.stopping) unpause(this.consumer, topic, partition);
  }

  /**
   * Checks the pause invariant (pauses.ts) on each commit tick, counting every repair in
   * whiteslip.bus.pause_repairs, and reports a handler that has run for more than a minute (it holds its partition
   * back without a hold).
   */
  private checkPauses() {
    if (this.stopping) return;
    resumeUnarmedPauses(
      this.consumer,
      (topic, partition) => this.holds.get(tpKey(topic, partition))?.timer !== undefined,
      (topic, partition) => {
        const hold = this.holds.get(tpKey(topic, partition));
        this.logger.warn(
          { group: this.groupId, topic, partition, held: hold ? { offset: hold.offset, attempts: hold.attempts } : undefined },
          "partition paused with no retry armed; resuming it",
        );
        this.pauseRepairs.add(1, { topic, group: this.groupId });
      },
    );
    const now = Date.now();
    for (const [key, since] of this.handling)
      if (now - since.at > SLOW_HANDLER_MS && !since.reported) {
        since.reported = true;
        this.logger.warn({ group: this.groupId, at: key, runningMs: now - since.at }, "event handler still running");
      }
  }

  private markDone(topic: string, partition: number, offset: string) {
    const key = tpKey(topic, partition);
    const next = (BigInt(offset) + 1n).toString();
    const cur = this.pending.get(key);
    if (!cur || BigInt(cur.offset) < BigInt(next)) this.pending.set(key, { topic, partition, offset: next });
  }

  /** Commits the offsets of done messages; a failure (rebalance, broker away) keeps them for the next flush. */
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

  /** After a (re)join: forget holds and uncommitted offsets of partitions this member no longer owns. */
  private onAssignment(assignment: Record<string, number[]>) {
    const owned = new Set(Object.entries(assignment).flatMap(([t, ps]) => ps.map((p) => tpKey(t, p))));
    for (const [k, h] of this.holds) if (!owned.has(k)) this.release(k, h, "revoked");
    for (const k of this.pending.keys()) if (!owned.has(k)) this.pending.delete(k);
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
      {
        topic: at.topic,
        partition: at.partition,
        offset: at.offset,
        eventId: headers.ce_id,
        dlq: this.bus.topicName(dlq),
        attempts: cause.attempts,
        errorClass: cause.errorClass,
        err: cause.error.message,
      },
      cause.error instanceof UndecodableEventError ? "undecodable message dead-lettered" : `event dead-lettered (${cause.errorClass})`,
    );
    await this.bus.publish([
      {
        topic: dlq,
        key: message.key?.toString("utf8") ?? "",
        value: message.value ?? new Uint8Array(),
        headers: deadLetterHeaders(headers, at, cause, new Date()),
      },
    ]);
    this.deadLetters.add(1, { topic: this.bus.topicName(dlq), group: this.groupId, error_class: cause.errorClass });
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.commitTimer) clearInterval(this.commitTimer);
    for (const h of this.holds.values()) if (h.timer) clearTimeout(h.timer);
    await Promise.allSettled([...this.inFlight]);
    await this.flushCommits();
    this.heldGauge.removeCallback(this.observeHeld);
    const c = this.consumer;
    this.consumer = undefined;
    if (c) await c.disconnect().catch(() => undefined);
  }
}

/** A handler running longer than this is reported (the database's socket timeout is 60 s). */
const SLOW_HANDLER_MS = 60_000;

function tpKey(topic: string, partition: number): string {
  return `${topic}|${partition}`;
}
