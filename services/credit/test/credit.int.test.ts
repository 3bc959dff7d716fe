/**
 * The credit service on the real broker, database and gRPC: register → apply →
 * authorize, field violations, the no-overspend proof under 200 concurrent
 * authorizations, capture from billing's PurchasePosted, and restrictions from
 * billing's Overdue lifted by AccountCured — each billing event delivered twice.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ConsumerHandle, EventBus, encodeEvent, subscribe } from "@whiteslip/bus";
import { Topics, billing, credit } from "@whiteslip/contracts";
import { ManualClock, deterministicId } from "@whiteslip/core";
import { GrpcError, createClient } from "@whiteslip/grpc";
import { eventually, testScope, uniqueName } from "@whiteslip/testkit/vitest";
import { authorizationIdFor } from "../src/app/authorize-purchase";
import { type CreditService, startCredit } from "../src/main";
import { validNationalId } from "./support/fixtures";

const scope = testScope("credit-int");
const clock = new ManualClock("2026-03-10T02:00:00Z");
let svc: CreditService;
let bus: EventBus;
let watcher: ConsumerHandle;
let client: ReturnType<typeof createClient<typeof credit.CreditService>>;
const seen = { opened: new Map<string, number>(), restrictions: [] as { line: string; id: string; features: number[]; reason: string }[] };


let seq = 100;
const goodApplication = {
  monthlyIncomeFen: 1_500_000n,
  employment: credit.Employment.SALARIED,
  ordersLast12m: 40,
  spendLast12mFen: 2_500_000n,
  accountAgeMonths: 80,
  returnsLast12m: 1,
  ageYears: 40,
};

/** Registers a fresh customer and opens a line for them. */
async function openLine() {
  const nationalId = validNationalId("19850612", "310101", String(seq++).padStart(3, "0"));
  const c = await client.registerCustomer({ name: "李四", nationalId, phone: "+8613912345678", email: "ls@example.cn", idempotencyKey: nationalId });
  const a = await client.applyForCredit({ customerId: c.customerId, ...goodApplication, statementDay: 7, idempotencyKey: `apply-${c.customerId}` });
  expect(a.decision).toBe(credit.Decision.APPROVE);
  return { customerId: c.customerId, line: a.creditLine! };
}

const authorize = (creditLineId: string, key: string, amountFen: bigint, scenario = credit.MerchantScenario.PLATFORM_RETAIL) =>
  client.authorizePurchase({ creditLineId, amountFen, merchantScenario: scenario, merchantId: "m-1", orderId: `o-${key}`, idempotencyKey: key });

let replica: CreditService;
let replicaClient: ReturnType<typeof createClient<typeof credit.CreditService>>;

let env: Record<string, string>;

beforeAll(async () => {
  env = scope.serviceEnv("credit", {
    GRPC_HOST: "127.0.0.1",
    LOG_LEVEL: "warn",
    HOLD_SWEEP_INTERVAL_MS: "0",
    RESCORING_INTERVAL_MS: "0",
  });
  svc = await startCredit({ clock, env });
  // a second replica on the same database: nothing in-process may be what keeps the line consistent
  replica = await startCredit({ clock, env: { ...env, CONSUMER_GROUP: uniqueName("credit-replica") } });
  replicaClient = createClient(credit.CreditService, `127.0.0.1:${replica.grpcPort}`, { deadlineMs: 20_000 });
  bus = await EventBus.connect(scope.busOptions("credit-test"));
  watcher = bus.consumer({
    groupId: scope.group("watch"),
    subscriptions: [
      subscribe(Topics.CreditLineOpened, async (e) => {
        seen.opened.set(e.data.creditLineId, e.data.statementDay);
      }),
      subscribe(Topics.RestrictionChanged, async (e) => {
        // two replicas run two outbox relays (at-least-once): a redelivered event id is the same fact, counted once
        if (seen.restrictions.some((r) => r.id === e.id)) return;
        seen.restrictions.push({ line: e.data.creditLineId, id: e.id, features: [...e.data.restrictedFeatures], reason: e.data.reason });
      }),
    ],
  });
  await watcher.start();
  client = createClient(credit.CreditService, `127.0.0.1:${svc.grpcPort}`, { deadlineMs: 20_000 });
});

afterAll(async () => {
  client?.close();
  replicaClient?.close();
  await replica?.stop();
  await watcher?.stop();
  await bus?.close();
  await svc?.stop();
});

