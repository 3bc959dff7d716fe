/**
 * The re-encryption sweep on the real MongoDB-wire database: after a rotation it moves every sealed value and blind
 * index to the active keys (reading the old ones, also the `v1:` format), resumes after a crash where it stopped,
 * and a second sweep changes nothing.
 */
import { randomBytes } from "node:crypto";
import { activateKey, addKey, generateKeyring, PiiCipher } from "@whiteslip/pii";
import { sealV1 } from "@whiteslip/pii/testing";
import { createLogger } from "@whiteslip/telemetry";
import { freshDatabaseName, testInfra } from "@whiteslip/testkit/vitest";
import { type Document, MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PiiReencryption, type SweepProgress } from "../src/index";

const logger = createLogger({ service: "pii-sweep-test", level: "silent" });
let client: MongoClient;
let dbName: string;

beforeAll(async () => {
  client = await MongoClient.connect(testInfra().mongoUri);
  dbName = freshDatabaseName("pii_sweep");
});
afterAll(async () => {
  await client
    ?.db(dbName)
    .dropDatabase()
    .catch(() => undefined);
  await client?.close();
});

describe("PiiReencryption", () => {
  it("moves every value to the new keys, resumes after a crash, and a second sweep changes nothing", async () => {
    const db = client.db(dbName);
    const people = db.collection<Document>("people");
    const progress = db.collection<SweepProgress>("pii_rotation");
    const legacy = randomBytes(32).toString("base64");
    const before = { ...generateKeyring(), legacyV1: legacy };
    const old = new PiiCipher(before);
    const ids = Array.from({ length: 50 }, (_, i) => `p${String(i).padStart(3, "0")}`);
    await people.insertMany(
      ids.map((id, i) => ({
        _id: id as never,
        // every fifth in the v1 format of the versions before key ids
        nameEnc: i % 5 === 0 ? sealV1(legacy, `name-${i}`) : old.encrypt(`name-${i}`),
        idEnc: old.encrypt(`ID${i}`),
        idIndex: old.blindIndex(`ID${i}`),
        ...(i % 7 === 0 ? { emailEnc: null } : { emailEnc: old.encrypt(`p${i}@example.com`) }),
      })),
    );
    const e = addKey(before, "encryption");
    const x = addKey(e.material, "index");
    const after = activateKey(activateKey(x.material, "encryption", e.id), "index", x.id);
    const cipher = new PiiCipher(after);
    const sealed = [
      {
        collection: people,
        fields: ["nameEnc", "idEnc", "emailEnc"],
        indexes: [{ field: "idIndex", of: "idEnc" }],
      },
    ];

    // a sweep that "crashes" after 20 documents
    const first = await new PiiReencryption({
      pii: cipher,
      collections: sealed,
      progress,
      logger,
      batchSize: 8,
      stopAfter: 20,
    }).run();
    expect(first[0]).toMatchObject({ scanned: 20, done: false, lastId: "p019", target: `${e.id}/${x.id}` });
    const mid = await people.find().sort({ _id: 1 }).toArray();
    expect(
      mid.slice(0, 20).every((d) => cipher.keyIdOf(d.nameEnc) === e.id && cipher.isCurrentIndex(d.idIndex)),
    ).toBe(true);
    expect(
      mid
        .slice(20)
        .every(
          (d) => cipher.keyIdOf(d.idEnc) === before.encryption.active && !cipher.isCurrentIndex(d.idIndex),
        ),
    ).toBe(true);

    // the restarted service's sweep goes on after p019
    const second = await new PiiReencryption({
      pii: cipher,
      collections: sealed,
      progress,
      logger,
      batchSize: 8,
    }).run();
    expect(second[0]).toMatchObject({ scanned: 50, done: true, skipped: 0 });
    expect(second[0]!.resealed).toBe(
      first[0]!.resealed + 30 * 2 + mid.slice(20).filter((d) => d.emailEnc).length,
    );
    expect(second[0]!.reindexed).toBe(50);
    const done = await people.find().sort({ _id: 1 }).toArray();
    for (const [i, d] of done.entries()) {
      for (const f of ["nameEnc", "idEnc", "emailEnc"]) if (d[f]) expect(cipher.keyIdOf(d[f])).toBe(e.id);
      expect(cipher.decrypt(d.nameEnc)).toBe(`name-${i}`);
      expect(d.idIndex).toBe(cipher.blindIndex(`ID${i}`));
      expect(d.emailEnc === null).toBe(i % 7 === 0);
    }

    // once more: nothing to do, nothing written
    const third = await new PiiReencryption({ pii: cipher, collections: sealed, progress, logger }).run();
    expect(third[0]).toMatchObject({ scanned: 50, resealed: 0, reindexed: 0, done: true });
    expect(await people.find().sort({ _id: 1 }).toArray()).toEqual(done);
    // the old keys can go: the new ring alone reads everything
    const retired = new PiiCipher({
      encryption: { active: e.id, keys: { [e.id]: after.encryption.keys[e.id]! } },
      index: { active: x.id, keys: { [x.id]: after.index.keys[x.id]! } },
    });
    for (const [i, d] of done.entries()) expect(retired.decrypt(d.idEnc)).toBe(`ID${i}`);
  });
});
