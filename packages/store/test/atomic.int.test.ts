import { testInfra, uniqueName } from "@whiteslip/testkit/vitest";
import { MongoClient } from "mongodb";
import { expect, it } from "vitest";

// The credit limit must never be over-spent however many authorizations race. That rests
// on a conditional single-document update being atomic in the database; this pins it for
// the database the tests run on.
it("a conditional $inc is atomic under concurrent updates from many connections", async () => {
  const { mongoUri } = testInfra();
  const clients = await Promise.all(Array.from({ length: 4 }, () => new MongoClient(mongoUri, { maxPoolSize: 20 }).connect()));
  const dbName = uniqueName("atomic");
  const colls = clients.map((c) => c.db(dbName).collection<{ _id: string; available: number; holds: number }>("lines"));
  await colls[0]!.insertOne({ _id: "line", available: 1_000, holds: 0 });
  const results = await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      colls[i % colls.length]!.updateOne({ _id: "line", available: { $gte: 30 } }, { $inc: { available: -30, holds: 1 } }),
    ),
  );
  const approved = results.filter((r) => r.modifiedCount === 1).length;
  const doc = await colls[0]!.findOne({ _id: "line" });
  await clients[0]!.db(dbName).dropDatabase();
  await Promise.all(clients.map((c) => c.close()));
  expect(approved).toBe(33);
  expect(doc).toMatchObject({ available: 10, holds: 33 });
});
