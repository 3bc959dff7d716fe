/**
 * A simulated quarter on the real broker, database and gRPC: the exact set of
 * DueSoon and Overdue events, nothing extra on a re-run of a date, a run killed
 * after its first page that resumes to the same result, and bad input that gets
 * a precise status and changes nothing.
 */
import { fromBinary } from "@bufbuild/protobuf";
import { billing, Topics } from "@whiteslip/contracts";
import { addDays, deterministicId, type LocalDate, ManualClock, zonedInstant } from "@whiteslip/core";
import { createClient, type GrpcError } from "@whiteslip/grpc";
import { testScope, uniqueName } from "@whiteslip/testkit/vitest";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StartedBilling, startBilling } from "../src/main";

const TZ = "Asia/Shanghai";
const run = uniqueName("q");
const id = (n: string) => `${run}-${n}`;
const A = id("a"), B = id("b"), C = id("c"), D = id("d"), E = id("e");
const mine = new Set([A, B, C, D, E]);

let svc: StartedBilling;
let client: ReturnType<typeof createClient<typeof billing.BillingService>>;
const clock = new ManualClock(zonedInstant("2025-01-01", 9, 0, TZ));
let crashOn: LocalDate | undefined;
const seen: { topic: string; id: string; key: string; data: billing.DueSoon | billing.Overdue }[] = [];
let consumer: ReturnType<Kafka["consumer"]>;
let kafka: Kafka;
let topicPrefix = "";
/** ce_ids of the barrier markers the watcher has seen (see "Barrier" below). */
const markersSeen = new Set<string>();

beforeAll(async () => {
  const infra = testScope("billing-eod-int");
  svc = await startBilling({
    env: infra.serviceEnv("billing", {
      LOG_LEVEL: "warn",
      EOD_PAGE_SIZE: "2",
      BILLING_PRODUCTS_JSON: JSON.stringify([{ code: "baitiao-standard" }, { code: "fast-chargeoff", chargeOffDpd: 31 }]),
    }),
    clock,
    hooks: {
      afterPage: (page, date) => {
        if (date === crashOn && page === 1) throw new Error("simulated crash after the first page");
      },
    },
  });
  client = createClient(billing.BillingService, `127.0.0.1:${svc.grpcPort}`, { deadlineMs: 20_000 });
  topicPrefix = infra.topicPrefix;
  kafka = new Kafka({ ...infra.kafkaConfig(), clientId: run, logLevel: logLevel.NOTHING });
  consumer = kafka.consumer({ groupId: uniqueName("billing-eod-test") });
  await consumer.connect();
  // this file's own topics (its TOPIC_PREFIX); `topic` below is the contract name, as before
  await consumer.subscribe({ topics: [infra.topicPrefix + Topics.DueSoon.topic, infra.topicPrefix + Topics.Overdue.topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic: onCluster, message }) => {
      const topic = onCluster.slice(infra.topicPrefix.length);
      const key = message.key?.toString() ?? "";
      if (!mine.has(key)) return;
      const ceId = String(message.headers?.ce_id);
      if (ceId.startsWith(`${run}-marker-`)) return void markersSeen.add(ceId);
      const schema = topic === Topics.DueSoon.topic ? billing.DueSoonSchema : billing.OverdueSchema;
      seen.push({ topic, id: String(message.headers?.ce_id), key, data: fromBinary(schema as typeof billing.DueSoonSchema, message.value!) });
    },
  });
}, 120_000);

afterAll(async () => {
  await consumer?.disconnect();
  await svc?.stop();
});

/** Moves the clock into business date `date` (10:00 Shanghai). */
const during = (date: LocalDate) => clock.set(zonedInstant(date, 10, 0, TZ));
/** Runs end-of-day `date` just after midnight. */
async function closeDay(date: LocalDate) {
  clock.set(zonedInstant(addDays(date, 1), 0, 30, TZ));
  return client.runEndOfDay({ businessDate: date });
}
async function pay(account: string, amount: bigint, key: string) {
  return client.postRepayment({ accountId: account, amountFen: amount, idempotencyKey: key, channel: "wallet" });
}
const due = async (account: string) => (await client.getAccountSummary({ accountId: account })).account!;

