import { billing, Topics } from "@whiteslip/contracts";
import { encodeEvent, type OutgoingEvent } from "@whiteslip/bus";
import { testInfra, uniqueName } from "@whiteslip/testkit/vitest";
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
      encodeEvent(Topics.Overdue, { id: `ev-${n}`, key: "acc", time: new Date(), data: { accountId: "acc", daysPastDue: n } });
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
});
