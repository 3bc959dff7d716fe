import type { Consumer } from "kafkajs";

/**
 * Lets kafkajs fetch a partition again (a no-op when it is not paused). A pause lives in kafkajs' subscription
 * state and survives a rebalance; the consumers' holds and their retry timers do not — so whoever drops a hold
 * resumes its partition, or a partition revoked while held and assigned back would never be fetched again.
 */
export function unpause(c: Consumer | undefined, topic: string, partition: number): void {
  if (!c) return;
  try {
    c.resume([{ topic, partitions: [partition] }]);
  } catch {
    // not running any more: the next owner starts from the committed offset
  }
}

/**
 * The invariant behind every pause of both consumers: a partition is paused only while a retry of it is armed.
 * Resumes each paused partition for which `armed` is false (a redelivery is safe; a partition never fetched again
 * loses the facts behind it) and tells `repaired` about it. Called on each commit tick.
 */
export function resumeUnarmedPauses(
  c: Consumer | undefined,
  armed: (topic: string, partition: number) => boolean,
  repaired: (topic: string, partition: number) => void,
): void {
  if (!c) return;
  let paused: { topic: string; partitions: number[] }[];
  try {
    paused = c.paused();
  } catch {
    return;
  }
  for (const { topic, partitions } of paused)
    for (const partition of partitions) {
      if (armed(topic, partition)) continue;
      repaired(topic, partition);
      unpause(c, topic, partition);
    }
}
