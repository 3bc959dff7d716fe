import type { EventBus, OutgoingEvent } from "@whiteslip/bus";
import { Binary, type Collection, type CommandFailedEvent, type CommandStartedEvent, type CommandSucceededEvent, type Document, type MongoClient } from "mongodb";
import type { StoreLogger } from "./store";

/**
 * Transactional outbox on one document. A state change and the events it
 * produces are written in the same single-document update: the events go into
 * the aggregate's `pendingEvents` array. The relay publishes them with the
 * idempotent producer and pulls them only after the broker acknowledged, so
 * nothing is published for a change that did not commit and nothing committed
 * is lost. A crash between publish and pull republishes: consumers dedupe by
 * the (deterministic) event id.
 */
export interface StoredEvent {
  eventId: string;
  topic: string;
  key: string;
  value: Binary;
  headers: Record<string, string>;
}

/** The field that holds an aggregate's unpublished events. */
export const PENDING_EVENTS = "pendingEvents";

/** Converts events for storage in `pendingEvents`. */
export function toStored(events: OutgoingEvent[]): StoredEvent[] {
  return events.map((e) => ({
    eventId: e.headers.ce_id ?? "",
    topic: e.topic,
    key: e.key,
    value: new Binary(Buffer.from(e.value)),
    headers: e.headers,
  }));
}

/**
 * The top-level marker of a document that may hold unpublished events: set (to {@link OUTBOX_PENDING}) by every
 * write that adds events, in the same single-document write, and removed by the relay only by the conditional
 * update that empties the outbox. So "documents that may hold pending events" is an equality on a top-level string,
 * which an index (`{outbox: 1}`, created by the relay) and FerretDB's pushdown (testkit patch 5, ws6) serve —
 * unlike `pendingEvents.0 exists`, which decodes every document.
 */
export const OUTBOX_MARK = "outbox";
/** The value of {@link OUTBOX_MARK} while the outbox may hold events. */
export const OUTBOX_PENDING = "pending";
/** The collection (in each outbox collection's database) recording which collections were migrated to the marker. */
export const OUTBOX_STATE = "outbox_relay";

/**
 * Adds `events` to the outbox of the document `update` updates: `$push` onto `pendingEvents` and `$set` of the
 * marker, merged into the update's own `$push` / `$set`. Mutates and returns `update`. The one way writers add
 * events to an update (a `$push` without the marker would only be found by the relay's watch, never by its sweep).
 */
export function pushEvents<U extends Document>(update: U, events: OutgoingEvent[]): U {
  if (events.length === 0) return update;
  const u = update as Document;
  u.$push = { ...(u.$push as Document | undefined), [PENDING_EVENTS]: { $each: toStored(events) } };
  u.$set = { ...(u.$set as Document | undefined), [OUTBOX_MARK]: OUTBOX_PENDING };
  return update;
}

/** The outbox fields of a document inserted with `events` (spread into the inserted document; marker only with events). */
export function outboxFields(events: OutgoingEvent[]): { [PENDING_EVENTS]: StoredEvent[]; [OUTBOX_MARK]?: typeof OUTBOX_PENDING } {
  return events.length > 0 ? { [PENDING_EVENTS]: toStored(events), [OUTBOX_MARK]: OUTBOX_PENDING } : { [PENDING_EVENTS]: [] };
}

/** Projection leaving out the outbox (events and marker): what a reader of the aggregate's state asks for. */
export const NOT_OUTBOX = { [PENDING_EVENTS]: 0, [OUTBOX_MARK]: 0 } as const;

/**
 * Records that `coll` needs no migration scan (its documents with events all carry the marker) and creates the
 * marker's index: the state of a collection this version of the relay has run on. For a book seeded by a tool,
 * e.g. a benchmark's, that never held unmarked events.
 */
export async function markOutboxMigrated(coll: Collection<Document>): Promise<void> {
  await coll.createIndex({ [OUTBOX_MARK]: 1 });
  await coll.db.collection<{ _id: string }>(OUTBOX_STATE).updateOne({ _id: coll.collectionName }, { $set: { marker: OUTBOX_MARK } }, { upsert: true });
}

