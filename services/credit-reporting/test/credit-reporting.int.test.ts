/**
 * credit-reporting on the real broker, database and gRPC, with a manual clock:
 * billing and notification events are published as those services would, and
 * the outcome is read through the public API (gRPC) and the events it emits.
 * The consumers' identities come from a real credit service (in-process, own
 * database): the accounts are credit lines opened through its API.
 */

import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type ConsumerHandle, EventBus, encodeEvent, subscribe } from "@whiteslip/bus";
import { billing, credit, creditreporting, Topics } from "@whiteslip/contracts";
import { deterministicId, type LocalDate, ManualClock } from "@whiteslip/core";
import { createClient } from "@whiteslip/grpc";
import { testScope, uniqueName } from "@whiteslip/testkit/vitest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseMetro2File } from "../src/domain/metro2/file";
import { fitId } from "../src/domain/metro2/metro2-format";
import { MongoClient } from "mongodb";
import { startCredit } from "../../credit/src/main";
import { startCreditReporting } from "../src/main";
import { residentId as residentIdFor } from "./support/identities";

const scope = testScope("credit-reporting-int");
const clock = new ManualClock("2026-02-05T02:00:00Z"); // 10:00 in Shanghai
const run = uniqueName("cr")
  .replace(/[^a-z0-9]/gi, "")
  .slice(-10);
const acc = (n: string) => `acc-${run}-${n}`;
const at = (d: LocalDate) => new Date(`${d}T23:00:00+08:00`);

let svc: { grpcPort: number; stop(): Promise<void> };
let creditSvc: { grpcPort: number; stop(): Promise<void> };
let crEnv: Record<string, string>;
/** Account A: a credit line whose customer registered an address; N: one whose customer did not. */
let A: string;
let N: string;
const WHO = { requestedBy: "int-test" };
const mine = (accountId: string) => accountId.includes(run) || accountId === A || accountId === N;

/** A GB 11643 resident ID for Beijing Chaoyang, born 1988-06-12. */
const residentId = (seq: number) => residentIdFor("19880612", seq);
let bus: EventBus;
let watcher: ConsumerHandle;
let client: ReturnType<typeof createClient<typeof creditreporting.CreditReportingService>>;
const notices = new Map<string, string>(); // account → notice id, as published
const scoreEvents: { accountId: string; id: string }[] = [];

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function overdueEvent(accountId: string, date: LocalDate, dpd: number, start: LocalDate) {
  return encodeEvent(Topics.Overdue, {
    id: deterministicId("overdue", accountId, date),
    key: accountId,
    time: at(date),
    data: {
      accountId,
      customerId: `cus-${accountId}`,
      businessDate: date,
      daysPastDue: dpd,
      bucket: billing.DelinquencyBucket.M2,
      oldestDueDate: start,
      overdueFen: 52_345n,
      totalBalanceFen: 80_000n,
      delinquencyStartDate: start,
    },
  });
}

async function file(asOf: LocalDate) {
  const res = await client.generateBureauFile({ asOfDate: asOf, ...WHO });
  return { res, parsed: parseMetro2File(res.content) };
}

const baseOf = (parsed: ReturnType<typeof parseMetro2File>, accountId: string) =>
  parsed.bases.find((b) => b.consumerAccountNumber === fitId(accountId, 30));

