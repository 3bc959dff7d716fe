import { zonedInstant } from "@whiteslip/core";
import { describe, expect, it } from "vitest";
import { assignCase } from "../src/app/assign-case";
import { handleAccountCured } from "../src/app/handle-account-cured";
import { handleOverdue } from "../src/app/handle-overdue";
import { type LogContactInput, logContactAttempt } from "../src/app/log-contact-attempt";
import { offerRepaymentPlan } from "../src/app/offer-repayment-plan";
import { getCase, getCollectionsStats } from "../src/app/queries";
import { recordPromiseToPay } from "../src/app/record-promise-to-pay";
import { grantDeferral } from "../src/app/grant-deferral";
import { requestFeeWaiver } from "../src/app/request-fee-waiver";
import { resolveDispute } from "../src/app/resolve-dispute";
import { sendLegalNotice } from "../src/app/send-legal-notice";
import { solutionFor } from "../src/domain/solutions";
import { DEFAULT_STRATEGIES } from "../src/domain/strategy";
import { pickAgent } from "../src/domain/work";
import { fakeDeps, overdue, testPolicy } from "./fakes";

async function openCase(dpd = 31, account = "a1") {
  const f = fakeDeps("2026-04-01T02:00:00Z"); // 10:00 Shanghai
  f.deps.policy = { ...testPolicy, strategies: { ...DEFAULT_STRATEGIES, challengerPercent: 0 } };
  await handleOverdue(f.deps, overdue(account, "2026-04-01", dpd));
  const caseId = (await f.cases.findActiveByAccount(account))!.caseId;
  return { ...f, caseId };
}

const call = (caseId: string, key: string, extra: Partial<LogContactInput> = {}): LogContactInput => ({
  caseId,
  idempotencyKey: key,
  agentId: "ag1",
  channel: "CALL",
  outcome: "NO_ANSWER",
  reason: "UNSPECIFIED",
  note: "",
  contactParty: "debtor",
  consentOutsideHours: false,
  ...extra,
});

describe("assignment", () => {
  it("picks the least-loaded active agent with the skill, ties by id", () => {
    const agents = [
      { agentId: "b", skills: ["calls-M2"], active: true, openCases: 1 },
      { agentId: "a", skills: ["calls-M2"], active: true, openCases: 1 },
      { agentId: "c", skills: ["calls-M2"], active: false, openCases: 0 },
      { agentId: "d", skills: ["calls-M1"], active: true, openCases: 0 },
    ];
    expect(pickAgent(agents, "calls-M2")?.agentId).toBe("a");
    expect(pickAgent(agents, "legal-M3")).toBeNull();
  });

  it("balances load across agents and holds a case with one agent at a time", async () => {
    const { deps, cases, caseId } = await openCase();
    await handleOverdue(deps, overdue("a2", "2026-04-01", 31));
    const c2 = (await cases.findActiveByAccount("a2"))!.caseId;
    await deps.agents.upsert({ agentId: "x", displayName: "X", skills: ["calls-M2"], active: true });
    await deps.agents.upsert({ agentId: "y", displayName: "Y", skills: ["calls-M2"], active: true });
    expect((await assignCase(deps, { caseId, agentId: "", actor: "sup", reassign: false })).agentId).toBe(
      "x",
    );
    expect((await assignCase(deps, { caseId: c2, agentId: "", actor: "sup", reassign: false })).agentId).toBe(
      "y",
    );
    await expect(
      assignCase(deps, { caseId, agentId: "y", actor: "sup", reassign: false }),
    ).rejects.toMatchObject({ reason: "CASE_ALREADY_ASSIGNED" });
    expect((await assignCase(deps, { caseId, agentId: "y", actor: "sup", reassign: true })).agentId).toBe(
      "y",
    );
    expect((await cases.get(caseId))!.audit.filter((a) => a.action === "CASE_ASSIGNED")).toHaveLength(2);
  });

  it("refuses an agent without the skill and reports when nobody has it", async () => {
    const { deps, caseId } = await openCase();
    await deps.agents.upsert({ agentId: "z", displayName: "Z", skills: ["calls-M1"], active: true });
    await expect(
      assignCase(deps, { caseId, agentId: "z", actor: "s", reassign: false }),
    ).rejects.toMatchObject({ reason: "AGENT_LACKS_SKILL" });
    await expect(
      assignCase(deps, { caseId, agentId: "", actor: "s", reassign: false }),
    ).rejects.toMatchObject({ reason: "NO_AGENT_AVAILABLE" });
  });
});