const idKey = (id: unknown) => (typeof id === "string" ? `s:${id}` : `o:${String(id)}`);

function fromStored(s: StoredEvent): OutgoingEvent {
  const v = s.value as unknown as Binary | Uint8Array;
  const bytes = v instanceof Binary ? v.buffer : v;
  return { topic: s.topic, key: s.key, value: new Uint8Array(bytes), headers: s.headers };
}

export interface OutboxRelayOptions {
  bus: Pick<EventBus, "publish">;
  collections: Collection<Document>[];
  logger?: StoreLogger;
  /**
   * The client the services write through. The relay watches its successful writes
   * (command monitoring; the client needs `monitorCommands: true`, as connectStore sets)
   * and reads exactly the documents that just received events, by _id, right away.
   * Without it every round is a full scan.
   */
  client?: MongoClient;
  /** Wait between rounds when idle, ms (default 200). */
  intervalMs?: number;
  /**
   * With a client: how often to also sweep the collections, ms (default 30,000; the first
   * round always sweeps). The sweep reads the documents carrying the marker (`outbox:
   * "pending"`, an indexed equality), never the whole collection. That finds what no write
   * of this process announced: events left by a process that died before its relay ran, or
   * written in a way the watch does not recognise (not by _id).
   */
  sweepIntervalMs?: number;
  /** Documents per publish batch (default 500). */
  batchSize?: number;
}

type Hint = { coll: string; ids: unknown[] };

/** The `_id`s of the documents a write command gives new outbox events to (ids only when given by value). */
export function outboxWriteIds(commandName: string, command: Document): unknown[] {
  const plainId = (id: unknown) =>
    typeof id === "string" || typeof id === "number" || (typeof id === "object" && id !== null && (id as { _bsontype?: string })._bsontype === "ObjectId");
  const pushes = (u: unknown) => {
    const push = (u as Document | undefined)?.$push as Document | undefined;
    return push !== undefined && PENDING_EVENTS in push;
  };
  const ids: unknown[] = [];
  if (commandName === "update") {
    for (const st of (command.updates as Document[] | undefined) ?? []) {
      if (pushes(st.u) && plainId(st.q?._id)) ids.push(st.q._id);
    }
  } else if (commandName === "findAndModify") {
    if (pushes(command.update) && plainId(command.query?._id)) ids.push(command.query._id);
  } else if (commandName === "insert") {
    for (const d of (command.documents as Document[] | undefined) ?? []) {
      if (Array.isArray(d[PENDING_EVENTS]) && d[PENDING_EVENTS].length > 0 && plainId(d._id)) ids.push(d._id);
    }
  }
  return ids;
}

/**
 * Publishes the `pendingEvents` of documents in some collections.
 *
 * Finding them: a query on `pendingEvents.0` cannot use an index (on FerretDB it
 * decodes the whole collection: measured, a 100,000-account end-of-day waited
 * 111 s for its events), so the relay is told instead. It watches the client's
 * successful write commands on its collections that push events and reads those
 * documents by _id at once. The safety net, at start and then every
 * `sweepIntervalMs`, reads the documents whose marker says they may hold events
 * (`{outbox: "pending"}`, served by the marker's index), never the whole collection.
 *
 * The marker is set by the same write that adds events (pushEvents / outboxFields)
 * and removed only by the update that empties the outbox, conditional on the outbox
 * still being exactly what was published: a crash anywhere leaves the marker on a
 * document that still holds events (it is published again, at most: consumers
 * dedupe by event id), and an event added meanwhile keeps its marker.
 *
 * Documents written before the marker existed: once per collection, the first
 * sweep also runs the old full scan (`pendingEvents.0 exists`) and then records in
 * `outbox_relay` that the collection is migrated; it never runs again.
 */
