import type { EventBus, OutgoingEvent } from "@whiteslip/bus";
import { Binary, type Collection, type Document } from "mongodb";
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

/** Publishes the `pendingEvents` of documents in some collections. */
export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private stopped = false;

  constructor(
    private readonly opts: {
      bus: Pick<EventBus, "publish">;
      collections: Collection<Document>[];
      logger?: StoreLogger;
      /** Poll interval when idle, ms (default 200). */
      intervalMs?: number;
      /** Documents per publish batch (default 500). */
      batchSize?: number;
    },
  ) {}

  /** Starts polling. */
  start(): void {
    this.stopped = false;
    const loop = async () => {
      if (this.stopped) return;
      let n = 0;
      try {
        n = await this.flush();
      } catch (e) {
        this.opts.logger?.warn({ err: (e as Error).message }, "outbox relay failed; will retry");
      }
      if (!this.stopped) this.timer = setTimeout(loop, n > 0 ? 0 : (this.opts.intervalMs ?? 200));
    };
    this.timer = setTimeout(loop, 0);
  }

  /** Publishes everything pending now; returns the number of events published. Safe to call concurrently. */
  async flush(): Promise<number> {
    while (this.running) await this.running.catch(() => undefined);
    this.running = this.flushAll();
    try {
      return await this.running;
    } finally {
      this.running = undefined;
    }
  }

  private async flushAll(): Promise<number> {
    let total = 0;
    for (const coll of this.opts.collections) {
      for (;;) {
        const docs = await coll
          .find({ [`${PENDING_EVENTS}.0`]: { $exists: true } }, { projection: { _id: 1, [PENDING_EVENTS]: 1 } })
          .limit(this.opts.batchSize ?? 500)
          .toArray();
        if (docs.length === 0) break;
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
        total += events.length;
        if (docs.length < (this.opts.batchSize ?? 500)) break;
      }
    }
    return total;
  }

  /** Stops polling after a last flush. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.flush().catch(() => undefined);
  }
}
