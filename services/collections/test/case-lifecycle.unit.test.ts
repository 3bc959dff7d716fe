import { describe, expect, it } from "vitest";
import { checkPromises } from "../src/app/check-promises";
import { handleAccountCured } from "../src/app/handle-account-cured";
import { handleChargedOff } from "../src/app/handle-charged-off";
import { handleOverdue } from "../src/app/handle-overdue";
import { handlePaymentReceived } from "../src/app/handle-payment-received";
import { openPreDelinquency } from "../src/app/open-pre-delinquency";
import { recordPromiseToPay } from "../src/app/record-promise-to-pay";
import { recordRiskTier } from "../src/app/record-risk-tier";
import { DEFAULT_STRATEGIES } from "../src/domain/strategy";
import { fakeDeps, overdue, testPolicy } from "./fakes";

function setup() {
  const f = fakeDeps();
  f.deps.policy = { ...testPolicy, strategies: { ...DEFAULT_STRATEGIES, challengerPercent: 0 } };
  return f;
}

describe("case lifecycle from events", () => {
  it("opens one case however often the first Overdue is delivered", async () => {
    const { deps, cases } = setup();
    const ev = overdue("a1", "2026-03-02", 1);
    expect(await handleOverdue(deps, ev)).toBe("opened");
    expect(await handleOverdue(deps, ev)).toBe("duplicate");
    expect(await handleOverdue(deps, ev)).toBe("duplicate");
    expect(cases.docs.size).toBe(1);
    expect(cases.outbox.filter((e) => e.type === "CaseOpened")).toHaveLength(1);
    const c = [...cases.docs.values()][0]!;
    expect(c).toMatchObject({
      status: "OPEN",
      dpd: 1,
      bucket: "M1",
      treatment: "DIGITAL_ONLY",
      jurisdiction: "CN",
      timeZone: "Asia/Shanghai",
    });
    expect(c.audit.map((a) => a.action)).toEqual(["CASE_OPENED"]);
  });

  it("two Overdues racing to open the account's case: one opens it, the other decides again and updates it", async () => {
    const { deps, cases } = setup();
    const effects = await Promise.all([handleOverdue(deps, overdue("a1", "2026-03-02", 1)), handleOverdue(deps, overdue("a1", "2026-03-03", 2))]);
    expect(effects.sort()).toEqual(["opened", "updated"]);
    expect(cases.docs.size).toBe(1);
    const c = [...cases.docs.values()][0]!;
    expect(c.processedEventIds).toEqual(expect.arrayContaining(["overdue-a1-2026-03-02", "overdue-a1-2026-03-03"]));
    expect(cases.outbox.filter((e) => e.type === "CaseOpened")).toHaveLength(1);
  });

  it("a case that keeps changing under an event answers ABORTED CONCURRENT_MODIFICATION (the bus redelivers it)", async () => {
    const { deps, cases } = setup();
    await handleOverdue(deps, overdue("a1", "2026-03-02", 1));
    cases.save = async () => "conflict";
    await expect(handleOverdue(deps, overdue("a1", "2026-03-03", 2))).rejects.toMatchObject({
      kind: "aborted",
      reason: "CONCURRENT_MODIFICATION",
      message: "case of account a1 kept changing (12 attempts); retry",
    });
  });

  it("follows DPD daily and escalates treatment by bucket", async () => {
    const { deps, cases } = setup();
    await handleOverdue(deps, overdue("a1", "2026-03-02", 1));
    await handleOverdue(deps, overdue("a1", "2026-03-03", 2));
    expect(await handleOverdue(deps, overdue("a1", "2026-04-01", 31))).toBe("updated");
    let c = (await cases.findActiveByAccount("a1"))!;
    expect(c).toMatchObject({ dpd: 31, bucket: "M2", treatment: "AGENT_CALLS", queue: "calls-M2" });
    await handleOverdue(deps, overdue("a1", "2026-05-01", 61));
    c = (await cases.findActiveByAccount("a1"))!;
    expect(c).toMatchObject({ bucket: "M3", treatment: "LEGAL_NOTICE" });
    expect(
      cases.outbox
        .filter((e) => e.type === "CaseEscalated")
        .map((e) => e.type === "CaseEscalated" && e.reason),
    ).toEqual(["BUCKET_M2", "BUCKET_M3"]);
    expect(c.bucketsEntered).toEqual(["M1", "M2", "M3"]);
  });

  it("ignores an Overdue older than the latest applied", async () => {
    const { deps, cases } = setup();
    await handleOverdue(deps, overdue("a1", "2026-03-05", 4));
    await handleOverdue(deps, overdue("a1", "2026-03-03", 2));
    expect((await cases.findActiveByAccount("a1"))!.dpd).toBe(4);
  });

  it("calls a high-risk tier from DPD 3 (tier learned from credit's events)", async () => {
    const { deps, cases } = setup();
    await recordRiskTier(deps, "a1", "D", "cl-opened-1");
    await handleOverdue(deps, overdue("a1", "2026-03-02", 2));
    expect((await cases.findActiveByAccount("a1"))!.treatment).toBe("DIGITAL_ONLY");
    await handleOverdue(deps, overdue("a1", "2026-03-03", 3));
    expect((await cases.findActiveByAccount("a1"))!).toMatchObject({
      treatment: "AGENT_CALLS",
      riskTier: "D",
    });
  });

  it("closes on cure, once; a redelivered Overdue of the cured episode opens nothing", async () => {
    const { deps, cases } = setup();
    const first = overdue("a1", "2026-03-02", 1);
    await handleOverdue(deps, first);
    expect(await handleAccountCured(deps, "a1", "cured-1", "2026-03-04")).toBe("applied");
    expect(await handleAccountCured(deps, "a1", "cured-1", "2026-03-04")).toBe("no-case");
    expect(await handleOverdue(deps, first)).toBe("duplicate");
    expect(cases.docs.size).toBe(1);
    const c = [...cases.docs.values()][0]!;
    expect(c.status).toBe("CLOSED_CURED");
    expect(cases.outbox.filter((e) => e.type === "CaseClosed")).toHaveLength(1);
  });

  it("opens a new case for a new delinquency after a cure", async () => {
    const { deps, cases } = setup();
    await handleOverdue(deps, overdue("a1", "2026-03-02", 1));
    await handleAccountCured(deps, "a1", "cured-1", "2026-03-04");
    expect(await handleOverdue(deps, overdue("a1", "2026-04-02", 1, { start: "2026-04-01" }))).toBe("opened");
    expect(cases.docs.size).toBe(2);
  });

  it("hands to recovery on charge-off", async () => {
    const { deps, cases } = setup();
    await handleOverdue(deps, overdue("a1", "2026-03-02", 1));
    expect(await handleChargedOff(deps, "a1", "co-1", "2026-08-28", 80_000n)).toBe("applied");
    const c = [...cases.docs.values()][0]!;
    expect(c).toMatchObject({ status: "RECOVERY", bucket: "CHARGED_OFF", treatment: "EXTERNAL_AGENCY" });
    expect(cases.outbox.at(-1)).toMatchObject({ type: "CaseClosed", status: "RECOVERY" });
  });

  it("uses the product's jurisdiction and time zone", async () => {
    const { deps, cases } = setup();
    await handleOverdue(deps, overdue("u1", "2026-03-02", 1, { product: "US_BNPL" }));
    expect((await cases.findActiveByAccount("u1"))!).toMatchObject({
      jurisdiction: "US",
      timeZone: "America/New_York",
    });
  });
});