describe("credit service", () => {
  it("rejects an invalid national id with a field violation and stores nothing", async () => {
    const bad = `${validNationalId().slice(0, 17)}${validNationalId().endsWith("0") ? "1" : "0"}`;
    const err = await client.registerCustomer({ name: "王五", nationalId: bad, phone: "+8613800138000", email: "w@example.cn" }).catch((e) => e);
    expect(err).toBeInstanceOf(GrpcError);
    expect(err.codeName).toBe("INVALID_ARGUMENT");
    expect(err.violations).toEqual([{ field: "national_id", description: expect.stringContaining("check digit") }]);
    expect(JSON.stringify(err.violations)).not.toContain(bad);
  });

  it("register → apply → authorize → release; CreditLineOpened reaches the broker with the statement day", async () => {
    const { line, customerId } = await openLine();
    expect(line).toMatchObject({ customerId, status: credit.CreditLineStatus.ACTIVE, statementDay: 7 });
    expect(line.availableFen).toBe(line.limitFen);
    const a = await authorize(line.creditLineId, "k1", 12_345n);
    expect(a).toMatchObject({ decision: credit.AuthorizationDecision.APPROVED, declineReason: "", availableFen: line.limitFen - 12_345n });
    expect(a.expiresAt).toBeDefined();
    expect(await authorize(line.creditLineId, "k1", 12_345n)).toEqual(a);
    const cash = await authorize(line.creditLineId, "k-cash", 100n, credit.MerchantScenario.CASH);
    expect(cash).toMatchObject({ decision: credit.AuthorizationDecision.DECLINED, declineReason: "MERCHANT_SCENARIO_NOT_ALLOWED" });
    const got = await client.getCreditLine({ creditLineId: line.creditLineId });
    expect(got.creditLine).toMatchObject({ openHoldsFen: 12_345n, availableFen: line.limitFen - 12_345n });
    expect(await client.releaseAuthorization({ authorizationId: a.authorizationId, reason: "ORDER_CANCELLED" })).toMatchObject({ released: true, availableFen: line.limitFen });
    expect(await eventually("CreditLineOpened", async () => seen.opened.get(line.creditLineId))).toBe(7);
  });

  it("never approves more than available: 200 concurrent authorizations on a ¥500 line, across two replicas", async () => {
    const { line } = await openLine();
    await client.adjustCreditLine({ creditLineId: line.creditLineId, newLimitFen: 50_000n, reason: "concurrency proof", actor: "test", idempotencyKey: "small" });
    const amount = 3_000n;
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        (i % 2 === 0 ? client : replicaClient).authorizePurchase({
          creditLineId: line.creditLineId, amountFen: amount, merchantScenario: credit.MerchantScenario.PLATFORM_RETAIL, merchantId: "m-1", orderId: `o-race-${i}`, idempotencyKey: `race-${i}`,
        }),
      ),
    );
    const approved = results.filter((r) => r.decision === credit.AuthorizationDecision.APPROVED);
    expect(approved).toHaveLength(16); // floor(50,000 / 3,000)
    expect(BigInt(approved.length) * amount).toBeLessThanOrEqual(50_000n);
    expect(results.filter((r) => r.declineReason === "INSUFFICIENT_AVAILABLE_CREDIT")).toHaveLength(184);
    const after = (await client.getCreditLine({ creditLineId: line.creditLineId })).creditLine!;
    expect(after).toMatchObject({ limitFen: 50_000n, openHoldsFen: 48_000n, availableFen: 2_000n });
  });

  it("group commit across two replicas: 8 small lines raced by 480 authorizations (each key sent to both) approve exactly what fits, same key → same answer", async () => {
    const lines = await Promise.all(Array.from({ length: 8 }, () => openLine()));
    await Promise.all(
      lines.map(({ line }, n) => client.adjustCreditLine({ creditLineId: line.creditLineId, newLimitFen: 50_000n, reason: "group commit proof", actor: "test", idempotencyKey: `gc-${n}` })),
    );
    const amount = 3_000n;
    // 30 keys per line, each sent twice at once — once to each replica — so batches of both race on every line
    const sent = lines.flatMap(({ line }) =>
      Array.from({ length: 30 }, (_, k) => {
        const req = { creditLineId: line.creditLineId, amountFen: amount, merchantScenario: credit.MerchantScenario.PLATFORM_RETAIL, merchantId: "m-1", orderId: `o-gc-${k}`, idempotencyKey: `gc-${k}` };
        return Promise.all([client.authorizePurchase(req), replicaClient.authorizePurchase(req)]);
      }),
    );
    const answers = await Promise.all(sent);
    for (const [a, b] of answers) expect(a).toEqual(b);
    for (const [n, { line }] of lines.entries()) {
      const mine = answers.slice(n * 30, n * 30 + 30);
      for (const [k, [a]] of mine.entries()) expect(a.authorizationId).toBe(authorizationIdFor(line.creditLineId, `gc-${k}`));
      expect(mine.filter(([a]) => a.decision === credit.AuthorizationDecision.APPROVED)).toHaveLength(16); // floor(50,000 / 3,000)
      expect(mine.filter(([a]) => a.declineReason === "INSUFFICIENT_AVAILABLE_CREDIT")).toHaveLength(14);
      expect((await client.getCreditLine({ creditLineId: line.creditLineId })).creditLine).toMatchObject({ openHoldsFen: 48_000n, availableFen: 2_000n });
    }
  });

  it("captures the hold when billing posts the purchase (delivered twice = once)", async () => {
    const { line } = await openLine();
    const a = await authorize(line.creditLineId, "cap", 20_000n);
    const posted = encodeEvent(Topics.PurchasePosted, {
      id: deterministicId("purchase-posted", line.creditLineId, "p1"),
      key: line.creditLineId,
      time: clock.now(),
      data: { accountId: line.creditLineId, customerId: line.customerId, purchaseId: "p1", authorizationId: a.authorizationId, amountFen: 20_000n, businessDate: "2026-03-10", totalBalanceFen: 20_000n },
    });
    await bus.publish([posted]);
    await bus.publish([posted]);
    // Barrier, not a wait: a second purchase (¥1) posted after the duplicate, on the same partition (same key), is
    // consumed after it; once its capture shows, the duplicate has been handled — applied twice, it would show here.
    const b = await authorize(line.creditLineId, "cap-marker", 100n);
    const marker = encodeEvent(Topics.PurchasePosted, {
      id: deterministicId("purchase-posted", line.creditLineId, "p-marker"),
      key: line.creditLineId,
      time: clock.now(),
      data: { accountId: line.creditLineId, customerId: line.customerId, purchaseId: "p-marker", authorizationId: b.authorizationId, amountFen: 100n, businessDate: "2026-03-10", totalBalanceFen: 20_100n },
    });
    await bus.publish([marker]);
    const l = await eventually("both captures", async () => {
      const c = (await client.getCreditLine({ creditLineId: line.creditLineId })).creditLine!;
      return c.openHoldsFen === 0n ? c : undefined;
    });
    expect(l).toMatchObject({ postedBalanceFen: 20_100n, openHoldsFen: 0n, availableFen: l.limitFen - 20_100n });
    expect((await client.releaseAuthorization({ authorizationId: a.authorizationId, reason: "late" })).released).toBe(false);
  });

  it("Overdue restricts new purchases, AccountCured lifts it; one RestrictionChanged per change though each event came twice", async () => {
    const { line } = await openLine();
    const id = line.creditLineId;
    const overdue = encodeEvent(Topics.Overdue, {
      id: deterministicId("overdue", id, "2026-03-09"),
      key: id,
      time: clock.now(),
      data: { accountId: id, customerId: line.customerId, businessDate: "2026-03-09", daysPastDue: 1, bucket: billing.DelinquencyBucket.M1, oldestDueDate: "2026-03-08", overdueFen: 5_000n, totalBalanceFen: 5_000n, delinquencyStartDate: "2026-03-09" },
    });
    await bus.publish([overdue, overdue]);
    const r = await eventually("restriction", async () => {
      const x = await client.getRestrictions({ accountId: id });
      return x.restrictedFeatures.length > 0 ? x : undefined;
    });
    expect(r).toMatchObject({ reason: "OVERDUE", daysPastDue: 1 });
    expect(r.restrictedFeatures.sort()).toEqual([1, 2, 3, 4]);
    expect(await authorize(id, "while-overdue", 100n)).toMatchObject({ decision: credit.AuthorizationDecision.DECLINED, declineReason: "ACCOUNT_RESTRICTED" });

    const cured = encodeEvent(Topics.AccountCured, {
      id: deterministicId("cured", id, "p-1"),
      key: id,
      time: clock.now(),
      data: { accountId: id, customerId: line.customerId, businessDate: "2026-03-10", paymentId: "p-1", previousDaysPastDue: 1, previousBucket: billing.DelinquencyBucket.M1, delinquencyStartDate: "2026-03-09" },
    });
    await bus.publish([cured, cured]);
    await eventually("lift", async () => ((await client.getRestrictions({ accountId: id })).restrictedFeatures.length === 0 ? true : undefined));
    expect(await authorize(id, "after-cure", 100n)).toMatchObject({ decision: credit.AuthorizationDecision.APPROVED });
    const events = await eventually("two RestrictionChanged", async () => {
      const mine = seen.restrictions.filter((e) => e.line === id);
      return mine.length >= 2 ? mine : undefined;
    });
    // Barrier, not a wait: both replicas' relays have published what they committed, and a marker published after
    // that on the same partition (same key) has reached the watcher — a third RestrictionChanged would be in `seen`.
    await Promise.all([svc.service.relay.flush(), replica.service.relay.flush()]);
    const marker = encodeEvent(Topics.RestrictionChanged, { id: uniqueName("marker"), key: id, time: clock.now(), data: { creditLineId: `marker-${id}` } });
    await bus.publish([marker]);
    await eventually("the marker", async () => (seen.restrictions.some((r) => r.id === marker.headers.ce_id) ? true : undefined));
    expect(seen.restrictions.filter((e) => e.line === id).map((e) => e.reason)).toEqual(["OVERDUE", "CURED"]);
    expect(events[1]!.features).toEqual([]);
  });

  it("GetReportingIdentities discloses the decrypted identity of an account's customer; the address is sealed at rest", async () => {
    const nationalId = validNationalId("19850612", "310101", String(seq++).padStart(3, "0"));
    const address = { line1: "88 Jianguo Road", line2: "Unit 1203", city: "Beijing", provinceCode: "bj", postalCode: "100022", countryCode: "" };
    const c = await client.registerCustomer({ name: "Li Si", nationalId, phone: "+8613912345678", email: "ls@example.cn", address, idempotencyKey: nationalId });
    const a = await client.applyForCredit({ customerId: c.customerId, ...goodApplication, statementDay: 7, idempotencyKey: `apply-${c.customerId}` });
    const noAddress = await openLine(); // registered without an address
    const lineId = a.creditLine!.creditLineId;
    const r = await client.getReportingIdentities({ accountIds: [lineId, noAddress.line.creditLineId, "no-such-line"], purpose: "bureau-file METRO2 2026-03-10" });
    expect(r.missingAccountIds).toEqual(["no-such-line"]);
    expect(r.identities[0]).toMatchObject({
      accountId: lineId,
      customerId: c.customerId,
      name: "Li Si",
      idType: "CN_RESIDENT_ID",
      idNumber: nationalId,
      dateOfBirth: "1985-06-12",
      phone: "+8613912345678",
      address: { line1: "88 Jianguo Road", line2: "Unit 1203", city: "Beijing", provinceCode: "BJ", postalCode: "100022", countryCode: "CN" },
    });
    expect(r.identities[1]).toMatchObject({ accountId: noAddress.line.creditLineId, name: "李四" });
    expect(r.identities[1]!.address).toBeUndefined();
    // at rest the address is one sealed value, never the text
    const { MongoClient } = await import("mongodb");
    const mongo = await MongoClient.connect(env.MONGODB_URI!);
    try {
      const doc = await mongo.db(env.MONGODB_DB).collection("customers").findOne({ _id: c.customerId as never });
      expect(doc?.addressEnc).toMatch(/^v2:/);
      expect(JSON.stringify(doc)).not.toMatch(/Jianguo|100022/);
    } finally {
      await mongo.close();
    }
    // caller mistakes are field violations; an incomplete address is refused at registration
    await expect(client.getReportingIdentities({ accountIds: [], purpose: "" })).rejects.toMatchObject({
      violations: [expect.objectContaining({ field: "account_ids" }), expect.objectContaining({ field: "purpose" })],
    });
    const other = validNationalId("19850612", "310101", String(seq++).padStart(3, "0"));
    await expect(
      client.registerCustomer({ name: "Wang Wu", nationalId: other, phone: "+8613912345679", email: "ww@example.cn", address: { ...address, provinceCode: "XX", postalCode: "1000" }, idempotencyKey: other }),
    ).rejects.toMatchObject({
      violations: [expect.objectContaining({ field: "address.province_code" }), expect.objectContaining({ field: "address.postal_code" })],
    });
  });

  it("the periodic rescoring run is callable and idempotent for the day", async () => {
    await openLine();
    const first = await svc.runRescoring();
    expect(first.rescored).toBeGreaterThan(0);
    expect((await svc.runRescoring()).rescored).toBe(0);
  });
});
