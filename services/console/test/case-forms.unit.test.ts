/**
 * The case-action forms at the HTTP edge (fastify inject, the real app with recording clients): each body is checked
 * against its zod schema before any service is called — one field violation per problem, named by the body's field —
 * and a valid form reaches collections with the parsed values (enums by name, yuan to fen, numeric strings to
 * numbers, the idempotency key scoped to the signed-in user).
 */
import { create } from "@bufbuild/protobuf";
import { collections } from "@whiteslip/contracts";
import { ManualClock } from "@whiteslip/core";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { sessionCookieName } from "../src/server/auth";
import type { SessionUser } from "../src/server/authz";
import type { ServiceClients } from "../src/server/clients";
import { SessionStore } from "../src/server/sessions";
import { testApp } from "./support/app";

const agent: SessionUser = { username: "li.na", role: "agent", agentId: "agent-m1-1", displayName: "Li Na" };
const calls: { rpc: string; req: Record<string, unknown> }[] = [];
const record = (rpc: string, answer: Parameters<typeof create>[0]) => async (req: Record<string, unknown>) => {
  calls.push({ rpc, req });
  return create(answer);
};
const clients = {
  collections: {
    getCase: async ({ caseId }: { caseId: string }) => ({ case: { caseId, agentId: "agent-m1-1", accountId: "acc-1" } }),
    logContactAttempt: record("logContactAttempt", collections.LogContactAttemptResponseSchema),
    recordPromiseToPay: record("recordPromiseToPay", collections.RecordPromiseToPayResponseSchema),
    offerRepaymentPlan: record("offerRepaymentPlan", collections.OfferRepaymentPlanResponseSchema),
    requestFeeWaiver: record("requestFeeWaiver", collections.RequestFeeWaiverResponseSchema),
    grantDeferral: record("grantDeferral", collections.GrantDeferralResponseSchema),
    sendLegalNotice: record("sendLegalNotice", collections.SendLegalNoticeResponseSchema),
  },
} as unknown as ServiceClients;

const clock = new ManualClock("2026-12-01T02:00:00Z");
const sessions = new SessionStore(clock, 60);
const KEY = "form-render-0123456789";
let app: FastifyInstance;

async function post(action: string, payload: Record<string, unknown>) {
  const { token, session } = sessions.create(agent);
  const r = await app.inject({
    method: "POST",
    url: `/api/cases/case-1/${action}`,
    cookies: { [sessionCookieName(false)]: token },
    headers: { origin: "http://localhost:80", "x-csrf-token": session.csrfToken },
    payload,
  });
  return { status: r.statusCode, body: r.json() };
}
const fields = (b: { error: { violations: { field: string }[] } }) => b.error.violations.map((v) => v.field).sort();

beforeAll(async () => {
  app = await testApp({ clients, sessions, clock });
});
afterAll(async () => app?.close());
beforeEach(() => {
  calls.length = 0;
});

describe("case-action forms", () => {
  it("a contact attempt names every bad field at once and calls nothing", async () => {
    const r = await post("contact-attempts", { channel: "PIGEON", outcome: "UNSPECIFIED", reason: "BORED", idempotencyKey: KEY });
    expect(r.status).toBe(400);
    expect(fields(r.body)).toEqual(["channel", "outcome", "reason"]);
    expect(r.body.error.violations.find((v: { field: string }) => v.field === "channel").description).toBe("must be CALL, SMS, EMAIL or LETTER");
    expect(calls).toEqual([]);
  });

  it("a valid contact attempt reaches collections with enum values, defaults and the user's key", async () => {
    const r = await post("contact-attempts", { channel: "CALL", outcome: "NO_ANSWER", idempotencyKey: KEY });
    expect(r.status).toBe(200);
    expect(calls).toEqual([
      {
        rpc: "logContactAttempt",
        req: expect.objectContaining({
          caseId: "case-1",
          agentId: "agent-m1-1",
          channel: collections.ContactChannel.CALL,
          outcome: collections.ContactOutcome.NO_ANSWER,
          reason: collections.NonPaymentReason.UNSPECIFIED,
          contactParty: "debtor",
          consentOutsideHours: false,
          idempotencyKey: `console:li.na:${KEY}`,
        }),
      },
    ]);
  });

  it("a promise needs a real date and a positive amount; yuan become fen", async () => {
    const bad = await post("promises", { amount: "-3", promisedDate: "2026-02-30", idempotencyKey: KEY });
    expect(bad.status).toBe(400);
    expect(fields(bad.body)).toEqual(["amount", "promisedDate"]);
    expect((await post("promises", { amount: "abc", promisedDate: "2026-12-20", idempotencyKey: KEY })).body.error.violations).toEqual([
      { field: "amount", description: "must be an amount in yuan like 1234.56" },
    ]);
    expect(calls).toEqual([]);
    expect((await post("promises", { amount: "1234.56", promisedDate: "2026-12-20", idempotencyKey: KEY })).status).toBe(200);
    expect(calls[0]!.req).toMatchObject({ amountFen: 123_456n, promisedDate: "2026-12-20" });
  });

  it("whole numbers: a plan, a deferral and a legal notice take numbers or numeric strings, nothing else", async () => {
    expect(fields((await post("plans", { installmentCount: 2.5, idempotencyKey: KEY })).body)).toEqual(["installmentCount"]);
    expect(fields((await post("deferrals", { days: "ten", idempotencyKey: KEY })).body)).toEqual(["days"]);
    expect(fields((await post("legal-notices", { deadlineDays: "15x", idempotencyKey: KEY })).body)).toEqual(["deadlineDays"]);
    expect(calls).toEqual([]);
    await post("plans", { installmentCount: "6", idempotencyKey: KEY });
    await post("deferrals", { days: 14, idempotencyKey: KEY });
    await post("legal-notices", { deadlineDays: "", idempotencyKey: KEY });
    expect(calls.map((c) => [c.rpc, c.req.installmentCount ?? c.req.days ?? c.req.deadlineDays])).toEqual([
      ["offerRepaymentPlan", 6],
      ["grantDeferral", 14],
      ["sendLegalNotice", 0],
    ]);
  });

  it("the form's fields are checked before its idempotency key; a form without a key is refused", async () => {
    expect(fields((await post("waivers", { amount: "0" })).body)).toEqual(["amount"]);
    expect(fields((await post("waivers", { amount: "10" })).body)).toEqual(["idempotencyKey"]);
    expect(calls).toEqual([]);
  });
});