beforeAll(async () => {
  creditSvc = await startCredit({
    clock,
    env: scope.serviceEnv("credit", { GRPC_HOST: "127.0.0.1", LOG_LEVEL: "warn", HOLD_SWEEP_INTERVAL_MS: "0", RESCORING_INTERVAL_MS: "0" }),
  });
  const creditClient = createClient(credit.CreditService, `127.0.0.1:${creditSvc.grpcPort}`, { deadlineMs: 20_000 });
  const open = async (seq: number, name: string, address?: { line1: string; line2: string; city: string; provinceCode: string; postalCode: string; countryCode: string }) => {
    const nationalId = residentId(seq + (Number.parseInt(run.slice(-4), 36) % 60));
    const c = await creditClient.registerCustomer({ name, nationalId, phone: "+8613700137052", email: `p${seq}@example.cn`, idempotencyKey: `${run}-${seq}`, ...(address ? { address } : {}) });
    const a = await creditClient.applyForCredit({
      customerId: c.customerId,
      monthlyIncomeFen: 1_500_000n,
      employment: credit.Employment.SALARIED,
      ordersLast12m: 40,
      spendLast12mFen: 2_500_000n,
      accountAgeMonths: 80,
      returnsLast12m: 1,
      ageYears: 37,
      statementDay: 5,
      idempotencyKey: `${run}-apply-${seq}`,
    });
    return a.creditLine!.creditLineId;
  };
  // the lines open on 2025-12-01, as billing's AccountOpened below says (CreditLineOpened carries that business date)
  clock.set("2025-12-01T02:00:00Z");
  A = await open(1, "Dan Test", { line1: "88 Jianguo Road", line2: "", city: "Beijing", provinceCode: "BJ", postalCode: "100022", countryCode: "CN" });
  N = await open(2, "Fang Test");
  creditClient.close();
  clock.set("2026-02-05T02:00:00Z");
  crEnv = scope.serviceEnv("credit-reporting", {
    GRPC_HOST: "127.0.0.1",
    LOG_LEVEL: "warn",
    CREDIT_ADDR: `127.0.0.1:${creditSvc.grpcPort}`,
    FURNISHER_ID: "WSFURN0001",
    FURNISHER_ADDRESS: "88 JIANGUO ROAD CHAOYANG BEIJING 100022 CN",
    FURNISHER_PHONE: "1088886666",
    PBOC_INSTITUTION_CODE: "B1234H11000001",
  });
  svc = await startCreditReporting({ clock, env: crEnv });
  bus = await EventBus.connect(scope.busOptions("cr-test"));
  watcher = bus.consumer({
    groupId: scope.group("watch"),
    subscriptions: [
      subscribe(Topics.NegativeReportPending, async (e) => {
        if (mine(e.data.accountId)) notices.set(e.data.accountId, e.data.noticeId);
      }),
      subscribe(Topics.ScoreChanged, async (e) => {
        if (mine(e.data.accountId)) scoreEvents.push({ accountId: e.data.accountId, id: e.id });
      }),
    ],
  });
  await watcher.start();
  client = createClient(creditreporting.CreditReportingService, `127.0.0.1:${svc.grpcPort}`, {
    deadlineMs: 10_000,
  });
});

afterAll(async () => {
  await watcher?.stop();
  await bus?.close();
  await svc?.stop();
  await creditSvc?.stop();
});

