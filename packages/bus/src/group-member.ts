/**
 * What both consumers of the bus (GroupConsumer: a message at a time; BatchGroupConsumer: a partition's fetch at a
 * time) share: joining the group, the holds that keep a partition back at the message it retries, the pause
 * invariant, committing only done offsets, dead-lettering, and leaving. The subclasses only decide how a fetch is
 * handed to the handlers (`run`). One home, because each of these rules was once written twice and the copies drifted
 * (the "paused with no retry armed" stall was fixed in one copy and lived on in the other).
 */
import type { ObservableResult } from "@opentelemetry/api";
import type { TopicSpec } from "@whiteslip/contracts";
import { meter } from "@whiteslip/telemetry";
import type { Consumer, KafkaMessage } from "kafkajs";
import type { BusLogger, ConsumerHandle, EventBus, HeldPartition } from "./bus";
import { type DeadLetterCause, deadLetterHeaders, deadLetterTopic, REPLAY_PARTITIONS, replayTopic } from "./dead-letter";
import { UndecodableEventError } from "./envelope";
import { backoffDelay, type FailureClass } from "./failure";
import { resumeUnarmedPauses, unpause } from "./pauses";

/** What every consumer of the bus is configured with. */
export interface MemberOptions<S> {
  /** The group; one per consuming service (and purpose). */
  groupId: string;
  subscriptions: S[];
  /**
   * Tries of a handler failing with an unexpected error (a bug) before the message goes to the dead-letter topic
   * (default 5). Permanent errors are dead-lettered at once, infrastructure failures never (see failure.ts).
   */
  maxAttempts?: number;
  /** First retry delay in ms, doubled each try, jittered (default 200). */
  backoffMs?: number;
  /** Longest retry delay in ms (default 30,000): an outage is retried at least this often for as long as it lasts. */
  maxBackoffMs?: number;
  /** How often offsets of handled messages are committed, in ms (default 1,000; and always before leaving the group). */
  commitIntervalMs?: number;
  /** Read a new group's topics from the start (default true: no fact is missed). */
  fromBeginning?: boolean;
  /** Partitions handled in parallel (order is kept within a partition, i.e. per account). Default 3. */
  partitionsConcurrently?: number;
}

/** A cluster topic's subscription and the contract topic it belongs to (a replay topic belongs to its source). */
export interface Route<S> {
  sub: S;
  logical: string;
}

/** A message the member holds its partition back for: not handled yet, not committed, retried after a delay. */
export interface Hold {
  topic: string;
  partition: number;
  offset: string;
  /** Failed tries (all classes). */
  attempts: number;
  /** Failed tries of class `unexpected` (bounded by maxAttempts). */
  unexpected: number;
  firstFailureAt: Date;
  failureClass: FailureClass;
  lastError: string;
  timer?: NodeJS.Timeout;
}

/** Where a message sits, for the dead-letter headers. */
export interface MessageAt {
  topic: string;
  partition: number;
  offset: string;
  groupId: string;
}

/** A handler running longer than this is reported (the database's socket timeout is 60 s). */
const SLOW_HANDLER_MS = 60_000;

export function tpKey(topic: string, partition: number): string {
  return `${topic}|${partition}`;
}

export abstract class GroupMember<S extends { readonly spec: TopicSpec }, O extends MemberOptions<S> = MemberOptions<S>> implements ConsumerHandle {
  protected consumer: Consumer | undefined;
  protected stopping = false;
  private crashed = false;
  protected readonly holds = new Map<string, Hold>();
  /** Next offset to commit per topic-partition (done messages only). */
  private readonly pending = new Map<string, { topic: string; partition: number; offset: string }>();
  private readonly inFlight = new Set<Promise<void>>();
  /** Handler calls in flight: topic|partition@offset → when it started (for the slow-handler report). */
  private readonly handling = new Map<string, { at: number; reported: boolean }>();
  private commitTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private readonly meter = meter("bus");
  private readonly deadLetters = this.meter.createCounter("whiteslip.bus.dead_letters", {
    description: "Messages sent to a dead-letter topic, by dead-letter topic, consumer group and failure class",
  });
  protected readonly retries = this.meter.createCounter("whiteslip.bus.retries", {
    description: "Failed handler calls that will be retried, by topic, consumer group and failure class",
  });
  private readonly heldGauge = this.meter.createObservableGauge("whiteslip.bus.held_partitions", {
    description: "Partitions a consumer group member holds back for infrastructure trouble (0 when healthy)",
  });
  private readonly pauseRepairs = this.meter.createCounter("whiteslip.bus.pause_repairs", {
    description: "Partitions found paused with no retry armed and resumed (a bug in the hold bookkeeping; 0 when healthy)",
  });
  private readonly observeHeld = (r: ObservableResult) =>
    r.observe([...this.holds.values()].filter((h) => h.failureClass === "infrastructure").length, { group: this.groupId });
  processed = 0;
  readonly groupId: string;