export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private stopped = true;
  private lastSweep = 0;
  private readonly started = new Map<number, Hint>();
  private readonly hinted = new Map<string, Set<unknown>>();
  private readonly byName = new Map<string, Collection<Document>>();
  /** Collections known migrated to the marker (their index exists, their one-off full scan is done). */
  private readonly migrated = new Set<string>();
  private readonly detach: () => void = () => {};

  constructor(private readonly opts: OutboxRelayOptions) {
    for (const c of opts.collections) this.byName.set(`${c.dbName}.${c.collectionName}`, c);
    const client = opts.client;
    if (client) {
      const onStarted = (e: CommandStartedEvent) => {
        const coll = `${e.databaseName}.${String(e.command[e.commandName])}`;
        if (!this.byName.has(coll)) return;
        const ids = outboxWriteIds(e.commandName, e.command);
        if (ids.length > 0) this.started.set(e.requestId, { coll, ids });
      };
      const onSucceeded = (e: CommandSucceededEvent) => {
        const hint = this.started.get(e.requestId);
        if (!hint) return;
        this.started.delete(e.requestId);
        for (const id of hint.ids) this.hint(hint.coll, id);
        this.wake();
      };
      const onFailed = (e: CommandFailedEvent) => void this.started.delete(e.requestId);
      client.on("commandStarted", onStarted);
      client.on("commandSucceeded", onSucceeded);
      client.on("commandFailed", onFailed);
      this.detach = () => {
        client.off("commandStarted", onStarted);
        client.off("commandSucceeded", onSucceeded);
        client.off("commandFailed", onFailed);
      };
    }
  }

  /** Starts relaying. */
  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.round();
    }, ms);
  }

  /** A write announced events: run a round now unless one is running (the loop goes on at once while there is work). */
  private wake(): void {
    if (!this.stopped && !this.running && this.timer) this.schedule(0);
  }

  private async round(): Promise<void> {
    if (this.stopped) return;
    let n = 0;
    try {
      n = await this.exclusive(Date.now() - this.lastSweep >= (this.opts.sweepIntervalMs ?? 30_000) || !this.opts.client);
    } catch (e) {
      this.opts.logger?.warn({ err: (e as Error).message }, "outbox relay failed; will retry");
    }
    this.schedule(n > 0 || this.hinted.size > 0 ? 0 : (this.opts.intervalMs ?? 200));
  }

  /** Publishes everything pending now (a sweep of the marked documents included); returns the number of events. Safe to call concurrently. */
  flush(): Promise<number> {
    return this.exclusive(true);
  }

  private async exclusive(sweep: boolean): Promise<number> {
    while (this.running) await this.running.catch(() => undefined);
    this.running = this.flushAll(sweep);
    try {
      return await this.running;
    } finally {
      this.running = undefined;
    }
  }

  private async flushAll(sweep: boolean): Promise<number> {
    let total = 0;
    const hinted = new Map(this.hinted);
    this.hinted.clear();
    try {
      for (const [name, ids] of hinted) {
        const coll = this.byName.get(name)!;
        while (ids.size > 0) {
          const chunk = [...ids].slice(0, this.batchSize);
          total += (await this.publishFrom(coll, { _id: { $in: chunk } }, true)).events;
          for (const id of chunk) ids.delete(id);
        }
      }
    } catch (e) {
      // not published: announced again for the next round
      for (const [name, ids] of hinted) for (const id of ids) this.hint(name, id);
      throw e;
    }
    if (sweep) {
      const started = Date.now();
      let swept = 0;
      for (const coll of this.opts.collections) {
        swept += await this.migrate(coll);
        swept += await this.sweepMarked(coll);
      }
      this.lastSweep = started;
      if (swept > 0 && this.opts.client) this.opts.logger?.info({ events: swept }, "outbox sweep published events no write announced");
      total += swept;
    }
    return total;
  }

  /** The documents carrying the marker, batch by batch, until a batch brings nothing new (returns events published). */
  private async sweepMarked(coll: Collection<Document>): Promise<number> {
    const seen = new Set<string>();
    let events = 0;
    for (;;) {
      const r = await this.publishFrom(coll, { [OUTBOX_MARK]: OUTBOX_PENDING }, false);
      events += r.events;
      const before = seen.size;
      for (const id of r.ids) seen.add(idKey(id));
      // a document whose marker could not be cleared (written again meanwhile) comes back: no endless loop on it
      if (r.docs < this.batchSize || seen.size === before) return events;
    }
  }

  /**
   * Once per collection: the marker's index, and (unless `outbox_relay` says it was done) the full scan for events
   * written before the marker existed, recorded when it finished. Returns the events it published.
   */
  private async migrate(coll: Collection<Document>): Promise<number> {
    const name = `${coll.dbName}.${coll.collectionName}`;
    if (this.migrated.has(name)) return 0;
    await coll.createIndex({ [OUTBOX_MARK]: 1 });
    const state = coll.db.collection<{ _id: string }>(OUTBOX_STATE);
    let events = 0;
    if (!(await state.findOne({ _id: coll.collectionName }))) {
      for (;;) {
        const r = await this.publishFrom(coll, {}, true);
        events += r.events;
        if (r.docs < this.batchSize) break;
      }
      await state.updateOne({ _id: coll.collectionName }, { $set: { marker: OUTBOX_MARK } }, { upsert: true });
      this.opts.logger?.info({ collection: coll.collectionName, events }, "outbox: one-off scan for unmarked events done");
    }
    this.migrated.add(name);
    return events;
  }

  private hint(name: string, id: unknown): void {
    let set = this.hinted.get(name);
    if (!set) this.hinted.set(name, (set = new Set()));
    set.add(id);
  }

  private get batchSize(): number {
    return this.opts.batchSize ?? 500;
  }

  /**
   * Publishes one batch of the documents matching `filter` (with `withEvents`, only those with pending events), then
   * empties each one's outbox and removes its marker in one update conditional on the outbox being exactly what
   * was published. Where that matched fewer documents (events were added meanwhile, or another relay got there
   * first), the published events are pulled instead ($pullAll: whole-value match; FerretDB v1 has no conditional
   * $pull) and the marker stays for the events added.
   */
  private async publishFrom(coll: Collection<Document>, filter: Document, withEvents: boolean): Promise<{ docs: number; events: number; ids: unknown[] }> {
    const docs = await coll
      .find(withEvents ? { ...filter, [`${PENDING_EVENTS}.0`]: { $exists: true } } : filter, { projection: { _id: 1, [PENDING_EVENTS]: 1 } })
      .limit(this.batchSize)
      .toArray();
    if (docs.length === 0) return { docs: 0, events: 0, ids: [] };
    const pending = (d: Document) => (Array.isArray(d[PENDING_EVENTS]) ? (d[PENDING_EVENTS] as StoredEvent[]) : []);
    const events = docs.flatMap((d) => pending(d).map(fromStored));
    if (events.length > 0) await this.opts.bus.publish(events);
    const cleared = await coll.bulkWrite(
      docs.map((d) => ({
        updateOne: {
          filter: { _id: d._id, [PENDING_EVENTS]: Array.isArray(d[PENDING_EVENTS]) ? d[PENDING_EVENTS] : { $exists: false } },
          update: { $set: { [PENDING_EVENTS]: [] }, $unset: { [OUTBOX_MARK]: "" } } as Document,
        },
      })),
      { ordered: false },
    );
    if (cleared.matchedCount < docs.length) {
      const withPending = docs.filter((d) => pending(d).length > 0);
      if (withPending.length > 0)
        await coll.bulkWrite(
          withPending.map((d) => ({ updateOne: { filter: { _id: d._id }, update: { $pullAll: { [PENDING_EVENTS]: d[PENDING_EVENTS] } } as Document } })),
          { ordered: false },
        );
    }
    return { docs: docs.length, events: events.length, ids: docs.map((d) => d._id) };
  }

  /** Stops relaying after a last flush of everything. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.detach();
    await this.flush().catch(() => undefined);
  }
}