describe("pre-delinquency (high-risk DueSoon)", () => {
  const dueSoon = (accountId: string, eventId = `ds-${accountId}`) => ({
    eventId,
    accountId,
    customerId: "c",
    productCode: "BAITIAO",
    dueDate: "2026-03-10",
    amountDueFen: 30_000n,
  });

  it("opens an early-warning case for tier D/E only, once", async () => {
    const { deps, cases } = setup();
    expect(await openPreDelinquency(deps, dueSoon("low"))).toBe("not-high-risk");
    await recordRiskTier(deps, "hi", "E", "cl-1");
    expect(await openPreDelinquency(deps, dueSoon("hi"))).toBe("opened");
    // credit's RiskFlagRaised for the same due date arrives too: no second case.
    expect(await openPreDelinquency(deps, dueSoon("hi", "flag-1"), "E")).toBe("duplicate");
    expect(cases.docs.size).toBe(1);
    expect([...cases.docs.values()][0]).toMatchObject({ status: "PRE_DELINQUENT", queue: "early-warning" });
  });

  it("RiskFlagRaised's tier is enough to open one", async () => {
    const { deps } = setup();
    expect(await openPreDelinquency(deps, dueSoon("x"), "D")).toBe("opened");
  });

  it("becomes an open case on the first Overdue, and closes when paid on time", async () => {
    const { deps, cases } = setup();
    await recordRiskTier(deps, "hi", "D", "cl-1");
    await openPreDelinquency(deps, dueSoon("hi"));
    await handleOverdue(deps, overdue("hi", "2026-03-11", 1, { start: "2026-03-11" }));
    expect(cases.docs.size).toBe(1);
    expect([...cases.docs.values()][0]).toMatchObject({ status: "OPEN", dpd: 1 });

    await recordRiskTier(deps, "h2", "D", "cl-2");
    await openPreDelinquency(deps, dueSoon("h2"));
    const pay = {
      eventId: "p1",
      paymentId: "p1",
      amountFen: 30_000n,
      businessDate: "2026-03-09",
      overdueFenAfter: 0n,
      totalBalanceFenAfter: 0n,
    };
    expect(await handlePaymentReceived(deps, "h2", pay)).toBe("applied");
    expect(
      (await cases.get([...cases.docs.values()].find((c) => c.accountId === "h2")!.caseId))!.status,
    ).toBe("CLOSED");
  });
});

