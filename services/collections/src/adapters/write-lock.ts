/**
 * Serialises writes to one collection within this process.
 *
 * Why: FerretDB v1 applies an `update` as read → modify → write in its handler, not atomically
 * (https://github.com/FerretDB/FerretDB/issues/3040), so two concurrent updates of the same document can lose one —
 * e.g. the outbox relay's `$pullAll` of published events overwriting a case change saved in between. MongoDB
 * applies single-document updates atomically and needs none of this; it is cheap insurance for the local/test
 * database. Each replica still relies on the version check for cross-process safety.
 */
import type { Collection, Document } from "mongodb";

/** An async mutex: `run` calls are executed one at a time, in call order. */
export class WriteLock {
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs `fn` after every previously queued call finished. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

const WRITES = new Set([
  "insertOne",
  "insertMany",
  "updateOne",
  "updateMany",
  "replaceOne",
  "bulkWrite",
  "deleteOne",
  "deleteMany",
  "findOneAndUpdate",
]);

/** The same collection, with every write method run under `lock` (reads pass through). */
export function lockedCollection(coll: Collection<Document>, lock: WriteLock): Collection<Document> {
  return new Proxy(coll, {
    get(target, prop, _receiver) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      if (typeof prop === "string" && WRITES.has(prop)) {
        return (...args: unknown[]) =>
          lock.run(() => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args));
      }
      return value.bind(target);
    },
  });
}
