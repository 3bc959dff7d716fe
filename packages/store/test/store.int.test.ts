import { billing, Topics } from "@whiteslip/contracts";
import { encodeEvent, type OutgoingEvent } from "@whiteslip/bus";
import { testInfra, uniqueName } from "@whiteslip/testkit/vitest";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CommandStartedEvent, Document } from "mongodb";
import { applyOnce, connectStore, ensureIndexes, insertOnce, markOutboxMigrated, OUTBOX_MARK, OUTBOX_STATE, OutboxRelay, outboxFields, pushEvents, type Store } from "../src/index";

describe("store on the real MongoDB-wire database", () => {
  const { mongoUri } = testInfra();
  let store: Store;
  beforeAll(async () => {
    store = await connectStore({ uri: mongoUri, dbName: uniqueName("store_test") });
  });
  afterAll(async () => {
    await store.db.dropDatabase();
    await store.close();
  });

  it("applyOnce applies an event's effect once, however often it is delivered", async () => {
    const coll = store.db.collection<{ _id: string; count: number }>("counters");
    const first = await applyOnce(coll, { _id: "a" }, "ev-1", { $inc: { count: 1 } }, { upsert: true });
    const again = await applyOnce(coll, { _id: "a" }, "ev-1", { $inc: { count: 1 } }, { upsert: true });
    const second = await applyOnce(coll, { _id: "a" }, "ev-2", { $inc: { count: 1 } }, { upsert: true });
    expect([first, again, second]).toEqual(["applied", "duplicate", "applied"]);
    expect((await coll.findOne({ _id: "a" }))?.count).toBe(2);
  });

  it("insertOnce reports a duplicate on the unique key", async () => {
    const coll = store.db.collection<{ _id: string; v: number }>("effects");
    await ensureIndexes(coll, [{ key: { v: 1 }, serves: "test lookups by v" }]);
    expect(await insertOnce(coll, { _id: "e1", v: 1 })).toBe("applied");
    expect(await insertOnce(coll, { _id: "e1", v: 2 })).toBe("duplicate");
    expect(await coll.countDocuments()).toBe(1);
  });

  it("the outbox relay publishes pending events and removes only what was acknowledged", async () => {
    const coll = store.db.collection<{ _id: string; state: string }>("aggregates");
    const ev = (n: number) =>
      encodeEvent(Topics.Overdue, { id: `ev-${n}`, key: "acc", time: new Date(), data: { accountId: "acc", customerId: "cus-acc", businessDate: "2026-03-02", daysPastDue: n } });
    await coll.insertOne({ _id: "acc", state: "s1", pendingEvents: [] } as never);
    await coll.updateOne({ _id: "acc" }, pushEvents({ $set: { state: "s2" } }, [ev(1), ev(2)]) as never);

    const published: OutgoingEvent[] = [];
    let fail = true;
    const relay = new OutboxRelay({
      bus: {
        publish: async (events) => {
          if (fail) throw new Error("broker unavailable");
          published.push(...events);
        },
      },
      collections: [coll as never],
    });
    await expect(relay.flush()).rejects.toThrow("broker unavailable");
    expect(((await coll.findOne({ _id: "acc" })) as unknown as { pendingEvents: unknown[] }).pendingEvents).toHaveLength(2);

    fail = false;
    expect(await relay.flush()).toBe(2);
    expect(published.map((e) => e.headers.ce_id)).toEqual(["ev-1", "ev-2"]);
    expect(published[0]!.topic).toBe(Topics.Overdue.topic);
    expect(Buffer.from(published[1]!.value)).toEqual(Buffer.from(ev(2).value));
    expect(((await coll.findOne({ _id: "acc" })) as unknown as { pendingEvents: unknown[] }).pendingEvents).toHaveLength(0);
    expect(await relay.flush()).toBe(0);
    void billing;
  });

  it("the relay publishes what the client's writes announce at once, and finds the rest in its scan", async () => {
    const coll = store.db.collection<{ _id: string; group: string }>(uniqueName("announced"));
    const ev = (n: number, key: string) =>
      encodeEvent(Topics.Overdue, { id: `an-${n}`, key, time: new Date(), data: { accountId: key, customerId: `cus-${key}`, businessDate: "2026-03-02", daysPastDue: n + 1 } });
    await coll.insertMany([
      { _id: "a", group: "g" },
      { _id: "b", group: "g" },
    ]);
    const published: string[] = [];
    // no scan after the first one within this test: whatever is published later was announced
    const relay = new OutboxRelay({
      bus: { publish: async (events) => void published.push(...events.map((e) => e.headers.ce_id!)) },
      collections: [coll as never],
      client: store.client,
      sweepIntervalMs: 3_600_000,
    });
    // the scan runs first and sets the clock of the next one an hour away: whatever is published below was announced
    await relay.flush();
    relay.start();
    try {
      await coll.updateOne({ _id: "a" }, pushEvents({}, [ev(1, "a")]) as never);
      await coll.findOneAndUpdate({ _id: "b" }, pushEvents({}, [ev(2, "b")]) as never);
      await coll.insertOne({ _id: "c", group: "g", ...outboxFields([ev(3, "c")]) } as never);
      await coll.bulkWrite([{ updateOne: { filter: { _id: "a" }, update: pushEvents({}, [ev(4, "a")]) as never } }]);
      await coll.updateMany({ group: "g", _id: "b" as never }, pushEvents({}, [ev(5, "b")]) as never);
      // not by _id: the watch cannot tell which documents, so only the sweep (by marker) finds it
      await coll.updateMany({ group: "g" }, pushEvents({}, [ev(6, "all")]) as never);
      // Barrier: a marker written (by _id) after all of the above; the relay's rounds run one at a time, so once the
      // marker is out, every round the earlier writes started has finished.
      await coll.insertOne({ _id: "m", group: "marker", ...outboxFields([ev(0, "m")]) } as never);
      const deadline = Date.now() + 20_000;
      while (!published.includes("an-0") && Date.now() < deadline) await sleep(20);
      expect(published).toContain("an-0");
      published.splice(published.indexOf("an-0"), 1);
      // ev 6 is in a, b and c, announced by nothing; a, b and c were announced by other writes, so
      // a round may carry some of them along: what matters is that 1–5 came without a scan
      expect(published.filter((id) => id !== "an-6").sort()).toEqual(["an-1", "an-2", "an-3", "an-4", "an-5"]);
      await relay.flush(); // the sweep publishes whatever is left
      expect(published.filter((id) => id === "an-6")).toHaveLength(3);
      expect(await coll.countDocuments({ "pendingEvents.0": { $exists: true } })).toBe(0);
    } finally {
      await relay.stop();
    }
  });

  // The finds a relay sends for a collection: each must be served by an index — by _id or by the marker.
  function watchFinds(collName: string): { filters: Document[]; stop: () => void } {
    const filters: Document[] = [];
    const on = (e: CommandStartedEvent) => {
      if (e.commandName === "find" && e.command.find === collName) filters.push(e.command.filter ?? {});
    };
    store.client.on("commandStarted", on);
    return { filters, stop: () => void store.client.off("commandStarted", on) };
  }
  const indexed = (f: Document) => "_id" in f || f[OUTBOX_MARK] === "pending";
  const overdue = (id: string, key: string) =>
    encodeEvent(Topics.Overdue, { id, key, time: new Date(), data: { accountId: key, customerId: `cus-${key}`, businessDate: "2026-03-02", daysPastDue: 3 } });

  it("events left by a process that died before its relay ran are published by another relay without any full scan", async () => {
    const name = uniqueName("orphans");
    const coll = store.db.collection<{ _id: string; n: number }>(name);
    await coll.insertMany(Array.from({ length: 50 }, (_, n) => ({ _id: `q${n}`, n })));
    // a relay ran on this collection before (its one-off migration is recorded)
    await new OutboxRelay({ bus: { publish: async () => {} }, collections: [coll as never], client: store.client }).flush();
    expect(await store.db.collection(OUTBOX_STATE).findOne({ _id: name as never })).not.toBeNull();

    // another process writes events and dies before its relay publishes them: an update, a write not by _id, an insert
    const other = await connectStore({ uri: mongoUri, dbName: store.db.databaseName });
    const oc = other.db.collection<{ _id: string; n: number }>(name);
    await oc.updateOne({ _id: "q3" }, pushEvents({ $set: { n: -3 } }, [overdue("or-1", "q3")]) as never);
    await oc.updateMany({ n: { $gte: 48 } }, pushEvents({}, [overdue("or-2", "many")]) as never);
    await oc.insertOne({ _id: "q50", n: 50, ...outboxFields([overdue("or-3", "q50")]) } as never);
    await other.close();

    const finds = watchFinds(name);
    const published: string[] = [];
    const relay = new OutboxRelay({ bus: { publish: async (es) => void published.push(...es.map((e) => e.headers.ce_id!)) }, collections: [coll as never], client: store.client });
    relay.start();
    try {
      const deadline = Date.now() + 20_000;
      while (published.length < 4 && Date.now() < deadline) await sleep(20);
    } finally {
      await relay.stop();
      finds.stop();
    }
    expect(published.sort()).toEqual(["or-1", "or-2", "or-2", "or-3"]);
    // every read of the collection was by _id or by the marker: no unfiltered find, no `pendingEvents.0` scan
    expect(finds.filters.length).toBeGreaterThan(0);
    expect(finds.filters.filter((f) => !indexed(f))).toEqual([]);
    // the outboxes are empty and the markers gone
    expect(await coll.countDocuments({ [OUTBOX_MARK]: { $exists: true } })).toBe(0);
    expect(await coll.countDocuments({ "pendingEvents.0": { $exists: true } })).toBe(0);
  });

  it("events stored before the marker existed are found once by the one-off scan, which is recorded and not run again", async () => {
    const name = uniqueName("legacy");
    const coll = store.db.collection<{ _id: string }>(name);
    // written by the previous version: events, no marker
    await coll.insertMany([{ _id: "l1", pendingEvents: outboxFields([overdue("lg-1", "l1")]).pendingEvents } as never, { _id: "l2" }]);
    const published: string[] = [];
    const bus = { publish: async (es: OutgoingEvent[]) => void published.push(...es.map((e) => e.headers.ce_id!)) };
    expect(await new OutboxRelay({ bus, collections: [coll as never], client: store.client }).flush()).toBe(1);
    expect(published).toEqual(["lg-1"]);
    // a relay started later (another process) reads by the marker only
    const finds = watchFinds(name);
    try {
      expect(await new OutboxRelay({ bus, collections: [coll as never], client: store.client }).flush()).toBe(0);
    } finally {
      finds.stop();
    }
    expect(finds.filters.filter((f) => !indexed(f))).toEqual([]);
  });

  it("a crash between publish and clear publishes again at most once (same ids); an event added meanwhile keeps its marker", async () => {
    const coll = store.db.collection<{ _id: string; n: number }>(uniqueName("crash"));
    await markOutboxMigrated(coll as never);
    await coll.insertMany([
      { _id: "x", n: 0, ...outboxFields([overdue("cr-1", "x"), overdue("cr-2", "x")]) },
      { _id: "y", n: 0, ...outboxFields([overdue("cr-3", "y")]) },
    ] as never);
    const published: string[] = [];
    // the broker acknowledged, then the process died before it cleared the outbox
    const dying = new OutboxRelay({
      bus: {
        publish: async (es) => {
          published.push(...es.map((e) => e.headers.ce_id!));
          throw new Error("process killed after the broker's ack");
        },
      },
      collections: [coll as never],
    });
    await expect(dying.flush()).rejects.toThrow("killed");
    expect(await coll.countDocuments({ [OUTBOX_MARK]: "pending" })).toBe(2);

    // the next process's relay: while it publishes x's events, a writer adds one more to x
    let added = false;
    const next = new OutboxRelay({
      bus: {
        publish: async (es) => {
          published.push(...es.map((e) => e.headers.ce_id!));
          if (!added) {
            added = true;
            await coll.updateOne({ _id: "x" }, pushEvents({ $inc: { n: 1 } }, [overdue("cr-4", "x")]) as never);
          }
        },
      },
      collections: [coll as never],
    });
    await next.flush();
    // cr-4 was added after the read: not published yet, still pending and marked (no client: only a sweep finds it)
    expect(((await coll.findOne({ _id: "x" })) as Document | null)?.[OUTBOX_MARK]).toBe("pending");
    await next.flush();
    expect(await next.flush()).toBe(0);
    const count = (id: string) => published.filter((p) => p === id).length;
    expect(["cr-1", "cr-2", "cr-3"].map(count)).toEqual([2, 2, 2]); // once by the dead process, once again
    expect(count("cr-4")).toBe(1);
    expect(await coll.countDocuments({ [OUTBOX_MARK]: { $exists: true } })).toBe(0);
    expect(await coll.countDocuments({ "pendingEvents.0": { $exists: true } })).toBe(0);
  });
});