describe("payments and promises on a case", () => {
  it("a curing payment handled after the cure still keeps the promise of the just-cured case", async () => {
    // Regression: AccountCured and PaymentReceived travel on different topics; when the cure
    // was handled first the payment found no active case and the promise stayed PENDING.
    const { deps, cases, clock } = setup();
    await handleOverdue(deps, overdue("a1", "2026-03-02", 1));
    const caseId = (await cases.findActiveByAccount("a1"))!.caseId;
    await recordPromiseToPay(deps, { caseId, amountFen: 30_000n, promisedDate: "2026-03-06", agentId: "ag", idempotencyKey: "k1" });
    expect(await handleAccountCured(deps, "a1", "cured-1", "2026-03-04")).toBe("applied");
    clock.advance(60_000);
    const pay = { eventId: "p1", paymentId: "p1", amountFen: 30_000n, businessDate: "2026-03-04", overdueFenAfter: 0n, totalBalanceFenAfter: 0n };
    expect(await handlePaymentReceived(deps, "a1", pay)).toBe("applied");
    expect(await handlePaymentReceived(deps, "a1", pay)).toBe("duplicate");
    const c = (await cases.get(caseId))!;
    expect(c.status).toBe("CLOSED_CURED");
    expect(c.collectedFen).toBe(30_000n);
    expect(c.promises.map((p) => p.status)).toEqual(["KEPT"]);
    clock.advance(3 * 86_400_000); // long after the cure a payment belongs to no case
    expect(await handlePaymentReceived(deps, "a1", { ...pay, eventId: "p2", paymentId: "p2" })).toBe("no-case");
  });

  it("matches payments to promises FIFO, keeps them, and counts collected once", async () => {
    const { deps, cases, clock } = setup();
    await handleOverdue(deps, overdue("a1", "2026-03-02", 1));
    const caseId = (await cases.findActiveByAccount("a1"))!.caseId;
    await recordPromiseToPay(deps, {
      caseId,
      amountFen: 10_000n,
      promisedDate: "2026-03-05",
      agentId: "ag",
      idempotencyKey: "k1",
    });
    clock.advance(1000);
    await recordPromiseToPay(deps, {
      caseId,
      amountFen: 20_000n,
      promisedDate: "2026-03-06",
      agentId: "ag",
      idempotencyKey: "k2",
    });
    const pay = {
      eventId: "p1",
      paymentId: "p1",
      amountFen: 15_000n,
      businessDate: "2026-03-04",
      overdueFenAfter: 35_000n,
      totalBalanceFenAfter: 65_000n,
    };
    await handlePaymentReceived(deps, "a1", pay);
    expect(await handlePaymentReceived(deps, "a1", pay)).toBe("duplicate");
    const c = (await cases.get(caseId))!;
    expect(c.collectedFen).toBe(15_000n);
    expect(c.promises.map((p) => [p.status, p.paidFen])).toEqual([
      ["KEPT", 10_000n],
      ["PENDING", 5_000n],
    ]);
    expect(cases.outbox.filter((e) => e.type === "PromiseKept")).toHaveLength(1);
  });

  it("breaks a promise not met by its date and escalates the case (daily check, idempotent)", async () => {
    const { deps, cases, clock } = setup();
    await handleOverdue(deps, overdue("a1", "2026-03-02", 1));
    const caseId = (await cases.findActiveByAccount("a1"))!.caseId;
    await recordPromiseToPay(deps, {
      caseId,
      amountFen: 10_000n,
      promisedDate: "2026-03-05",
      agentId: "ag",
      idempotencyKey: "k1",
    });
    clock.set("2026-03-05T15:00:00Z"); // 23:00 on the 5th in Shanghai: still the promised day
    expect((await checkPromises(deps)).broken).toBe(0);
    clock.set("2026-03-05T16:30:00Z"); // 00:30 on the 6th
    const r = await checkPromises(deps);
    expect(r).toEqual({ asOfDate: "2026-03-06", broken: 1 });
    expect((await checkPromises(deps)).broken).toBe(0);
    const c = (await cases.get(caseId))!;
    expect(c.promises[0]?.status).toBe("BROKEN");
    expect(c).toMatchObject({ escalationLevel: 1, treatment: "AGENT_CALLS" });
    expect(cases.outbox.filter((e) => e.type === "PromiseBroken")).toHaveLength(1);
    expect(
      cases.outbox
        .filter((e) => e.type === "CaseEscalated")
        .map((e) => e.type === "CaseEscalated" && e.reason),
    ).toEqual(["PROMISE_BROKEN"]);
  });

  it("rejects a promise in the past or of zero amount, changing nothing", async () => {
    const { deps, cases } = setup();
    await handleOverdue(deps, overdue("a1", "2026-03-02", 1));
    const c0 = (await cases.findActiveByAccount("a1"))!;
    await expect(
      recordPromiseToPay(deps, {
        caseId: c0.caseId,
        amountFen: 0n,
        promisedDate: "2026-03-01",
        agentId: "ag",
        idempotencyKey: "k",
      }),
    ).rejects.toMatchObject({
      kind: "invalid_argument",
      violations: [{ field: "amount_fen" }, { field: "promised_date" }],
    });
    expect((await cases.get(c0.caseId))!.version).toBe(c0.version);
  });
});
