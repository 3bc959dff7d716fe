/**
 * End-to-end journeys (issue 8) with the five services as separate processes on real
 * infrastructure, travelling business days on the shared clock:
 *  - Dan: application → purchase → statement → reminder → overdue → case → score drops →
 *    pre-report notice delivered → waiting period → delinquent in the Metro 2 file;
 *  - Alice: always pays on time — no overdue, no case, score up;
 *  - Chen: overdue past 30 DPD and reported, promises to pay, pays — case closed,
 *    restrictions lifted, and the next bureau file carries the correction;
 *  - Fang: a hardship deferral (special comment CP), overdue again after it;
 *  - Dan disputes his record: XB in the next file (and the PBOC report's 异议标注).
 * Every Metro 2 file generated is written to test-artifacts/bureau/<journey>-<as-of>.dat (raw 426-byte records,
 * as a bureau receives them) and must pass the independent CRRG rule checker with the consumers' real identities.
 */
import { billing, collections, credit, notification } from "@whiteslip/contracts";
import { addDays, daysBetween, type LocalDate } from "@whiteslip/core";
import { advance } from "@whiteslip/ops";
import { testInfra } from "@whiteslip/testkit/vitest";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseMetro2File } from "../../../services/credit-reporting/src/domain/metro2/file";
import { checkFile } from "../../../services/credit-reporting/test/support/crrg";
import { syntheticNationalId } from "../src/demo";
import { eventually, STRONG_APPLICATION, startTestPlatform, type TestPlatform } from "../src/harness";

const START: LocalDate = "2027-04-01";
const ARTIFACTS = join(import.meta.dirname, "../../../test-artifacts/bureau"); // statement day 2 → first statement 04-02, due 05-01 (29 grace days)
const E = credit.Employment;

interface Customer {
  label: string;
  customerId: string;
  accountId: string;
  purchaseFen: bigint;
}

