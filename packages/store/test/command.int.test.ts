import { encodeEvent } from "@whiteslip/bus";
import { Topics } from "@whiteslip/contracts";
import { testScope } from "@whiteslip/testkit/vitest";
import { type Document, MongoClient } from "mongodb";
import { afterAll, beforeAll, expect, it } from "vitest";
import { commandOnDocument, outcome, type StoredEvent, write } from "../src/index";

// N commands race on one aggregate from several connections (as several pods would), on the real
// database: each must apply exactly once — its mark, its event and its increment once — with no
// command failing, and the first of them creating the document (insert when absent, a lost
// creation race reloads and decides again).
const scope = testScope("command");
const dbName = scope.database("store");
let clients: MongoClient[];

beforeAll(async () => {
  clients = await Promise.all(Array.from({ length: 3 }, () => new MongoClient(scope.mongoUri, { maxPoolSize: 10 }).connect()));
});
afterAll(async () => {
  await clients[0]?.db(dbName).dropDatabase();
  await Promise.all(clients.map((c) => c.close()));
});

type Tally = { accountId: string; total: number };
let decisions = 0;
const decisionsOf = new Map<string, number>();

/** Adds `amount` to the tally once per command id; a redelivered command changes nothing. */
function addToTally(i: number, commandId: string, amount: number) {
  const coll = clients[i % clients.length]!.db(dbName).collection<Document>("tallies");
  return commandOnDocument<Tally, "applied" | "duplicate">(coll, "acc-1", (cur) => {
    decisions++;
    decisionsOf.set(commandId, (decisionsOf.get(commandId) ?? 0) + 1);
    if (cur?.marks.includes(commandId)) return outcome("duplicate");
    const total = (cur?.state.total ?? 0) + amount;
    return write(
      {
        state: { accountId: "acc-1", total },
        events: [encodeEvent(Topics.Overdue, { id: `ev-${commandId}`, key: "acc-1", time: new Date(0), data: { accountId: "acc-1", customerId: "cus-1", businessDate: "2026-03-02", daysPastDue: total } })],
        marks: [commandId],
      },
      "applied",
    );
  });
}

it("N concurrent commands on one aggregate all apply exactly once (creation included)", async () => {
  const N = 16;
  const ids = Array.from({ length: N }, (_, i) => `cmd-${i}`);
  const results = await Promise.all(ids.map((id, i) => addToTally(i, id, i + 1)));
  expect(results).toEqual(ids.map(() => "applied"));
  // the commands did race: some lost a write (or the creation) and were decided again
  expect(decisions).toBeGreaterThan(N);
  console.info(`command.int: ${N} commands, ${decisions} decisions, at most ${Math.max(...decisionsOf.values())} for one command`);

  const doc = await clients[0]!.db(dbName).collection<Document>("tallies").findOne({ _id: "acc-1" as never });
  expect(doc?.total).toBe((N * (N + 1)) / 2);
  expect(doc?.version).toBe(N); // one insert, N − 1 updates
  expect([...((doc?.appliedEvents as string[] | undefined) ?? [])].sort()).toEqual([...ids].sort());
  const events = doc?.pendingEvents as StoredEvent[];
  expect(events.map((e) => e.eventId).sort()).toEqual(ids.map((id) => `ev-${id}`).sort());

  // redelivered, concurrently: every command is a duplicate and nothing changes
  const again = await Promise.all(ids.map((id, i) => addToTally(i, id, 1_000)));
  expect(again).toEqual(ids.map(() => "duplicate"));
  const after = await clients[0]!.db(dbName).collection<Document>("tallies").findOne({ _id: "acc-1" as never });
  expect(after?.total).toBe(doc?.total);
  expect(after?.version).toBe(N);
  expect(((after?.pendingEvents as StoredEvent[] | undefined) ?? []).length).toBe(N);
}, 60_000);