describe("credit-reporting service", () => {
  const START = "2026-01-01";

  it("never reports a negative record before its notice was delivered plus the waiting period", async () => {
    await bus.publish([
      encodeEvent(Topics.AccountOpened, {
        id: deterministicId("opened", A),
        key: A,
        time: at("2025-12-01"),
        data: {
          accountId: A,
          customerId: `cus-${A}`,
          productCode: "STD",
          statementDay: 5,
          businessDate: "2025-12-01",
        },
      }),
      overdueEvent(A, "2026-01-02", 1, START),
      overdueEvent(A, "2026-01-31", 30, START),
      overdueEvent(A, "2026-02-01", 31, START),
    ]);
    const noticeId = await eventually("the pre-report notice", async () => notices.get(A));
    expect((await client.getCreditScore({ accountId: A })).reportingState).toBe("NOTICE_SENT");

    // Not delivered yet: the account is left out of the file.
    const before = await file("2026-02-04");
    expect(baseOf(before.parsed, A)).toBeUndefined();
    expect(before.res.withheldCount).toBeGreaterThanOrEqual(1);

    await bus.publish([
      encodeEvent(Topics.NotificationDelivered, {
        id: deterministicId("delivered", noticeId),
        key: A,
        time: at("2026-02-03"),
        data: {
          ref: {
            notificationId: "n-1",
            accountId: A,
            customerId: `cus-${A}`,
            factId: noticeId,
            factType: Topics.NegativeReportPending.schema.typeName,
          },
          deliveredAt: timestampFromDate(new Date("2026-02-03T10:00:00+08:00")),
        },
      }),
    ]);
    await eventually("the delivery to be recorded", async () =>
      (await client.getCreditScore({ accountId: A })).reportingState === "WAITING_PERIOD" ? true : undefined,
    );
    // Delivered on 02-03: still waiting until 02-10.
    clock.set("2026-02-10T02:00:00Z");
    expect(baseOf((await file("2026-02-09")).parsed, A)).toBeUndefined();
    const due = await file("2026-02-10");
    const base = baseOf(due.parsed, A);
    expect(base).toMatchObject({
      accountStatus: "71",
      dateFirstDelinquency: "2026-01-30", // CRRG: 30 days after the due date (this start is DPD 1 + 29)
      amountPastDue: 523,
      surname: "TEST",
      firstName: "DAN",
      dateBirth: "1988-06-12",
      socialSecurityNumber: 0,
      firstLineAddress: "88 JIANGUO ROAD",
      state: "BJ",
      dateOpened: "2025-12-01",
    });
    expect(base!.paymentHistoryProfile.slice(0, 3)).toBe("10B"); // Jan 30+ DPD, Dec (opened) current, Nov before opening
    expect(due.parsed.trailer.totalBaseRecords).toBe(due.parsed.bases.length);
  });

  it("shows the correction in the next file after a cure", async () => {
    await bus.publish([
      encodeEvent(Topics.AccountCured, {
        id: deterministicId("cured", A),
        key: A,
        time: at("2026-02-11"),
        data: {
          accountId: A,
          customerId: `cus-${A}`,
          businessDate: "2026-02-11",
          paymentId: "p-1",
          previousDaysPastDue: 41,
          delinquencyStartDate: START,
        },
      }),
    ]);
    await eventually("the cure", async () =>
      (await client.listScoreHistory({ accountId: A })).changes[0]?.reasons[0]?.code ===
      "ACCOUNT_CURED_RECOVERY"
        ? true
        : undefined,
    );
    clock.set("2026-02-12T02:00:00Z");
    const base = baseOf((await file("2026-02-12")).parsed, A);
    expect(base).toMatchObject({ accountStatus: "11", amountPastDue: 0, dateFirstDelinquency: null });
    expect(base!.paymentHistoryProfile.slice(0, 2)).toBe("10");
  });

  it("carries XB while a dispute is open, then XH once resolved in the consumer's favour", async () => {
    const filed = await client.fileDispute({
      accountId: A,
      reason: "I paid on the due date",
      idempotencyKey: `k-${run}`,
    });
    expect(filed.dispute?.status).toBe(creditreporting.DisputeStatus.OPEN);
    const again = await client.fileDispute({
      accountId: A,
      reason: "I paid on the due date",
      idempotencyKey: `k-${run}`,
    });
    expect(again.dispute?.disputeId).toBe(filed.dispute?.disputeId);
    clock.set("2026-02-13T02:00:00Z");
    expect(baseOf((await file("2026-02-13")).parsed, A)?.complianceConditionCode).toBe("XB");

    const resolved = await client.resolveDispute({
      disputeId: filed.dispute!.disputeId,
      corrected: true,
      resolution: "payment misapplied",
    });
    expect(resolved.dispute).toMatchObject({
      status: creditreporting.DisputeStatus.RESOLVED_CORRECTED,
      accountId: A,
    });
    clock.set("2026-02-14T02:00:00Z");
    const base = baseOf((await file("2026-02-14")).parsed, A);
    expect(base?.complianceConditionCode).toBe("XH");
    expect(base?.paymentHistoryProfile.slice(0, 2)).toBe("00"); // corrected: the disputed month is no longer negative
  });

  it("moves the score once for the same event delivered twice", async () => {
    const B = acc("b");
    const dup = overdueEvent(B, "2026-02-02", 1, "2026-02-01");
    await bus.publish([dup]);
    await bus.publish([dup]);
    await bus.publish([overdueEvent(B, "2026-03-03", 30, "2026-02-01")]); // same partition: handled after both copies
    const history = await eventually("both score changes", async () => {
      const h = await client.listScoreHistory({ accountId: B });
      return h.changes.length >= 2 ? h : undefined;
    });
    expect(history.changes.map((c) => c.reasons[0]?.code)).toEqual(["DPD_30_CROSSED", "DPD_1_CROSSED"]);
    expect((await client.getCreditScore({ accountId: B })).score).toBe(650 - 15 - 40);
    const published = await eventually("two ScoreChanged events", async () => {
      const mine = scoreEvents.filter((e) => e.accountId === B);
      return mine.length >= 2 ? mine : undefined;
    });
    expect(new Set(published.map((e) => e.id)).size).toBe(2);
  });

  it("gives the same bytes when a date is generated twice, and serves the stored file", async () => {
    const first = await client.generateBureauFile({ asOfDate: "2026-02-10", ...WHO });
    const second = await client.generateBureauFile({ asOfDate: "2026-02-10", ...WHO });
    expect(Buffer.from(second.content).equals(Buffer.from(first.content))).toBe(true);
    expect(second.sha256).toBe(first.sha256);
    const stored = await client.getBureauFile({ asOfDate: "2026-02-10", ...WHO });
    expect(stored.file?.sha256).toBe(first.sha256);
    await expect(client.generateBureauFile({ asOfDate: "2026-03-01", ...WHO })).rejects.toMatchObject({
      violations: [expect.objectContaining({ field: "as_of_date" })],
    });
    await expect(client.getBureauFile({ asOfDate: "2025-01-01", ...WHO })).rejects.toMatchObject({ code: 5 });
    await expect(client.getBureauFile({ asOfDate: "2026-02-10" })).rejects.toMatchObject({
      violations: [expect.objectContaining({ field: "requested_by" })],
    });
  });

  it("keeps the file encrypted at rest, audits every download, and withholds an account without an address from Metro 2 only", async () => {
    await bus.publish([
      encodeEvent(Topics.AccountOpened, {
        id: deterministicId("opened", N),
        key: N,
        time: at("2025-12-01"),
        data: { accountId: N, customerId: `cus-${N}`, productCode: "STD", statementDay: 5, businessDate: "2025-12-01" },
      }),
    ]);
    await eventually("N known", async () => (await client.getCreditScore({ accountId: N }).catch(() => undefined)) ?? undefined);
    clock.set("2026-02-15T02:00:00Z");
    const m2 = await file("2026-02-15");
    expect(baseOf(m2.parsed, A)).toBeDefined();
    expect(baseOf(m2.parsed, N)).toBeUndefined(); // no address: Metro 2 cannot carry the account
    const pboc = await client.generateBureauFile({ asOfDate: "2026-02-15", format: "PBOC", ...WHO });
    const text = new TextDecoder().decode(pboc.content);
    expect(text).toContain(N);
    expect(text).toContain("Fang Test");
    await client.getBureauFile({ asOfDate: "2026-02-15", format: "PBOC", requestedBy: "auditor-7" });
    const mongo = await MongoClient.connect(crEnv.MONGODB_URI!);
    try {
      const db = mongo.db(crEnv.MONGODB_DB);
      const doc = await db.collection("bureau_files").findOne({ format: "PBOC", asOf: "2026-02-15" });
      expect(doc?.contentEnc).toMatch(/^v2:/);
      expect(JSON.stringify(doc)).not.toMatch(/Fang|Dan|TEST|110105/);
      const downloads = await db.collection("bureau_file_downloads").find({ fileId: pboc.fileId }).sort({ at: 1 }).toArray();
      expect(downloads.map((d) => [d.via, d.requestedBy])).toEqual([
        ["GenerateBureauFile", "int-test"],
        ["GetBureauFile", "auditor-7"],
      ]);
      expect(downloads[0]!.caller).not.toBe("");
    } finally {
      await mongo.close();
    }
  });

  it("answers UNAVAILABLE DEPENDENCY_UNAVAILABLE while credit is down, and stores nothing for that date", async () => {
    await creditSvc.stop();
    clock.set("2026-02-16T02:00:00Z");
    const err = await client.generateBureauFile({ asOfDate: "2026-02-16", ...WHO }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 14, reason: "DEPENDENCY_UNAVAILABLE" });
    await expect(client.getBureauFile({ asOfDate: "2026-02-16", ...WHO })).rejects.toMatchObject({ code: 5 });
  });
});
