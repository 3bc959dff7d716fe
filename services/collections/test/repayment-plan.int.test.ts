import { status } from "@grpc/grpc-js";
import { billing, collections } from "@whiteslip/contracts";
import { addDays, ManualClock, zonedInstant } from "@whiteslip/core";
import { createClient } from "@whiteslip/grpc";
import { testScope, uniqueName } from "@whiteslip/testkit/vitest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBilling } from "../../billing/src/main";
import { startCollections } from "../src/main";
import { waitFor } from "./helpers";

const SH = "Asia/Shanghai";
const D0 = "2026-03-02";
const clock = new ManualClock(zonedInstant(D0, 10, 0, SH));
let billingSvc: Awaited<ReturnType<typeof startBilling>>;
let collectionsSvc: Awaited<ReturnType<typeof startCollections>>;
let billingClient: ReturnType<typeof createClient<typeof billing.BillingService>>;
let client: ReturnType<typeof createClient<typeof collections.CollectionsService>>;

beforeAll(async () => {
  const scope = testScope("repayment-plan-int");
  billingSvc = await startBilling({
    clock,
    env: scope.serviceEnv("billing", {
      // A short grace period so the account is overdue after a few business days.
      BILLING_PRODUCTS_JSON: JSON.stringify([
        { code: "baitiao-standard" },
        { code: "fast", graceDays: 3, reminderOffsets: [1] },
      ]),
    }),
  });
  collectionsSvc = await startCollections({
    clock,
    env: scope.serviceEnv("collections", { BILLING_ADDR: `127.0.0.1:${billingSvc.grpcPort}` }),
  });
  billingClient = createClient(billing.BillingService, `127.0.0.1:${billingSvc.grpcPort}`, {
    deadlineMs: 20_000,
  });
  client = createClient(collections.CollectionsService, `127.0.0.1:${collectionsSvc.grpcPort}`, {
    deadlineMs: 20_000,
  });
});

afterAll(async () => {
  billingClient?.close();
  client?.close();
  await collectionsSvc?.stop();
  await billingSvc?.stop();
});

describe("repayment plan through billing (real gRPC)", () => {
  it("books a plan in billing from a case opened by billing's own Overdue", async () => {
    const accountId = uniqueName("acct");
    await billingClient.openAccount({
      accountId,
      customerId: `cus-${accountId}`,
      statementDay: 3,
      productCode: "fast",
      creditLimitFen: 1_000_000n,
    });
    await billingClient.postPurchase({
      accountId,
      authorizationId: uniqueName("auth"),
      amountFen: 60_000n,
      merchantId: "self",
      idempotencyKey: "buy-1",
    });

    // Business days pass: statement on the 3rd, due on the 6th, overdue from the 7th.
    let caseId = "";
    for (let day = 0; day < 10 && !caseId; day++) {
      const date = addDays(D0, day);
      clock.set(zonedInstant(addDays(date, 1), 0, 5, SH)); // end-of-day closes a day only once it has ended
      await billingClient.runEndOfDay({ businessDate: date });
      clock.set(zonedInstant(addDays(date, 1), 10, 0, SH));
      if (date >= "2026-03-07") {
        caseId = await waitFor(
          async () => (await client.listCases({ accountId })).cases[0]?.caseId,
          15_000,
          "case from Overdue",
        ).catch(() => "");
      }
    }
    expect(caseId).not.toBe("");

    const { plan } = await client.offerRepaymentPlan({
      caseId,
      installmentCount: 3,
      agentId: "agent-m1-1",
      idempotencyKey: "plan-1",
    });
    expect(plan?.planId).toBeTruthy();
    expect(plan?.installmentCount).toBe(3);

    // The plan is on billing's account, and the case shows it with billing's balances.
    const { account } = await billingClient.getAccountSummary({ accountId });
    expect(account?.repaymentPlan?.planId).toBe(plan!.planId);
    const view = await client.getCase({ caseId });
    expect(view.planIds).toEqual([plan!.planId]);
    expect(view.account?.accountId).toBe(accountId);
    expect(view.audit.map((a) => a.action)).toContain("PLAN_AGREED");

    // Same idempotency key: the same plan, not a second one.
    const again = await client.offerRepaymentPlan({
      caseId,
      installmentCount: 3,
      agentId: "agent-m1-1",
      idempotencyKey: "plan-1",
    });
    expect(again.plan?.planId).toBe(plan!.planId);
    expect((await client.getCase({ caseId })).planIds).toHaveLength(1);
  });

  it("grants a hardship deferral in billing: current until the new due date; the retry after the cure is answered", async () => {
    const accountId = uniqueName("acct");
    await billingClient.openAccount({ accountId, customerId: `cus-${accountId}`, statementDay: 3, productCode: "fast", creditLimitFen: 1_000_000n });
    await billingClient.postPurchase({ accountId, authorizationId: uniqueName("auth"), amountFen: 40_000n, merchantId: "self", idempotencyKey: "buy-1" });
    // business days until the account is overdue and collections has opened its case
    let caseId = "";
    for (let i = 0; i < 45 && !caseId; i++) {
      const bd = await billingClient.getBusinessDate({});
      const date = bd.businessDate || addDays(bd.lastCompletedDate, 1);
      clock.set(zonedInstant(addDays(date, 1), 0, 5, SH)); // end-of-day closes a day only once it has ended
      await billingClient.runEndOfDay({ businessDate: date });
      clock.set(zonedInstant(addDays(date, 1), 10, 0, SH));
      const s = (await billingClient.getAccountSummary({ accountId })).account;
      if ((s?.daysPastDue ?? 0) > 0)
        caseId = await waitFor(async () => (await client.listCases({ accountId })).cases[0]?.caseId, 2_000, "case from Overdue").catch(() => "");
    }
    expect(caseId).not.toBe("");
    const before = (await billingClient.getAccountSummary({ accountId })).account!;
    expect(before.daysPastDue).toBeGreaterThan(0);

    // not without hardship
    await expect(client.grantDeferral({ caseId, days: 20, agentId: "agent-m1-1", idempotencyKey: "d-1" })).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
    });
    await client.logContactAttempt({
      caseId,
      agentId: "agent-m1-1",
      channel: collections.ContactChannel.CALL,
      outcome: collections.ContactOutcome.HARDSHIP,
      reason: collections.NonPaymentReason.HARDSHIP_ILLNESS,
      note: "in hospital",
      contactParty: "debtor",
      idempotencyKey: "call-1",
      consentOutsideHours: false,
    });
    const d = await client.grantDeferral({ caseId, days: 20, agentId: "agent-m1-1", idempotencyKey: "d-1" });
    expect(d.deferredFen).toBe(before.overdueFen);
    const after = (await billingClient.getAccountSummary({ accountId })).account!;
    expect(after).toMatchObject({ daysPastDue: 0, overdueFen: 0n });
    // billing's AccountCured closes the case; the same request again gets the same deferral, nothing twice
    await waitFor(async () => ((await client.getCase({ caseId })).case?.status === collections.CaseStatus.CLOSED_CURED ? true : undefined), 15_000, "case closed as cured");
    const again = await client.grantDeferral({ caseId, days: 20, agentId: "agent-m1-1", idempotencyKey: "d-1" });
    expect(again).toEqual(d);
    expect((await client.getCase({ caseId })).audit.filter((a) => a.action === "DEFERRAL_GRANTED")).toHaveLength(1);
  });
});