describe("contact attempts", () => {
  it("refuses a call at 22:30 Shanghai with FAILED_PRECONDITION CN_QUIET_HOURS and records the refusal", async () => {
    const { deps, cases, clock, caseId } = await openCase();
    clock.set(zonedInstant("2026-04-01", 22, 30, "Asia/Shanghai"));
    await expect(logContactAttempt(deps, call(caseId, "k1"))).rejects.toMatchObject({
      kind: "failed_precondition",
      reason: "CN_QUIET_HOURS",
    });
    const c = (await cases.get(caseId))!;
    expect(c.attempts).toMatchObject([{ refused: true, refusedRule: "CN_QUIET_HOURS" }]);
    expect(c.audit.at(-1)).toMatchObject({ action: "CONTACT_REFUSED" });
    // the same key answers the same, without a second record
    await expect(logContactAttempt(deps, call(caseId, "k1"))).rejects.toMatchObject({
      reason: "CN_QUIET_HOURS",
    });
    expect((await cases.get(caseId))!.attempts).toHaveLength(1);
  });

  it("allows six unanswered calls a day and refuses the seventh", async () => {
    const { deps, clock, caseId } = await openCase();
    for (let i = 1; i <= 6; i++) {
      clock.advance(60_000);
      await logContactAttempt(deps, call(caseId, `k${i}`));
    }
    clock.advance(60_000);
    await expect(logContactAttempt(deps, call(caseId, "k7"))).rejects.toMatchObject({
      reason: "CN_DAILY_UNANSWERED_CALLS",
    });
    // a retried key is not a new attempt
    expect((await logContactAttempt(deps, call(caseId, "k6"))).attempt.refused).toBe(false);
  });

  it("refuses a contact by an agent who does not hold the case", async () => {
    const { deps, caseId } = await openCase();
    await deps.agents.upsert({ agentId: "holder", displayName: "H", skills: ["calls-M2"], active: true });
    await assignCase(deps, { caseId, agentId: "holder", actor: "s", reassign: false });
    await expect(logContactAttempt(deps, call(caseId, "k1"))).rejects.toMatchObject({
      reason: "CASE_HELD_BY_OTHER_AGENT",
    });
  });

  it("suggests the targeted solution for the reason", async () => {
    const { deps, caseId } = await openCase();
    const r = await logContactAttempt(
      deps,
      call(caseId, "k1", { outcome: "RIGHT_PARTY", reason: "CASH_FLOW" }),
    );
    expect(r.attempt.suggestedSolution).toBe("OFFER_REPAYMENT_PLAN");
    expect(solutionFor("FORGOT", "RIGHT_PARTY")).toBe("REMINDER_AND_AUTO_DEBIT_OFFER");
    expect(solutionFor("HARDSHIP_ILLNESS", "HARDSHIP")).toBe("OFFER_DEFERRAL_OR_FEE_WAIVER");
    expect(solutionFor("DISPUTE", "DISPUTE")).toBe("PAUSE_UNTIL_RESOLVED");
    expect(solutionFor("SUSPECTED_FRAUD", "RIGHT_PARTY")).toBe("STOP_AND_ESCALATE");
  });

  it("a dispute pauses collection until resolved", async () => {
    const { deps, caseId } = await openCase();
    const r = await logContactAttempt(deps, call(caseId, "k1", { outcome: "DISPUTE", reason: "DISPUTE" }));
    expect(r.case).toMatchObject({ status: "PAUSED", pauseReason: "DISPUTE" });
    await expect(logContactAttempt(deps, call(caseId, "k2"))).rejects.toMatchObject({
      reason: "CASE_PAUSED_DISPUTE",
    });
    await expect(
      recordPromiseToPay(deps, {
        caseId,
        amountFen: 1n,
        promisedDate: "2026-04-02",
        agentId: "ag1",
        idempotencyKey: "p",
      }),
    ).rejects.toMatchObject({ reason: "CASE_PAUSED_DISPUTE" });
    expect(
      (await resolveDispute(deps, { caseId, actor: "sup", resolution: "charge confirmed" })).status,
    ).toBe("OPEN");
    expect((await logContactAttempt(deps, call(caseId, "k3"))).attempt.refused).toBe(false);
  });

  it("suspected fraud stops collection and escalates", async () => {
    const { deps, cases, caseId } = await openCase();
    const r = await logContactAttempt(
      deps,
      call(caseId, "k1", { outcome: "RIGHT_PARTY", reason: "SUSPECTED_FRAUD" }),
    );
    expect(r.case).toMatchObject({ status: "PAUSED", pauseReason: "SUSPECTED_FRAUD", escalationLevel: 1 });
    expect(cases.outbox.at(-1)).toMatchObject({ type: "CaseEscalated", reason: "SUSPECTED_FRAUD" });
    await expect(logContactAttempt(deps, call(caseId, "k2"))).rejects.toMatchObject({
      reason: "CASE_STOPPED_FRAUD",
    });
  });
});