describe("billing end-of-day over a simulated quarter", () => {
  it("emits exactly the expected DueSoon and Overdue events, resumes a crashed run, ignores a re-run", { timeout: 240_000 }, async () => {
    during("2025-01-01");
    for (const [acc, product] of [[A, ""], [B, ""], [C, ""], [D, ""], [E, "fast-chargeoff"]] as const)
      await client.openAccount({ accountId: acc, customerId: `cus-${acc}`, statementDay: 5, productCode: product, creditLimitFen: 10_000_00n });
    for (const acc of [A, B, C, E]) await client.postPurchase({ accountId: acc, authorizationId: `auth-${acc}-1`, amountFen: 500_00n, idempotencyKey: `k-${acc}-1` });
    await client.postPurchase({ accountId: D, authorizationId: `auth-${D}-1`, amountFen: 300_00n, installmentMonths: 3, idempotencyKey: `k-${D}-1` });

    let reran = 0;
    for (let date: LocalDate = "2025-01-01"; date <= "2025-03-31"; date = addDays(date, 1)) {
      during(date);
      if (date === "2025-01-31") await pay(A, (await due(A)).amountDueFen, "a-1");
      if (date === "2025-02-10") {
        const s = await due(C);
        const r = await pay(C, s.overdueFen, "c-1");
        expect(r.cured).toBe(true);
      }
      if (date === "2025-02-11") await client.postPurchase({ accountId: A, authorizationId: `auth-${A}-2`, amountFen: 80_00n, idempotencyKey: `k-${A}-2` });
      if (date === "2025-03-30") await pay(A, (await due(A)).amountDueFen, "a-2");
      if (["2025-02-03", "2025-03-06", "2025-04-03"].includes(date)) await pay(D, (await due(D)).minimumPaymentFen, `d-${date}`);
      if (date === "2025-02-20") {
        crashOn = date;
        await expect(closeDay(date)).rejects.toMatchObject({ codeName: "INTERNAL" });
        const partial = (await client.getEndOfDayRun({ businessDate: date })).run!;
        expect(partial.status).toBe(billing.EndOfDayStatus.FAILED);
        expect(partial.accountsProcessed).toBe(2n);
        expect((await client.getBusinessDate({})).businessDate).toBe(date);
        crashOn = undefined;
      }
      const r = (await closeDay(date)).run!;
      expect(r.status).toBe(billing.EndOfDayStatus.COMPLETED);
      if (date === "2025-02-05" || date === "2025-02-20") {
        const again = (await closeDay(date)).run!;
        expect(again).toEqual(r);
        reran++;
      }
    }
    expect(reran).toBe(2);
    const run0220 = (await client.getEndOfDayRun({ businessDate: "2025-02-20" })).run!;
    expect(run0220.accountsProcessed).toBe(run0220.accountsTotal);
    expect(run0220.overdueEmitted).toBe(2n); // B and E

    // The exact expected events, by their deterministic ids.
    const expected = new Map<string, string>();
    const dueSoon = (acc: string, statementDate: LocalDate) => expected.set(deterministicId("due-soon", `${acc}:${statementDate}`, 5), `DueSoon ${acc} ${statementDate}`);
    const overdue = (acc: string, from: LocalDate, to: LocalDate) => {
      for (let d = from; d <= to; d = addDays(d, 1)) expected.set(deterministicId("overdue", acc, d), `Overdue ${acc} ${d}`);
    };
    for (const acc of [A, B, C, D, E]) dueSoon(acc, "2025-01-05");
    dueSoon(A, "2025-03-05");
    dueSoon(D, "2025-02-05");
    dueSoon(D, "2025-03-05");
    overdue(B, "2025-02-04", "2025-03-31");
    overdue(C, "2025-02-04", "2025-02-09");
    overdue(E, "2025-02-04", "2025-03-06");

    await svc.service.relay.flush();
    const deadline = Date.now() + 30_000;
    while (seen.length < expected.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    // Barrier, not a wait: the relay has published everything billing committed (flush above); a marker written
    // after that to every partition of both topics reaches the watcher after anything billing published there, so
    // once every marker is in, an extra event would be in `seen` too.
    const admin = kafka.admin();
    await admin.connect();
    const markers: { topic: string; partition: number; id: string }[] = [];
    for (const topic of [Topics.DueSoon.topic, Topics.Overdue.topic])
      for (const { partition } of await admin.fetchTopicOffsets(topicPrefix + topic)) markers.push({ topic, partition, id: `${run}-marker-${topic}-${partition}` });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    for (const m of markers) await producer.send({ topic: topicPrefix + m.topic, messages: [{ partition: m.partition, key: A, value: Buffer.alloc(0), headers: { ce_id: m.id } }] });
    await producer.disconnect();
    const markersBy = Date.now() + 30_000;
    while (markersSeen.size < markers.length && Date.now() < markersBy) await new Promise((r) => setTimeout(r, 100));
    expect(markersSeen.size).toBe(markers.length);
    // Consumers deduplicate by event id (delivery is at least once: on FerretDB v1 an update racing the relay's
    // $pullAll can republish an event); the set of distinct facts must be exactly the expected one.
    const got = [...new Set(seen.map((e) => e.id))];
    expect(got.map((x) => expected.get(x) ?? `unexpected ${x}`).sort()).toEqual([...expected.values()].sort());

    // Payloads carry DPD, bucket and amounts.
    const bLast = seen.find((e) => e.id === deterministicId("overdue", B, "2025-03-31"))!.data as billing.Overdue;
    expect(bLast).toMatchObject({ daysPastDue: 56, bucket: billing.DelinquencyBucket.M2, oldestDueDate: "2025-02-03", delinquencyStartDate: "2025-02-04" });
    expect(bLast.overdueFen).toBeGreaterThan(500_00n);
    const eLast = seen.find((e) => e.id === deterministicId("overdue", E, "2025-03-06"))!.data as billing.Overdue;
    expect(eLast.bucket).toBe(billing.DelinquencyBucket.CHARGED_OFF);
    const ds = seen.find((e) => e.id === deterministicId("due-soon", `${D}:2025-02-05`, 5))!.data as billing.DueSoon;
    expect(ds).toMatchObject({ dueDate: "2025-03-06", daysUntilDue: 5, businessDate: "2025-03-01" });
    expect(ds.amountDueFen).toBe(100_00n + 1_80n); // portion + 0.6% monthly fee on ¥300

    // Portfolio view at the end of the quarter.
    const stats = await client.getPortfolioStats({ inflowDays: 10 });
    expect(stats.asOfDate).toBe("2025-03-31");
    // Other test files' credit lines on the shared broker open (empty) accounts here too, through
    // billing's CreditLineOpened consumer; they count as active accounts but change no balance.
    const foreign = await svc.service.context.store.db
      .collection("accounts")
      .countDocuments({ _id: { $nin: [A, B, C, D, E] } as never });
    expect(stats.activeAccounts).toBe(4n + BigInt(foreign));
    expect(stats.chargedOffFen).toBeGreaterThan(500_00n);
    expect(stats.expectedInflows.map((f) => f.date)).toEqual(["2025-04-03"]);
  });

  it("refuses bad input with a precise status and changes nothing", async () => {
    const before = await due(B);
    const bad = async (p: Promise<unknown>) => (await p.then(() => { throw new Error("expected a failure"); }, (e: GrpcError) => e)) as GrpcError;
    const neg = await bad(pay(B, -5n, "neg"));
    expect(neg.codeName).toBe("INVALID_ARGUMENT");
    expect(neg.violations).toEqual([expect.objectContaining({ field: "amount_fen" })]);
    expect((await bad(pay(B, 0n, "zero"))).violations[0]!.field).toBe("amount_fen");
    expect((await bad(client.postPurchase({ accountId: B, authorizationId: "x", amountFen: 1n, installmentMonths: 5, idempotencyKey: "p" }))).violations[0]!.field).toBe("installment_months");
    const unknown = await bad(pay(id("nobody"), 1n, "u"));
    expect(unknown.codeName).toBe("NOT_FOUND");
    const off = await bad(pay(E, 10n, "off"));
    expect(off).toMatchObject({ codeName: "FAILED_PRECONDITION", reason: "ACCOUNT_CHARGED_OFF" });
    const skip = await bad(closeDay("2025-04-03"));
    expect(skip).toMatchObject({ codeName: "FAILED_PRECONDITION", reason: "EOD_DATE_OUT_OF_ORDER" });
    expect((await bad(client.runEndOfDay({ businessDate: "2025-02-30" }))).violations[0]!.field).toBe("business_date");
    expect(await due(B)).toEqual(before);
    expect((await client.getBusinessDate({})).businessDate).toBe("2025-04-01");
  });

  it("repayments are idempotent by key over gRPC", async () => {
    during("2025-04-01");
    const first = await pay(B, 100_00n, "b-once");
    const again = await pay(B, 100_00n, "b-once");
    expect(again.paymentId).toBe(first.paymentId);
    expect(again.allocation).toEqual(first.allocation);
    expect((await due(B)).totalBalanceFen).toBe(first.account!.totalBalanceFen);
    expect(first.allocation!.feesFen).toBeGreaterThan(0n); // fees first
  });
});
