import { testInfra, uniqueName } from "@whiteslip/testkit/vitest";
import { type Document, MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The local FerretDB pushes top-level string equalities down to SQLite (packages/testkit/src/ferret-local.ts,
// patch 5). A pushed-down condition may only ever keep MORE documents than the filter matches — the handler filters
// again — so every answer below must be MongoDB's, whichever way the collection is indexed: arrays holding the
// string match, nested arrays, other types, missing fields and look-alikes do not, strings the patch does not push
// down (non-ASCII, characters encoders escape) still match, and so do the filters it leaves alone ($eq, nested paths,
// null, arrays) and fields whose names SQLite would not read as a field: FerretDB's own column (`_ferretdb_sjson`),
// SQLite's rowid aliases (`rowid`, `oid`, any case) and names that start with a digit (`->'0'` is an array index).
const DOCS: Document[] = [
  { _id: "a", s: "x", t: "1" },
  { _id: "b", s: ["x", "y"], t: "1" },
  { _id: "c", s: "y" },
  { _id: "d", s: 5 },
  { _id: "e" },
  { _id: "f", s: { k: "x" } },
  { _id: "g", s: "x", t: "2" },
  { _id: "h", s: [{ k: "x" }, "z"] },
  { _id: "i", s: 'x<&>"' },
  { _id: "j", s: "中文" },
  { _id: "k", s: null },
  { _id: "l", s: "X" },
  { _id: "m", s: "x ", t: "1" },
  { _id: "o", _ferretdb_sjson: "x" },
  { _id: "p", "0": "x", "1a": "x", rowid: "x", OID: "x" },
];

const ids = (docs: Document[]) => docs.map((d) => d._id as string).sort();

describe.each([
  ["no index", [] as Document[]],
  ["an index on the field", [{ s: 1 }]],
  ["a compound index led by the field", [{ s: 1, t: 1 }]],
])("string equalities on the local database, %s", (_name, indexes) => {
  let client: MongoClient;
  const dbName = uniqueName("pushdown");
  beforeAll(async () => {
    client = await new MongoClient(testInfra().mongoUri).connect();
  });
  afterAll(async () => {
    await client.db(dbName).dropDatabase();
    await client.close();
  });

  const fresh = async () => {
    const coll = client.db(dbName).collection<{ _id: string } & Document>(uniqueName("c"));
    await coll.insertMany(DOCS.map((d) => ({ ...d }) as { _id: string }));
    for (const key of indexes) await coll.createIndex(key);
    return coll;
  };

  it("find, count and aggregate return what MongoDB returns", async () => {
    const coll = await fresh();
    expect(ids(await coll.find({ s: "x" }).toArray())).toEqual(["a", "b", "g"]);
    expect(ids(await coll.find({ s: "y" }).toArray())).toEqual(["b", "c"]);
    expect(ids(await coll.find({ s: "x", t: "1" }).toArray())).toEqual(["a", "b"]);
    expect(ids(await coll.find({ t: "1", s: "x" }).toArray())).toEqual(["a", "b"]);
    expect(ids(await coll.find({ s: 'x<&>"' }).toArray())).toEqual(["i"]);
    expect(ids(await coll.find({ s: "中文" }).toArray())).toEqual(["j"]);
    expect(ids(await coll.find({ s: "X" }).toArray())).toEqual(["l"]);
    expect(ids(await coll.find({ s: "x " }).toArray())).toEqual(["m"]);
    expect(ids(await coll.find({ s: "z" }).toArray())).toEqual(["h"]);
    expect(ids(await coll.find({ s: "w" }).toArray())).toEqual([]);
    expect(ids(await coll.find({ s: { $eq: "x" } }).toArray())).toEqual(["a", "b", "g"]);
    expect(ids(await coll.find({ "s.k": "x" }).toArray())).toEqual(["f", "h"]);
    expect(ids(await coll.find({ s: null }).toArray())).toEqual(["e", "k", "o", "p"]);
    expect(ids(await coll.find({ s: ["x", "y"] }).toArray())).toEqual(["b"]);
    expect(ids(await coll.find({ _ferretdb_sjson: "x" }).toArray())).toEqual(["o"]);
    expect(ids(await coll.find({ "0": "x" }).toArray())).toEqual(["p"]);
    expect(ids(await coll.find({ "1a": "x" }).toArray())).toEqual(["p"]);
    expect(ids(await coll.find({ rowid: "x" }).toArray())).toEqual(["p"]);
    expect(ids(await coll.find({ OID: "x" }).toArray())).toEqual(["p"]);
    expect(ids(await coll.find({ s: "x", _id: "g" }).toArray())).toEqual(["g"]);
    expect(ids(await coll.find({ s: "x", _id: { $in: ["a", "c"] } }).toArray())).toEqual(["a"]);
    expect(ids(await coll.find({ s: "x" }).sort({ _id: -1 }).limit(2).toArray())).toEqual(["b", "g"]);
    expect(await coll.countDocuments({ s: "x" })).toBe(3);
    expect(await coll.aggregate([{ $match: { s: "x", t: "1" } }, { $count: "n" }]).toArray()).toEqual([{ n: 2 }]);
  });

  it("update, findOneAndUpdate and delete act on exactly the matching documents", async () => {
    const coll = await fresh();
    expect((await coll.updateMany({ s: "x" }, { $set: { u: 1 } })).modifiedCount).toBe(3);
    expect(ids(await coll.find({ u: 1 }).toArray())).toEqual(["a", "b", "g"]);
    expect((await coll.findOneAndUpdate({ s: "x", t: "2" }, { $set: { v: 1 } }, { returnDocument: "after" }))?._id).toBe("g");
    expect((await coll.updateOne({ s: "nope" }, { $set: { w: 1 } }, { upsert: true })).upsertedCount).toBe(1);
    expect((await coll.deleteMany({ s: "y" })).deletedCount).toBe(2);
    expect(await coll.countDocuments({ s: "nope" })).toBe(1);
    const left = (await coll.find({ s: { $ne: "nope" } }).toArray()).map((d) => d._id as string).sort();
    expect(left).toEqual(["a", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "o", "p"]);
  });
});
