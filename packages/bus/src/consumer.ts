import { context } from "@opentelemetry/api";
import type { Consumer, KafkaMessage } from "kafkajs";
import type { Subscription } from "./bus";
import { decodeEvent, type EventEnvelope, headersToStrings, UndecodableEventError } from "./envelope";
import { classifyFailure, type FailureClass } from "./failure";
import { GroupMember, type Route, tpKey } from "./group-member";
import { endProcessSpan, startProcessSpan } from "./tracing";

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
export class GroupConsumer extends GroupMember<Subscription> {
  protected async run(consumer: Consumer, routes: Map<string, Route<Subscription>>): Promise<void> {
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
        await this.track(`${tpKey(topic, partition)}@${message.offset}`, this.process(route.sub, route.logical, topic, partition, message));
      },
    });
  }

  /** Handles one delivery of a message: done (handled or dead-lettered), or held back for a retry. */
  private async process(sub: Subscription, logical: string, topic: string, partition: number, message: KafkaMessage) {
    const key = tpKey(topic, partition);
    const outcome = await this.attempt(sub, logical, topic, partition, message).catch(
      (e): Outcome => {
        // dead-lettering itself failed (the broker is away): keep the message and try again later
        const failureClass = classifyFailure(e);
        this.noteFailure(topic, partition, message.offset, e, failureClass);
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
}
