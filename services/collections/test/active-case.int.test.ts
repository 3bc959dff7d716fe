import { testInfra, uniqueName } from "@whiteslip/testkit/vitest";
import { type Document, MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureCaseIndexes, MongoCaseRepository } from "../src/adapters/mongo-cases";

// findActiveByAccount with two active cases for one account (a DueSoon's pre-delinquency case and an Overdue's case
// opened in a race): the case opened first, whatever order the database reads them in. On the {accountId, status}
// index the local FerretDB (testkit patch 5) and MongoDB read OPEN before PRE_DELINQUENT; without the sort the
// newer OPEN case was answered here.
describe("MongoCaseRepository.findActiveByAccount", () => {
  let client: MongoClient;
  const dbName = uniqueName("active-case");
  beforeAll(async () => {
    client = await new MongoClient(testInfra().mongoUri).connect();
  });
  afterAll(async () => {
    await client.db(dbName).dropDatabase();
    await client.close();
  });

  it("answers the active case opened first", async () => {
    const coll = client.db(dbName).collection<Document>("cases");
    await ensureCaseIndexes(coll);
    const base = { accountId: "acc-1", customerId: "cus-1", jurisdiction: "CN", timeZone: "Asia/Shanghai", version: 1 };
    await coll.insertMany([
      { _id: "case-closed" as never, ...base, status: "CLOSED_CURED", openedAt: new Date("2026-03-01T00:00:00Z") },
      { _id: "case-pre" as never, ...base, status: "PRE_DELINQUENT", openedAt: new Date("2026-03-08T00:00:00Z") },
      { _id: "case-open" as never, ...base, status: "OPEN", openedAt: new Date("2026-03-09T00:00:00Z") },
      { _id: "case-other" as never, ...base, accountId: "acc-2", status: "OPEN", openedAt: new Date("2026-03-07T00:00:00Z") },
    ]);
    const repo = new MongoCaseRepository(coll);
    expect((await repo.findActiveByAccount("acc-1"))?.caseId).toBe("case-pre");
    expect((await repo.findActiveByAccount("acc-2"))?.caseId).toBe("case-other");
    expect(await repo.findActiveByAccount("acc-3")).toBeNull();
  });
});
