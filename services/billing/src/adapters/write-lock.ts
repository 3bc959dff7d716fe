/**
 * FerretDB v1 (the local/CI database) applies an update as read → modify →
 * write without isolation, so two concurrent updates of one document can lose
 * one of them: the outbox relay's `$pullAll` racing an account update dropped
 * freshly pushed events (seen in the quarter integration test). MongoDB
 * updates are atomic per document and do not need this; on FerretDB a
 * process-wide lock around every write to the accounts collection (ours and
 * the relay's) keeps each single-document update whole.
 */
import type { Collection, Document } from "mongodb";

/** A FIFO async mutex. */
export class WriteLock {
  private tail: Promise<unknown> = Promise.resolve();
  /** Runs `fn` when every earlier holder finished. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

const WRITES = new Set(["updateOne", "updateMany", "bulkWrite", "insertOne", "insertMany", "replaceOne", "deleteOne", "deleteMany", "findOneAndUpdate"]);

/** The collection with its write methods run under `lock` (reads untouched). */
export function lockedCollection<T extends Document>(coll: Collection<T>, lock: WriteLock): Collection<T> {
  return new Proxy(coll, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof prop === "string" && WRITES.has(prop) && typeof v === "function") return (...args: unknown[]) => lock.run(() => v.apply(target, args));
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}
