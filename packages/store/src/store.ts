import {
  type Collection,
  type CreateIndexesOptions,
  type Db,
  type Document,
  type Filter,
  type IndexSpecification,
  MongoClient,
  MongoServerError,
  type UpdateFilter,
  type UpdateOptions,
} from "mongodb";

/** A service's own database. */
export interface Store {
  readonly client: MongoClient;
  readonly db: Db;
  /** True when the database answers a ping (for readiness). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** The logging surface the store needs (pino-compatible). */
export interface StoreLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** The database timeouts every service uses (see connectStore for why these values). */
export const DATABASE_TIMEOUTS = { serverSelectionMs: 3_000, connectMs: 3_000, socketMs: 60_000 } as const;

/** Connects to the service's own database (one database per service; no service reads another's). */
export async function connectStore(opts: { uri: string; dbName: string; logger?: StoreLogger }): Promise<Store> {
  const client = new MongoClient(opts.uri, {
    // A database that is down must be answered as UNAVAILABLE before the caller gives up: gRPC clients
    // wait 5 s by default (DEFAULT_DEADLINE_MS), so finding a server may take at most 3 s (the driver's
    // default is 30 s, which turned every outage into the caller's DEADLINE_EXCEEDED), and so may
    // opening a connection. A running server is selected in milliseconds; a replica-set election that
    // takes longer is answered UNAVAILABLE and retried by the caller or the bus.
    serverSelectionTimeoutMS: DATABASE_TIMEOUTS.serverSelectionMs,
    connectTimeoutMS: DATABASE_TIMEOUTS.connectMs,
    // Bounds a half-open socket (a database that vanished without closing it). Far above any single
    // command we issue (the longest: the outbox relay's full-collection scan on FerretDB), so it never
    // cuts real work short.
    socketTimeoutMS: DATABASE_TIMEOUTS.socketMs,
    // FerretDB v1 and standalone mongod have no retryable-writes support guarantees; writes are idempotent by design.
    retryWrites: false,
    maxPoolSize: 20,
    // the outbox relay watches this client's writes to find new events without scanning (OutboxRelay)
    monitorCommands: true,
  });
  await client.connect();
  const db = client.db(opts.dbName);
  opts.logger?.info({ db: opts.dbName }, "database connected");
  return {
    client,
    db,
    async ping() {
      try {
        await db.command({ ping: 1 });
        return true;
      } catch {
        return false;
      }
    },
    close: () => client.close(),
  };
}

/** An index and the queries it serves (write the query names; they are the reason the index exists). */
export interface IndexDecl {
  key: IndexSpecification;
  serves: string;
  options?: CreateIndexesOptions;
}

/** Creates the declared indexes (no-op for those that exist). */
export async function ensureIndexes<T extends Document>(coll: Collection<T>, decls: IndexDecl[]): Promise<void> {
  for (const d of decls) {
    await coll.createIndex(d.key, d.options ?? {});
  }
}

/** True for a duplicate-key error (unique index hit). */
export function isDuplicateKey(e: unknown): boolean {
  return e instanceof MongoServerError && e.code === 11000;
}

/**
 * Applies an update to one document only if `eventId` was not applied to it
 * before, recording the id in the same single-document update. This is how a
 * consumer stays idempotent without multi-document transactions: the effect and
 * the dedupe mark commit together. With `upsert`, a missing document is created.
 */
export async function applyOnce<T extends Document>(
  coll: Collection<T>,
  filter: Filter<T>,
  eventId: string,
  update: UpdateFilter<T>,
  options: UpdateOptions = {},
): Promise<"applied" | "duplicate"> {
  const guarded = { ...filter, appliedEvents: { $ne: eventId } } as Filter<T>;
  const withMark = {
    ...update,
    $addToSet: { ...((update as Document).$addToSet ?? {}), appliedEvents: eventId },
  } as UpdateFilter<T>;
  try {
    const r = await coll.updateOne(guarded, withMark, options);
    return r.modifiedCount + r.upsertedCount > 0 ? "applied" : "duplicate";
  } catch (e) {
    // Upsert raced with (or hit) an existing document that already has the id.
    if (options.upsert && isDuplicateKey(e)) return "duplicate";
    throw e;
  }
}

/**
 * Inserts an effect document whose `_id` is derived from the event id; a second
 * delivery hits the unique `_id` and is reported as a duplicate.
 */
export async function insertOnce<T extends Document>(coll: Collection<T>, doc: T): Promise<"applied" | "duplicate"> {
  try {
    await coll.insertOne(doc as never);
    return "applied";
  } catch (e) {
    if (isDuplicateKey(e)) return "duplicate";
    throw e;
  }
}