  constructor(
    protected readonly bus: EventBus,
    protected readonly opts: O,
    protected readonly logger: BusLogger,
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

  /** Hands the fetched messages to the handlers (consumer.run); called once the member has joined and subscribed. */
  protected abstract run(consumer: Consumer, routes: Map<string, Route<S>>): Promise<void>;

  async start(): Promise<void> {
    const logical = this.opts.subscriptions.map((s) => s.spec.topic);
    const replays = logical.map((t) => replayTopic(t, this.groupId));
    // A replay topic carries a few operator-chosen messages now and then: one partition is plenty (and every
    // partition is in each fetch of every member of the group). One request creates them all.
    const replaySet = new Set(replays);
    await this.bus.ensureTopics([...logical, ...logical.map((t) => deadLetterTopic(t, this.groupId)), ...replays], (t) =>
      replaySet.has(t) ? REPLAY_PARTITIONS : 3,
    );
    const routes = new Map<string, Route<S>>();
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
    await consumer.subscribe({ topics: logical.map((t) => this.bus.topicName(t)), fromBeginning: this.opts.fromBeginning ?? true });
    // Replays are meant for this group whenever it runs: read from the start the first time.
    await consumer.subscribe({ topics: replays.map((t) => this.bus.topicName(t)), fromBeginning: true });
    await this.run(consumer, routes);
    this.commitTimer = setInterval(() => {
      this.checkPauses();
      void this.flushCommits();
    }, this.opts.commitIntervalMs ?? 1_000);
    this.commitTimer.unref();
  }

  /** Runs a handler call as in-flight work: stop() waits for it, and one running over a minute is reported. */
  protected async track(at: string, work: Promise<void>): Promise<void> {
    this.inFlight.add(work);
    this.handling.set(at, { at: Date.now(), reported: false });
    try {
      await work;
    } finally {
      this.inFlight.delete(work);
      this.handling.delete(at);
    }
  }

  /** Counts a failed try of the message at `offset`, starting a new hold for it if it had none. */
  protected noteFailure(topic: string, partition: number, offset: string, e: unknown, failureClass: FailureClass): Hold {
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
    const err = e instanceof Error ? e : new Error(String(e));
    hold.lastError = `${err.name}: ${err.message}`;
    return hold;
  }

  /** The next retry's delay: capped, jittered backoff over the tries of the hold's class. */
  protected delayFor(hold: Hold, failureClass: FailureClass): number {
    const n = failureClass === "infrastructure" ? hold.attempts : hold.unexpected;
    return this.backoff(n);
  }

  protected backoff(attempt: number): number {
    return backoffDelay(attempt, this.opts.backoffMs ?? 200, this.opts.maxBackoffMs ?? 30_000);
  }

  /**
   * Pauses the partition and seeks it back to `offset` so that nothing after the message is handled before it;
   * resumes it after `delayMs` (never when undefined: on the way out).
   */
  protected holdBack(topic: string, partition: number, offset: string, delayMs: number | undefined) {
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

  /** Drops the partition's hold (if any): its message is done, or the partition was revoked. */
  protected release(key: string, hold = this.holds.get(key), why: "done" | "revoked" = "done") {
    if (!hold) return;
    if (hold.timer) clearTimeout(hold.timer);
    this.holds.delete(key);
    // A pause lives in kafkajs' subscription state, not in the assignment: it survives a rebalance. A partition
    // revoked while held and later assigned back would stay paused for good, with no timer left to resume it.
    if (!this.stopping) unpause(this.consumer, hold.topic, hold.partition);
    if (hold.failureClass === "infrastructure" || why === "revoked") {
      this.logger.info(
        { topic: hold.topic, partition: hold.partition, offset: hold.offset, attempts: hold.attempts, heldMs: Date.now() - hold.firstFailureAt.getTime() },
        why === "done" ? "partition recovered" : "held partition revoked; its next owner retries the message",
      );
    }
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

  /** The message at `offset` is done (handled or dead-lettered): its successor is the next offset to commit. */
  protected markDone(topic: string, partition: number, offset: string) {
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

  /** Sends a message to its dead-letter topic with the cause in its headers; throws when the broker is away. */
  protected async deadLetter(logical: string, message: KafkaMessage, headers: Record<string, string>, at: MessageAt, cause: DeadLetterCause) {
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
