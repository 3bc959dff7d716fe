import { billing, Topics } from "@whiteslip/contracts";
import { encodeEvent, type OutgoingEvent } from "@whiteslip/bus";
import { testInfra, uniqueName } from "@whiteslip/testkit/vitest";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyOnce, connectStore, ensureIndexes, insertOnce, OutboxRelay, pushEvents, type Store } from "../src/index";

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
    await coll.updateOne({ _id: "acc" }, { $set: { state: "s2" }, $push: pushEvents([ev(1), ev(2)]) } as never);

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
      await coll.updateOne({ _id: "a" }, { $push: pushEvents([ev(1, "a")]) } as never);
      await coll.findOneAndUpdate({ _id: "b" }, { $push: pushEvents([ev(2, "b")]) } as never);
      await coll.insertOne({ _id: "c", group: "g", pendingEvents: pushEvents([ev(3, "c")]).pendingEvents.$each } as never);
      await coll.bulkWrite([{ updateOne: { filter: { _id: "a" }, update: { $push: pushEvents([ev(4, "a")]) } as never } }]);
      await coll.updateMany({ group: "g", _id: "b" as never }, { $push: pushEvents([ev(5, "b")]) } as never);
      // not by _id: the watch cannot tell which documents, so only a scan finds it
      await coll.updateMany({ group: "g" }, { $push: pushEvents([ev(6, "all")]) } as never);
      // Barrier: a marker written (by _id) after all of the above; the relay's rounds run one at a time, so once the
      // marker is out, every round the earlier writes started has finished.
      await coll.insertOne({ _id: "m", group: "marker", pendingEvents: pushEvents([ev(0, "m")]).pendingEvents.$each } as never);
      const deadline = Date.now() + 20_000;
      while (!published.includes("an-0") && Date.now() < deadline) await sleep(20);
      expect(published).toContain("an-0");
      published.splice(published.indexOf("an-0"), 1);
      // ev 6 is in a, b and c, announced by nothing; a, b and c were announced by other writes, so
      // a round may carry some of them along: what matters is that 1–5 came without a scan
      expect(published.filter((id) => id !== "an-6").sort()).toEqual(["an-1", "an-2", "an-3", "an-4", "an-5"]);
      await relay.flush(); // the scan publishes whatever is left
      expect(published.filter((id) => id === "an-6")).toHaveLength(3);
      expect(await coll.countDocuments({ "pendingEvents.0": { $exists: true } })).toBe(0);
    } finally {
      await relay.stop();
    }
  });
});