describe("solutions booked elsewhere", () => {
  it("books a repayment plan in billing once per key and publishes PlanAgreed", async () => {
    const { deps, cases, bill, caseId } = await openCase();
    const plan = await offerRepaymentPlan(deps, {
      caseId,
      installmentCount: 6,
      agentId: "ag1",
      idempotencyKey: "p1",
    });
    await offerRepaymentPlan(deps, { caseId, installmentCount: 6, agentId: "ag1", idempotencyKey: "p1" });
    expect(bill.plans[0]).toMatchObject({ accountId: "a1", installmentCount: 6 });
    expect((await cases.get(caseId))!.planIds).toEqual([plan.planId]);
    expect(cases.outbox.filter((e) => e.type === "PlanAgreed")).toHaveLength(1);
    await expect(
      offerRepaymentPlan(deps, { caseId, installmentCount: 5, agentId: "a", idempotencyKey: "x" }),
    ).rejects.toMatchObject({ kind: "invalid_argument" });
  });

  it("checks plans and deferrals against billing's product terms, not terms of its own, before noting anything", async () => {
    const { deps, bill, cases, caseId } = await openCase();
    bill.terms = { installmentTerms: [12, 24], maxDeferralDays: 10 };
    const audit = (await cases.get(caseId))!.audit.length;
    await expect(offerRepaymentPlan(deps, { caseId, installmentCount: 6, agentId: "ag1", idempotencyKey: "p1" })).rejects.toMatchObject({
      kind: "invalid_argument",
      violations: [{ field: "installment_count", description: "must be one of 12, 24" }],
    });
    await logContactAttempt(deps, call(caseId, "k1", { outcome: "HARDSHIP", reason: "HARDSHIP_ILLNESS" }));
    const noted = (await cases.get(caseId))!.audit.length;
    expect(noted).toBeGreaterThan(audit);
    await expect(grantDeferral(deps, { caseId, days: 11, agentId: "ag1", idempotencyKey: "d1" })).rejects.toMatchObject({
      kind: "invalid_argument",
      violations: [{ field: "days", description: "must be 1–10" }],
    });
    expect(bill.plans).toHaveLength(0);
    expect(bill.deferrals).toHaveLength(0);
    expect((await cases.get(caseId))!.audit).toHaveLength(noted);
    await offerRepaymentPlan(deps, { caseId, installmentCount: 12, agentId: "ag1", idempotencyKey: "p2" });
    expect(bill.plans[0]).toMatchObject({ installmentCount: 12 });
    expect((await getCase(deps, caseId)).terms).toEqual({ installmentTerms: [12, 24], maxDeferralDays: 10, defaultNoticeDeadlineDays: 15, maxNoticeDeadlineDays: 90 });
  });

  it("grants a deferral only for hardship; a retry after the cure closed the case gets the same answer", async () => {
    const { deps, bill, cases, caseId } = await openCase();
    await expect(grantDeferral(deps, { caseId, days: 20, agentId: "ag1", idempotencyKey: "d1" })).rejects.toMatchObject({
      reason: "DEFERRAL_REQUIRES_HARDSHIP",
    });
    await expect(grantDeferral(deps, { caseId, days: 31, agentId: "ag1", idempotencyKey: "d1" })).rejects.toMatchObject({
      kind: "invalid_argument",
    });
    expect(bill.deferrals).toHaveLength(0);
    await logContactAttempt(deps, call(caseId, "k1", { outcome: "HARDSHIP", reason: "HARDSHIP_ILLNESS" }));
    const d = await grantDeferral(deps, { caseId, days: 20, agentId: "ag1", idempotencyKey: "d1" });
    expect(d).toMatchObject({ deferralId: "df-collections:" + caseId + ":deferral:d1" });
    expect(bill.deferrals[0]).toMatchObject({ accountId: "a1", days: 20 });
    const after = (await cases.get(caseId))!;
    expect(after.deferrals).toHaveLength(1);
    expect(after.audit.map((a) => a.action)).toEqual(expect.arrayContaining(["DEFERRAL_REQUESTED", "DEFERRAL_GRANTED"]));
    // billing's AccountCured closes the case; the client's retry is still answered, nothing granted twice
    await handleAccountCured(deps, "a1", "cure-1", "2026-04-01");
    expect((await cases.get(caseId))!.status).toBe("CLOSED_CURED");
    expect(await grantDeferral(deps, { caseId, days: 20, agentId: "ag1", idempotencyKey: "d1" })).toEqual(d);
    expect(bill.deferrals).toHaveLength(1);
    expect((await cases.get(caseId))!.deferrals).toHaveLength(1);
    // a new request on the closed case is refused
    await expect(grantDeferral(deps, { caseId, days: 20, agentId: "ag1", idempotencyKey: "d2" })).rejects.toMatchObject({
      kind: "failed_precondition",
    });
  });

  it("waives fees only for hardship and within the per-case limit", async () => {
    const { deps, bill, caseId } = await openCase();
    await expect(
      requestFeeWaiver(deps, { caseId, amountFen: 1_000n, agentId: "ag1", idempotencyKey: "w1" }),
    ).rejects.toMatchObject({ reason: "WAIVER_REQUIRES_HARDSHIP" });
    await logContactAttempt(deps, call(caseId, "k1", { outcome: "HARDSHIP", reason: "HARDSHIP_JOB_LOSS" }));
    expect(
      await requestFeeWaiver(deps, { caseId, amountFen: 30_000n, agentId: "ag1", idempotencyKey: "w1" }),
    ).toEqual({ waivedFen: 10_000n, caseWaivedFen: 10_000n });
    await expect(
      requestFeeWaiver(deps, { caseId, amountFen: 40_001n, agentId: "ag1", idempotencyKey: "w2" }),
    ).rejects.toMatchObject({ reason: "WAIVER_OVER_POLICY_LIMIT" });
    expect(bill.waivers).toHaveLength(1);
  });

  it("sends a legal notice from M3 with the required content, not before", async () => {
    const early = await openCase(31);
    await expect(
      sendLegalNotice(early.deps, {
        caseId: early.caseId,
        deadlineDays: 0,
        actor: "sup",
        idempotencyKey: "n",
      }),
    ).rejects.toMatchObject({ reason: "LEGAL_NOTICE_NOT_DUE" });
    const { deps, cases, caseId } = await openCase(65);
    const n = await sendLegalNotice(deps, { caseId, deadlineDays: 0, actor: "sup", idempotencyKey: "n1" });
    expect(n).toMatchObject({
      overdueFen: 50_000n,
      totalBalanceFen: 80_000n,
      daysPastDue: 65,
      deadlineDate: "2026-04-16",
      creditor: testPolicy.creditor,
    });
    expect(n.legalBasis).toContain("民法典");
    expect(n.consequences).toContain("信用信息");
    await sendLegalNotice(deps, { caseId, deadlineDays: 0, actor: "sup", idempotencyKey: "n1" });
    expect(cases.outbox.filter((e) => e.type === "LegalNoticeRequested")).toHaveLength(1);
  });
});

describe("stats", () => {
  it("reports cure and roll rates by bucket and outcomes per strategy", async () => {
    const { deps, clock } = await openCase(1, "a1");
    await handleOverdue(deps, overdue("a2", "2026-04-01", 1));
    await handleOverdue(deps, overdue("a2", "2026-05-01", 31));
    await handleAccountCured(deps, "a1", "cure-a1", "2026-04-02");
    clock.advance(1000);
    const s = await getCollectionsStats(deps);
    expect(s.openCases).toBe(1);
    expect(s.buckets.find((b) => b.bucket === "M1")).toEqual({
      bucket: "M1",
      cases: 2,
      cureRate: 0.5,
      rollRate: 0.5,
    });
    expect(s.buckets.find((b) => b.bucket === "M2")).toEqual({
      bucket: "M2",
      cases: 1,
      cureRate: 0,
      rollRate: 0,
    });
    expect(s.strategies).toMatchObject([{ strategyId: "champion", cases: 2, cured: 1, cureRate: 0.5 }]);
  });
});
