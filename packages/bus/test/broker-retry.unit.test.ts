/**
 * Broker administration calls retried while the broker is busy or away — with the errors kafkajs really throws
 * (its own classes, built from the protocol's error codes), not look-alikes.
 */
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { isTransientBrokerError, retryBroker } from "../src/index";

const require = createRequire(import.meta.url);
const kafkajs = require("kafkajs") as typeof import("kafkajs");
const { createErrorFromCode } = require("kafkajs/src/protocol/error") as { createErrorFromCode(code: number): Error };
// Kafka protocol error codes (org.apache.kafka.common.protocol.Errors)
const NOT_LEADER_OR_FOLLOWER = 6;
const REQUEST_TIMED_OUT = 7;
const TOPIC_ALREADY_EXISTS = 36;
const INVALID_PARTITIONS = 37;
const createError = (code: number, topic: string) =>
  new (kafkajs as unknown as { KafkaJSCreateTopicError: new (e: Error, t: string) => Error }).KafkaJSCreateTopicError(createErrorFromCode(code), topic);
const aggregate = (errors: Error[]) => new kafkajs.KafkaJSAggregateError("Topic creation errors", errors);

describe("retrying broker administration", () => {
  it("tells a busy broker from a refusal", () => {
    expect(isTransientBrokerError(new kafkajs.KafkaJSProtocolError(createErrorFromCode(NOT_LEADER_OR_FOLLOWER)))).toBe(true);
    expect(isTransientBrokerError(aggregate([createError(REQUEST_TIMED_OUT, "a"), createError(TOPIC_ALREADY_EXISTS, "b")]))).toBe(true);
    expect(isTransientBrokerError(aggregate([createError(REQUEST_TIMED_OUT, "a"), createError(INVALID_PARTITIONS, "b")]))).toBe(false);
    expect(isTransientBrokerError(new kafkajs.KafkaJSProtocolError(createErrorFromCode(INVALID_PARTITIONS)))).toBe(false);
    expect(isTransientBrokerError(new Error("bug"))).toBe(false);
  });

  it("tries again while the error passes, gives up at once on one that does not, and at the deadline", async () => {
    let calls = 0;
    const answer = await retryBroker(
      async () => {
        if (++calls < 3) throw aggregate([createError(REQUEST_TIMED_OUT, "whiteslip.billing.overdue.v1")]);
        return "created";
      },
      { baseMs: 1, maxMs: 2 },
    );
    expect([answer, calls]).toEqual(["created", 3]);

    calls = 0;
    const refused = aggregate([createError(INVALID_PARTITIONS, "t")]);
    await expect(retryBroker(async () => { calls++; throw refused; }, { baseMs: 1 })).rejects.toBe(refused);
    expect(calls).toBe(1);

    calls = 0;
    const busy = new kafkajs.KafkaJSProtocolError(createErrorFromCode(NOT_LEADER_OR_FOLLOWER));
    await expect(retryBroker(async () => { calls++; throw busy; }, { baseMs: 5, maxMs: 5, deadlineMs: 40 })).rejects.toBe(busy);
    expect(calls).toBeGreaterThan(1);
  });
});
