import { deadLetterTopicOf, replayTopicOf } from "@whiteslip/contracts";
import type { FailureClass } from "./failure";

/** Dead-letter topic of a (contract) topic for a consumer group: `<topic>.<group>.dlq` (named in @whiteslip/contracts, whose ACLs grant it). */
export function deadLetterTopic(topic: string, groupId: string): string {
  return deadLetterTopicOf(topic, groupId);
}

/**
 * Replay topic of a (contract) topic for a consumer group: `<topic>.<group>.replay`. Every consumer group also
 * consumes the replay topics of its subscriptions with the same handlers, so `whiteslip-ops dlq replay` reaches
 * that one group and no other.
 */
export function replayTopic(topic: string, groupId: string): string {
  return replayTopicOf(topic, groupId);
}

/** Partitions of a replay topic (whoever creates it first: the consumer at start, or `dlq replay`). */
export const REPLAY_PARTITIONS = 1;

/** Topic where `whiteslip-ops dlq replay` records what was replayed (JSON, one record per replay). */
export const REPLAY_AUDIT_TOPIC = "whiteslip.ops.dlq-replays.v1";

/** Headers the bus adds to a dead letter (on top of the original CloudEvents and trace headers). */
export const DlqHeaders = {
  /** The error message (at most 1,000 characters). */
  error: "dlq_error",
  /** The error's name, e.g. `UndecodableEventError`, `DomainError`, `TypeError`. */
  errorKind: "dlq_error_kind",
  /** `permanent` or `unexpected` (infrastructure failures are never dead-lettered). */
  errorClass: "dlq_error_class",
  /** The error's stack (at most 4,000 characters). */
  stack: "dlq_error_stack",
  /** Handler calls made (0: it could not be decoded). */
  attempts: "dlq_attempts",
  /** Topic (on the cluster, prefix included), partition and offset the message was consumed from. */
  originalTopic: "dlq_original_topic",
  originalPartition: "dlq_original_partition",
  originalOffset: "dlq_original_offset",
  /** The consumer group that gave up on it. */
  group: "dlq_consumer_group",
  /** When the first handler call for it failed, and when it was dead-lettered (ISO 8601). */
  firstFailureAt: "dlq_first_failure_at",
  deadLetteredAt: "dlq_dead_lettered_at",
} as const;

/** Headers `whiteslip-ops dlq replay` adds to a replayed message. */
export const ReplayHeaders = {
  /** Id of the replay (the audit record's `replayId`). */
  replayId: "replay_id",
  /** The dead-letter topic and offset it was replayed from. */
  fromTopic: "replay_from_topic",
  fromOffset: "replay_from_offset",
  /** Who replayed it, and when (ISO 8601). */
  by: "replay_by",
  at: "replay_at",
} as const;

/** The failure that sends a message to the dead-letter topic. */
export interface DeadLetterCause {
  error: Error;
  errorClass: Exclude<FailureClass, "infrastructure">;
  attempts: number;
  firstFailureAt: Date;
}

/** The dead-letter headers for a message consumed from `topic`/`partition`/`offset` by `groupId`. */
export function deadLetterHeaders(
  original: Record<string, string>,
  at: { topic: string; partition: number; offset: string; groupId: string },
  cause: DeadLetterCause,
  now: Date,
): Record<string, string> {
  // a message dead-lettered again after a replay carries the old dlq_* headers: replace them
  const kept = Object.fromEntries(Object.entries(original).filter(([k]) => !k.startsWith("dlq_")));
  return {
    ...kept,
    [DlqHeaders.error]: cause.error.message.slice(0, 1000),
    [DlqHeaders.errorKind]: cause.error.name,
    [DlqHeaders.errorClass]: cause.errorClass,
    [DlqHeaders.stack]: (cause.error.stack ?? "").slice(0, 4000),
    [DlqHeaders.attempts]: String(cause.attempts),
    [DlqHeaders.originalTopic]: at.topic,
    [DlqHeaders.originalPartition]: String(at.partition),
    [DlqHeaders.originalOffset]: at.offset,
    [DlqHeaders.group]: at.groupId,
    [DlqHeaders.firstFailureAt]: cause.firstFailureAt.toISOString(),
    [DlqHeaders.deadLetteredAt]: now.toISOString(),
  };
}

/** The headers of a dead letter as they go back to the consumer group: the original ones plus the replay's. */
export function replayHeaders(
  deadLetter: Record<string, string>,
  replay: { replayId: string; fromTopic: string; fromOffset: string; by: string; at: Date },
): Record<string, string> {
  const kept = Object.fromEntries(
    Object.entries(deadLetter).filter(([k]) => !k.startsWith("dlq_") && !k.startsWith("replay_")),
  );
  return {
    ...kept,
    [ReplayHeaders.replayId]: replay.replayId,
    [ReplayHeaders.fromTopic]: replay.fromTopic,
    [ReplayHeaders.fromOffset]: replay.fromOffset,
    [ReplayHeaders.by]: replay.by,
    [ReplayHeaders.at]: replay.at.toISOString(),
  };
}
