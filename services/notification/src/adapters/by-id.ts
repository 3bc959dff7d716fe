/**
 * Reads by `_id`. The local and CI database, FerretDB v1 on SQLite as built by @whiteslip/testkit, answers a filter
 * from its primary key only when the filter holds an `_id` equality or an `_id: {$in: [...]}` of at most 1,000
 * strings (packages/testkit/src/ferret-local.ts, patchIdLookups); any other filter decodes every document of the
 * collection (~170 µs per message document measured here). So the paths the due wave takes ask by `_id`, in chunks
 * of 1,000. On MongoDB these are index lookups either way.
 */
import type { Collection, Document } from "mongodb";

/** The most ids in one `$in` the patched FerretDB still serves from its primary key. */
export const MAX_IN = 1000;

/** The documents with these `_id`s (absent ones left out), one `$in` query per 1,000 ids. */
export async function findByIds<T extends Document & { _id: string }>(
  coll: Collection<T>,
  ids: readonly string[],
  projection?: Document,
): Promise<T[]> {
  const unique = [...new Set(ids)];
  const out: T[] = [];
  for (let i = 0; i < unique.length; i += MAX_IN) {
    const docs = await coll.find({ _id: { $in: unique.slice(i, i + MAX_IN) } } as never, projection ? { projection } : {}).toArray();
    out.push(...(docs as unknown as T[]));
  }
  return out;
}

/** Deletes the documents with these `_id`s, one `$in` per 1,000 ids. */
export async function deleteByIds<T extends Document & { _id: string }>(coll: Collection<T>, ids: readonly string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += MAX_IN) await coll.deleteMany({ _id: { $in: ids.slice(i, i + MAX_IN) } } as never);
}
