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

/** `$push` clause adding events to the outbox of the updated document. */
export function pushEvents(events: OutgoingEvent[]): Document {
  return { [PENDING_EVENTS]: { $each: toStored(events) } };
}

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
   * With a client: how often to also scan the whole collections, ms (default 30,000;
   * the first round always scans). That finds what no write of this process announced:
   * events left by a process that died before its relay ran, or written in a way the
   * watch does not recognise (not by _id).
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
 * documents by _id at once; a full scan runs at start and then every
 * `sweepIntervalMs` as the safety net.
 */
export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private stopped = true;
  private lastSweep = 0;
  private readonly started = new Map<number, Hint>();
  private readonly hinted = new Map<string, Set<unknown>>();
  private readonly byName = new Map<string, Collection<Document>>();
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

  /** Publishes everything pending now (a full scan included); returns the number of events. Safe to call concurrently. */
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
          total += (await this.publishFrom(coll, { _id: { $in: chunk } })).events;
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
        for (;;) {
          const { docs, events } = await this.publishFrom(coll, {});
          swept += events;
          if (docs < this.batchSize) break;
        }
      }
      this.lastSweep = started;
      if (swept > 0 && this.opts.client) this.opts.logger?.info({ events: swept }, "outbox scan published events no write announced");
      total += swept;
    }
    return total;
  }

  private hint(name: string, id: unknown): void {
    let set = this.hinted.get(name);
    if (!set) this.hinted.set(name, (set = new Set()));
    set.add(id);
  }

  private get batchSize(): number {
    return this.opts.batchSize ?? 500;
  }

  /** Publishes one batch of the documents with pending events matching `filter`. */
  private async publishFrom(coll: Collection<Document>, filter: Document): Promise<{ docs: number; events: number }> {
    const docs = await coll
      .find({ ...filter, [`${PENDING_EVENTS}.0`]: { $exists: true } }, { projection: { _id: 1, [PENDING_EVENTS]: 1 } })
      .limit(this.batchSize)
      .toArray();
    if (docs.length === 0) return { docs: 0, events: 0 };
    const events = docs.flatMap((d) => (d[PENDING_EVENTS] as StoredEvent[]).map(fromStored));
    await this.opts.bus.publish(events);
    await coll.bulkWrite(
      docs.map((d) => ({
        updateOne: {
          filter: { _id: d._id },
          // $pullAll removes exactly the published elements (whole-value match);
          // events appended meanwhile stay for the next round. FerretDB v1 has
          // no conditional $pull, so no `{ eventId: { $in } }` here.
          update: { $pullAll: { [PENDING_EVENTS]: d[PENDING_EVENTS] } } as Document,
        },
      })),
      { ordered: false },
    );
    return { docs: docs.length, events: events.length };
  }

  /** Stops relaying after a last flush of everything. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.detach();
    await this.flush().catch(() => undefined);
  }
}