describe("journeys across the five services", () => {
  const infra = testInfra();
  let p: TestPlatform;
  const people: Record<string, Customer> = {};
  let today: LocalDate = START;

  interface Application {
    monthlyIncomeFen: bigint;
    employment: credit.Employment;
    ordersLast12m: number;
    spendLast12mFen: bigint;
    accountAgeMonths: number;
    returnsLast12m: number;
    ageYears: number;
  }
  async function onboard(label: string, seq: number, app: Application, purchaseFen: bigint) {
    const c = p.clients;
    const address = { line1: `${seq} Jianguo Road`, line2: `Unit ${seq}03`, city: "Beijing", provinceCode: "BJ", postalCode: "100022", countryCode: "CN" };
    const reg = await c.credit.registerCustomer({ name: `${label} Test`, nationalId: syntheticNationalId(seq, "19880612"), phone: `+86137001370${seq}`, email: `${label}@example.com`, address, idempotencyKey: `journey-${label}` });
    await c.notification.upsertContactPoints({ customerId: reg.customerId, phone: `+86137001370${seq}`, email: `${label}@example.com`, timeZone: "Asia/Shanghai", locale: "en" });
    const d = await c.credit.applyForCredit({ customerId: reg.customerId, ...app, statementDay: 2, idempotencyKey: `journey-apply-${label}` });
    expect(d.decision, `${label} approved`).toBe(credit.Decision.APPROVE);
    expect(d.modelVersion).toMatch(/scorecard/);
    expect(d.creditLine!.limitFen).toBeGreaterThanOrEqual(50_000n);
    const accountId = d.creditLine!.creditLineId;
    const opened = await eventually(`${label}'s billing account`, async () => (await c.billing.getAccountSummary({ accountId })).account);
    expect(opened.customerId).toBe(reg.customerId);
    const auth = await c.credit.authorizePurchase({ creditLineId: accountId, amountFen: purchaseFen, merchantScenario: credit.MerchantScenario.PLATFORM_RETAIL, merchantId: "store", orderId: `o-${label}`, idempotencyKey: `journey-auth-${label}` });
    expect(auth.decision).toBe(credit.AuthorizationDecision.APPROVED);
    expect(auth.availableFen).toBe(d.creditLine!.limitFen - purchaseFen);
    const posted = await c.billing.postPurchase({ accountId, authorizationId: auth.authorizationId, amountFen: purchaseFen, merchantId: "store", description: "order", idempotencyKey: `journey-post-${label}` });
    expect(posted.account!.totalBalanceFen).toBe(purchaseFen);
    people[label] = { label, customerId: reg.customerId, accountId, purchaseFen };
  }

  /** Advances until (and including the end-of-day of) `date - 1`, so the business date becomes `date`. */
  async function travelTo(date: LocalDate) {
    const days = daysBetween(today, date);
    if (days > 0) await advance(p.clients, days, p.clockFile, () => {});
    today = date;
  }
  /** A date as notification's en templates write it: `12 Jan 2027`. */
  const formatDateEn = (d: LocalDate) =>
    `${Number(d.slice(8, 10))} ${["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][Number(d.slice(5, 7)) - 1]} ${d.slice(0, 4)}`;
  const summary = async (who: string) => (await p.clients.billing.getAccountSummary({ accountId: people[who]!.accountId })).account!;
  /** The Metro 2 file of `asOf`, written to the artifacts as `<journey>-<as-of>.dat`, checked against the CRRG rules. */
  const bureau = async (asOf: LocalDate, journey: string) => {
    const f = await p.clients.creditReporting.generateBureauFile({ asOfDate: asOf, requestedBy: "journeys-e2e" });
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, `${journey}-${asOf}.dat`), f.content);
    expect(checkFile(f.content), `${journey}-${asOf}.dat`).toEqual([]);
    expect(new TextDecoder().decode(f.content)).not.toMatch(/PLACEHOLDER/);
    return parseMetro2File(f.content);
  };
  const baseOf = (file: ReturnType<typeof parseMetro2File>, who: string) => file.bases.find((b) => b.consumerAccountNumber.trim() === people[who]!.accountId || b.consumerAccountNumber.includes(people[who]!.accountId.slice(-20)));

  beforeAll(async () => {
    p = await startTestPlatform(infra, { start: START, tag: "journeys" });
    await onboard("alice", 51, STRONG_APPLICATION, 100_000n);
    await onboard("dan", 52, { monthlyIncomeFen: 1_200_000n, employment: E.SALARIED, ordersLast12m: 30, spendLast12mFen: 1_500_000n, accountAgeMonths: 36, returnsLast12m: 3, ageYears: 29 }, 80_000n);
    await onboard("chen", 53, { monthlyIncomeFen: 1_200_000n, employment: E.SALARIED, ordersLast12m: 30, spendLast12mFen: 1_500_000n, accountAgeMonths: 36, returnsLast12m: 3, ageYears: 29 }, 60_000n);
    await onboard("fang", 54, { monthlyIncomeFen: 1_200_000n, employment: E.SALARIED, ordersLast12m: 30, spendLast12mFen: 1_500_000n, accountAgeMonths: 36, returnsLast12m: 3, ageYears: 29 }, 45_000n);
  }, 240_000);

  afterAll(async () => p?.stop());

  it("statement on the statement day with the purchase due 29 days later", async () => {
    await travelTo("2027-04-03");
    for (const who of ["alice", "dan", "chen"]) {
      const st = (await p.clients.billing.listStatements({ accountId: people[who]!.accountId })).statements;
      expect(st).toHaveLength(1);
      expect(st[0]).toMatchObject({ statementDate: "2027-04-02", dueDate: "2027-05-01", amountDueFen: people[who]!.purchaseFen });
    }
  });

  it("a reminder five days before the due date reaches the inbox", async () => {
    await travelTo("2027-04-27"); // end-of-day 04-26 emits DueSoon for 05-01
    const inbox = await eventually("the reminder in Dan's inbox", async () => {
      const r = await p.clients.notification.listInbox({ customerId: people.dan!.customerId });
      return r.messages.length > 0 ? r : undefined;
    });
    expect(inbox.messages[0]!.body).toContain("¥800.00");
  });

  it("Alice pays on time: no overdue, no case, score up", async () => {
    await travelTo("2027-04-29");
    const pay = await p.clients.billing.postRepayment({ accountId: people.alice!.accountId, amountFen: 100_000n, idempotencyKey: "alice-pay-1" });
    expect(pay.account!.amountDueFen).toBe(0n);
    await travelTo("2027-05-06");
    const s = await summary("alice");
    expect(s.daysPastDue).toBe(0);
    expect(s.bucket).toBe(billing.DelinquencyBucket.M0);
    expect((await p.clients.collections.listCases({ accountId: people.alice!.accountId })).cases).toHaveLength(0);
    const score = await eventually("Alice's score to rise", async () => {
      const x = await p.clients.creditReporting.getCreditScore({ accountId: people.alice!.accountId });
      return x.score > 650 ? x : undefined;
    });
    expect(score.latest?.reasons.map((r) => r.code).join()).toMatch(/ON_TIME/);
    expect((await p.clients.credit.getRestrictions({ accountId: people.alice!.accountId })).restrictedFeatures).toHaveLength(0);
  });

  it("Dan and Chen are overdue from the day after the due date: restricted, a case, a lower score, a notice", async () => {
    for (const who of ["dan", "chen"]) {
      const s = await summary(who);
      expect(s.daysPastDue).toBe(5); // at business date 05-06; the oldest unpaid due date is 05-01
      expect(s.bucket).toBe(billing.DelinquencyBucket.M1);
      const acc = people[who]!.accountId;
      const r = await eventually(`${who} restricted`, async () => {
        const x = await p.clients.credit.getRestrictions({ accountId: acc });
        return x.restrictedFeatures.length ? x : undefined;
      });
      expect(r.restrictedFeatures).toContain(credit.Feature.NEW_PURCHASES);
      const cases = await eventually(`${who}'s case`, async () => {
        const x = await p.clients.collections.listCases({ accountId: acc });
        return x.cases.length ? x.cases : undefined;
      });
      expect(cases).toHaveLength(1);
      expect(cases[0]!.daysPastDue).toBe(4); // from the last Overdue, emitted by end-of-day 05-05
      expect((await p.clients.creditReporting.getCreditScore({ accountId: acc })).score).toBeLessThan(650);
      const sent = (await p.clients.notification.listNotifications({ customerId: people[who]!.customerId })).notifications;
      expect(sent.some((n) => n.template.startsWith("overdue"))).toBe(true);
    }
    const declined = await p.clients.credit.authorizePurchase({ creditLineId: people.dan!.accountId, amountFen: 1_000n, merchantScenario: credit.MerchantScenario.PLATFORM_RETAIL, merchantId: "store", orderId: "o-dan-2", idempotencyKey: "dan-auth-2" });
    expect(declined.decision).toBe(credit.AuthorizationDecision.DECLINED);
  });

  it("at 30 DPD the pre-report notice goes out; the record is held until it is delivered and 7 days pass", async () => {
    await travelTo("2027-05-31"); // end-of-day 05-30: DPD 29 — still reported current (delinquent only from 30 DPD)
    expect((await p.clients.creditReporting.getCreditScore({ accountId: people.dan!.accountId })).reportingState).toBe("CURRENT");
    await travelTo("2027-06-01"); // end-of-day 05-31: DPD 30
    const state = await eventually("the notice delivered", async () => {
      const x = await p.clients.creditReporting.getCreditScore({ accountId: people.dan!.accountId });
      return x.reportingState === "WAITING_PERIOD" ? x : undefined;
    }, 40_000).catch(async (e) => {
      const x = await p.clients.creditReporting.getCreditScore({ accountId: people.dan!.accountId });
      const n = (await p.clients.notification.listNotifications({ customerId: people.dan!.customerId })).notifications;
      throw new Error(`${(e as Error).message}; state ${x.reportingState}; notifications: ${n.map((m) => `${m.template}/${m.channel}/${m.status}/${m.factType}`).join(", ")}`);
    });
    expect(state.score).toBeLessThan(600);
    expect(p.sandbox.messages.length).toBeGreaterThan(0);
    const early = await bureau("2027-06-01", "notice-pending");
    expect(baseOf(early, "dan")).toBeUndefined(); // held: waiting period not over
    await travelTo("2027-06-09"); // 05-31 + 7 days have passed
    const file = await bureau("2027-06-08", "delinquent");
    const dan = baseOf(file, "dan");
    expect(dan?.accountStatus).toBe("71"); // 30–59 days past due
    expect(dan?.dateFirstDelinquency).toBe("2027-05-31"); // CRRG: 30 days after the due date (05-01)
    expect(dan).toMatchObject({ surname: "TEST", firstName: "DAN", dateBirth: "1988-06-12", socialSecurityNumber: 0, firstLineAddress: "52 JIANGUO ROAD", city: "BEIJING", state: "BJ", zipCode: "100022", countryCode: "CN" });
    expect(dan?.amountPastDue).toBeGreaterThan(0);
    expect(baseOf(file, "alice")?.accountStatus).toBe("11"); // current (an open line at zero balance too)
    expect(baseOf(file, "chen")?.accountStatus).toBe("71");
  });

  it("Chen promises to pay, pays: promise kept, case closed, restrictions lifted, correction in the next file", async () => {
    const acc = people.chen!.accountId;
    const caseId = (await p.clients.collections.listCases({ accountId: acc })).cases[0]!.caseId;
    const assigned = await p.clients.collections.assignCase({ caseId, actor: "supervisor-1" });
    const agentId = assigned.case!.agentId;
    expect(agentId).not.toBe("");
    await p.clients.collections.logContactAttempt({ caseId, agentId, channel: collections.ContactChannel.CALL, outcome: collections.ContactOutcome.PROMISE_TO_PAY, reason: collections.NonPaymentReason.CASH_FLOW, contactParty: "debtor", idempotencyKey: "chen-call" });
    const owed = (await summary("chen")).overdueFen;
    const promise = await p.clients.collections.recordPromiseToPay({ caseId, amountFen: owed, promisedDate: addDays(today, 3), agentId, idempotencyKey: "chen-ptp" });
    expect(promise.promise?.status).toBe(collections.PromiseStatus.PENDING);
    await travelTo(addDays(today, 1));
    const before = await summary("chen");
    const paid = await p.clients.billing.postRepayment({ accountId: acc, amountFen: before.overdueFen, idempotencyKey: "chen-pay" });
    expect(paid.cured, `paid ${before.overdueFen} of ${JSON.stringify(before, (_k, v) => (typeof v === "bigint" ? String(v) : v))}`).toBe(true);
    const closed = await eventually("Chen's case closed", async () => {
      const c = (await p.clients.collections.getCase({ caseId })).case;
      return c?.status === collections.CaseStatus.CLOSED_CURED ? c : undefined;
    });
    expect(closed.closedAt).toBeDefined();
    const kept = await eventually("Chen's promise kept", async () => {
      const x = (await p.clients.collections.getCase({ caseId })).promises[0];
      return x?.status === collections.PromiseStatus.KEPT ? x : undefined;
    });
    expect(kept.paidFen).toBeGreaterThanOrEqual(kept.amountFen);
    await eventually("Chen's restrictions lifted", async () =>
      (await p.clients.credit.getRestrictions({ accountId: acc })).restrictedFeatures.length === 0 ? true : undefined,
    );
    const asOf = addDays(today, 0);
    await travelTo(addDays(today, 1));
    const file = await bureau(asOf, "cure");
    const chen = baseOf(file, "chen");
    expect(chen?.accountStatus).toBe("11"); // corrected: current
    expect(chen?.amountPastDue).toBe(0);
    // The 24-month history keeps the delinquency on record (1 = 30–59 days past due).
    expect(chen?.paymentHistoryProfile, JSON.stringify(chen)).toMatch(/^[0D]*1/);
    expect(baseOf(file, "dan")?.accountStatus).toBe("71");
  });

  it("Fang falls ill: a 20-day deferral through collections, confirmed by SMS; current until the new date, overdue again after it", async () => {
    const acc = people.fang!.accountId;
    expect((await summary("fang")).daysPastDue).toBeGreaterThan(30);
    const caseId = (await p.clients.collections.listCases({ accountId: acc })).cases[0]!.caseId;
    const agentId = (await p.clients.collections.assignCase({ caseId, actor: "supervisor-1" })).case!.agentId;
    await p.clients.collections.logContactAttempt({ caseId, agentId, channel: collections.ContactChannel.CALL, outcome: collections.ContactOutcome.HARDSHIP, reason: collections.NonPaymentReason.HARDSHIP_ILLNESS, contactParty: "debtor", idempotencyKey: "fang-call" });
    const owed = (await summary("fang")).overdueFen;
    const d = await p.clients.collections.grantDeferral({ caseId, days: 20, agentId, idempotencyKey: "fang-deferral" });
    expect(d).toMatchObject({ dueDate: addDays(today, 20), deferredFen: owed });
    expect(await summary("fang")).toMatchObject({ daysPastDue: 0, overdueFen: 0n });
    // told by SMS (through the provider sandbox) of the new date; restrictions lifted; the case closes as cured
    const confirmation = await eventually("Fang's deferral confirmation delivered", async () => {
      const ms = (await p.clients.notification.listNotifications({ customerId: people.fang!.customerId })).notifications;
      return ms.find((m) => m.template === "payment-deferred@1" && m.channel === notification.Channel.SMS && m.status === notification.DeliveryStatus.DELIVERED);
    }, 30_000);
    expect(confirmation.body).toContain(formatDateEn(d.dueDate));
    await eventually("Fang's restrictions lifted", async () => ((await p.clients.credit.getRestrictions({ accountId: acc })).restrictedFeatures.length === 0 ? true : undefined));
    await eventually("Fang's case closed", async () => ((await p.clients.collections.getCase({ caseId })).case?.status === collections.CaseStatus.CLOSED_CURED ? true : undefined));
    // not paid by the new date: overdue again the day after it, and restricted again
    await travelTo(d.dueDate);
    expect((await summary("fang")).daysPastDue).toBe(0);
    // reported current and in forbearance (Metro 2 special comment CP) up to the new date
    expect(baseOf(await bureau(d.dueDate, "forbearance"), "fang")).toMatchObject({ accountStatus: "11", specialComment: "CP" });
    await travelTo(addDays(d.dueDate, 1));
    expect((await summary("fang")).daysPastDue).toBe(1);
    await travelTo(addDays(d.dueDate, 2)); // end-of-day of the first day past the new date publishes the Overdue
    await eventually("Fang restricted again", async () => ((await p.clients.credit.getRestrictions({ accountId: acc })).restrictedFeatures.length > 0 ? true : undefined));
    expect(baseOf(await bureau(addDays(d.dueDate, 2), "forbearance-ended"), "fang")?.specialComment.trim()).toBe("");
  });

  it("Dan disputes his record: compliance condition XB in the next Metro 2 file, 异议标注 in the PBOC report", async () => {
    await travelTo(addDays(today, 1));
    const filed = await p.clients.creditReporting.fileDispute({ accountId: people.dan!.accountId, reason: "I was told the due date was later", idempotencyKey: "dan-dispute" });
    expect(filed.dispute?.disputeId).not.toBe("");
    const dan = baseOf(await bureau(today, "dispute"), "dan");
    expect(dan?.complianceConditionCode).toBe("XB");
    expect(Number(dan?.accountStatus)).toBeGreaterThanOrEqual(71); // still delinquent: the record stands while disputed
    const pboc = await p.clients.creditReporting.generateBureauFile({ asOfDate: today, format: "PBOC", requestedBy: "journeys-e2e" });
    writeFileSync(join(ARTIFACTS, `dispute-${today}.pboc.txt`), pboc.content);
    const text = new TextDecoder().decode(pboc.content);
    expect(text).toContain("dan Test"); // the name as registered
    expect(text).toContain("异议标注");
  });
});
