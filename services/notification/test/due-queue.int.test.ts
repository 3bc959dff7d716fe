import { testInfra, uniqueName } from "@whiteslip/testkit/vitest";
import { type Db, MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dueBucket, MongoMessageRepository } from "../src/adapters/mongo-repositories";

// The due queue's entry is written before its message (insertNew), so a findDue can read the entry while the message
// is not stored yet. It used to take that entry for a stale one and delete it: the message, stored a moment later,
// was never due again (the fault suite's baselines stuck at "notification: 2 messages due or being sent", two
// payment-received messages with no entry). Now the entry stays until its message has been missing for a grace.
const SCHEDULED_AT = new Date("2027-03-11T03:00:01.020Z");
const NOW = new Date("2027-03-11T03:00:05.000Z");

function messageDoc(id: string) {
  return {
    _id: id,
    customerId: "cus-1",
    accountId: "acc-1",
    category: "TRANSACTIONAL",
    channel: "SMS",
    template: "payment-received@1",
    locale: "en",
    subject: "Payment received",
    body: "",
    status: "SCHEDULED",
    scheduledAt: SCHEDULED_AT,
    scheduleReason: "test",
    createdAt: SCHEDULED_AT,
    attempts: 0,
    factEventId: `fact-${id}`,
    factId: `fact-${id}`,
    factType: "whiteslip.billing.v1.PaymentReceived",
    ruleId: "payment-received",
    engagedKinds: [],
    factAt: SCHEDULED_AT,
    supersedable: false,
    inboxRank: 0,
  };
}

describe("the due queue when an entry is read before its message is stored", () => {
  let client: MongoClient;
  let db: Db;
  beforeAll(async () => {
    client = await new MongoClient(testInfra().mongoUri).connect();
    db = client.db(uniqueName("due-queue"));
  });
  afterAll(async () => {
    await db.dropDatabase();
    await client.close();
  });

  it("keeps the entry, and the message is due once stored", async () => {
    const repo = new MongoMessageRepository(db);
    await db.collection<{ _id: string; at: Date }>(dueBucket(SCHEDULED_AT)).insertOne({ _id: "m-late", at: SCHEDULED_AT });
    expect(await repo.findDue(NOW, 10)).toEqual([]); // the message is not stored yet
    await db.collection<{ _id: string }>("messages").insertOne(messageDoc("m-late"));
    expect((await repo.findDue(NOW, 10)).map((m) => m.id)).toEqual(["m-late"]);
  });

  it("drops an entry whose message stays missing past the grace (a writer died between the two writes)", async () => {
    const repo = new MongoMessageRepository(db, { orphanGraceMs: 0 });
    const bucket = db.collection<{ _id: string; at: Date }>(dueBucket(SCHEDULED_AT));
    await bucket.insertOne({ _id: "m-never", at: SCHEDULED_AT });
    await repo.findDue(NOW, 10); // first miss: kept
    expect(await bucket.countDocuments({ _id: "m-never" })).toBe(1);
    await repo.findDue(NOW, 10); // missing past the grace: dropped
    expect(await bucket.countDocuments({ _id: "m-never" })).toBe(0);
  });
});
