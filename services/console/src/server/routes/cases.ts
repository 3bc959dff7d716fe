/**
 * The agent workbench: the queue, a case with what the other services know of its account, the case actions
 * (contact attempts, promises, plans, waivers, deferrals, legal notices) and assignment. Each action form carries
 * the idempotency key of its render; the limits of each treatment are collections' (it checks them against billing's
 * product terms and names the field or the rule that refused).
 */
import { toJson } from "@bufbuild/protobuf";
import { billing, collections, credit, creditreporting, notification } from "@whiteslip/contracts";
import { isLocalDate } from "@whiteslip/core";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { canViewCase, canWorkCase, queueAgentFilter } from "../authz";
import {
  ACTIVE,
  actionForm,
  enforce,
  idempotencyKey,
  JSON_OPTS,
  moneyForm,
  param,
  parseBody,
  partial,
  protoEnum,
  type RouteContext,
  userOf,
  wholeNumber,
} from "./context";

const contactAttemptForm = actionForm.extend({
  channel: protoEnum(collections.ContactChannel, "must be CALL, SMS, EMAIL or LETTER"),
  outcome: protoEnum(collections.ContactOutcome, "must be a contact outcome"),
  reason: z
    .union([z.literal(""), z.literal("UNSPECIFIED"), protoEnum(collections.NonPaymentReason, "must be a non-payment reason")], {
      error: "must be a non-payment reason",
    })
    .optional()
    .transform((r) => (typeof r === "number" ? r : collections.NonPaymentReason.UNSPECIFIED)),
  note: z.string().default(""),
  contactParty: z.string().max(60, { error: "must be at most 60 characters" }).default(""),
  consentOutsideHours: z.boolean().default(false),
  // why a third party is contacted (collections refuses anything but LOCATE / RELAY with CN_THIRD_PARTY); "" for the debtor
  purpose: z.enum(["", "LOCATE", "RELAY"], { error: "must be LOCATE or RELAY (third parties), or empty" }).default(""),
});

const promiseForm = z.intersection(
  actionForm.extend({ promisedDate: z.string().refine(isLocalDate, { error: "must be a YYYY-MM-DD date" }) }),
  moneyForm.transform((amountFen) => ({ amountFen })),
);
const waiverForm = z.intersection(actionForm, moneyForm.transform((amountFen) => ({ amountFen })));
const planForm = actionForm.extend({ installmentCount: wholeNumber("must be a whole number") });
const deferralForm = actionForm.extend({ days: wholeNumber("must be a whole number of days") });
// empty: collections' default deadline; its range is collections' rule, checked there
const legalNoticeForm = actionForm.extend({
  deadlineDays: z
    .union([z.literal(""), wholeNumber("must be a whole number of days")], { error: "must be a whole number of days" })
    .optional()
    .transform((d) => (typeof d === "number" ? d : 0)),
});
const assignmentForm = z.object({ agentId: z.string().default("") });

export function caseRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { clients: c, call, loadCase, need } = ctx;

  app.get("/api/queue", async (req) => {
    const user = userOf(req);
    const q = req.query as Record<string, string | undefined>;
    const filter = queueAgentFilter(user, q.agentId || undefined);
    if ("allowed" in filter) {
      enforce(filter);
      return;
    }
    const res = await call(
      "collections",
      c.collections.listCases({ agentId: filter.agentId, statuses: ACTIVE, queue: q.queue ?? "", pageSize: 200 }),
    );
    const cases = [...res.cases].sort((a, b) => b.priority - a.priority || b.daysPastDue - a.daysPastDue);
    return { cases: cases.map((k) => toJson(collections.CaseSchema, k, JSON_OPTS)) };
  });

  app.get("/api/cases/:caseId", async (req) => {
    const { got, kase } = await loadCase(req, canViewCase);
    const accountId = kase.accountId;
    const [statements, score, history, restrictions, notices] = await Promise.allSettled([
      c.billing.listStatements({ accountId, pageSize: 12 }),
      c.creditReporting.getCreditScore({ accountId }),
      c.creditReporting.listScoreHistory({ accountId, pageSize: 50 }),
      c.credit.getRestrictions({ accountId }),
      c.notification.listNotifications({ customerId: kase.customerId, accountId, pageSize: 100 }),
    ]);
    const unavailable: string[] = [];
    const take = partial(unavailable);
    return {
      ...(toJson(collections.GetCaseResponseSchema, got, JSON_OPTS) as object),
      statements: take(statements, "statements", (v) => toJson(billing.ListStatementsResponseSchema, v, JSON_OPTS)),
      score: take(score, "score", (v) => toJson(creditreporting.GetCreditScoreResponseSchema, v, JSON_OPTS)),
      scoreHistory: take(history, "scoreHistory", (v) => toJson(creditreporting.ListScoreHistoryResponseSchema, v, JSON_OPTS)),
      restrictions: take(restrictions, "restrictions", (v) => toJson(credit.GetRestrictionsResponseSchema, v, JSON_OPTS)),
      notifications: take(notices, "notifications", (v) => toJson(notification.ListNotificationsResponseSchema, v, JSON_OPTS)),
      unavailable,
    };
  });

  app.post("/api/cases/:caseId/contact-attempts", async (req) => {
    const { user, kase } = await loadCase(req, canWorkCase);
    const form = parseBody(contactAttemptForm, req);
    const res = await call(
      "collections",
      c.collections.logContactAttempt({
        caseId: kase.caseId,
        agentId: user.agentId ?? "",
        channel: form.channel,
        outcome: form.outcome,
        reason: form.reason,
        note: form.note,
        contactParty: form.contactParty || "debtor",
        consentOutsideHours: form.consentOutsideHours,
        purpose: form.purpose,
        idempotencyKey: idempotencyKey(req, form),
      }),
    );
    return toJson(collections.LogContactAttemptResponseSchema, res, JSON_OPTS);
  });

  app.post("/api/cases/:caseId/promises", async (req) => {
    const { user, kase } = await loadCase(req, canWorkCase);
    const form = parseBody(promiseForm, req);
    const res = await call(
      "collections",
      c.collections.recordPromiseToPay({
        caseId: kase.caseId,
        amountFen: form.amountFen,
        promisedDate: form.promisedDate,
        agentId: user.agentId ?? "",
        idempotencyKey: idempotencyKey(req, form),
      }),
    );
    return toJson(collections.RecordPromiseToPayResponseSchema, res, JSON_OPTS);
  });

  // the allowed counts are billing's product terms: collections checks them and names the field
  app.post("/api/cases/:caseId/plans", async (req) => {
    const { user, kase } = await loadCase(req, canWorkCase);
    const form = parseBody(planForm, req);
    const res = await call(
      "collections",
      c.collections.offerRepaymentPlan({
        caseId: kase.caseId,
        installmentCount: form.installmentCount,
        agentId: user.agentId ?? "",
        idempotencyKey: idempotencyKey(req, form),
      }),
    );
    return toJson(collections.OfferRepaymentPlanResponseSchema, res, JSON_OPTS);
  });

  // Hardship treatments: collections checks the case's reason and the policy limits and names the rule it applies.
  app.post("/api/cases/:caseId/waivers", async (req) => {
    const { user, kase } = await loadCase(req, canWorkCase);
    const form = parseBody(waiverForm, req);
    const res = await call(
      "collections",
      c.collections.requestFeeWaiver({
        caseId: kase.caseId,
        amountFen: form.amountFen,
        agentId: user.agentId ?? "",
        idempotencyKey: idempotencyKey(req, form),
      }),
    );
    return toJson(collections.RequestFeeWaiverResponseSchema, res, JSON_OPTS);
  });

  // the longest deferral is billing's product term: collections checks it and names the field
  app.post("/api/cases/:caseId/deferrals", async (req) => {
    const { user, kase } = await loadCase(req, canWorkCase);
    const form = parseBody(deferralForm, req);
    const res = await call(
      "collections",
      c.collections.grantDeferral({
        caseId: kase.caseId,
        days: form.days,
        agentId: user.agentId ?? "",
        idempotencyKey: idempotencyKey(req, form),
      }),
    );
    return toJson(collections.GrantDeferralResponseSchema, res, JSON_OPTS);
  });

  app.post("/api/cases/:caseId/legal-notices", async (req) => {
    const { user, kase } = await loadCase(req, canWorkCase);
    const form = parseBody(legalNoticeForm, req);
    const res = await call(
      "collections",
      c.collections.sendLegalNotice({
        caseId: kase.caseId,
        deadlineDays: form.deadlineDays,
        actor: user.agentId ?? user.username,
        idempotencyKey: idempotencyKey(req, form),
      }),
    );
    return toJson(collections.SendLegalNoticeResponseSchema, res, JSON_OPTS);
  });

  app.post("/api/cases/:caseId/assignment", { preHandler: need("case:assign") }, async (req) => {
    const user = userOf(req);
    const { agentId } = parseBody(assignmentForm, req);
    const res = await call(
      "collections",
      c.collections.assignCase({ caseId: param(req, "caseId"), agentId, actor: `console:${user.username}`, reassign: true }),
    );
    return toJson(collections.AssignCaseResponseSchema, res, JSON_OPTS);
  });

  app.get("/api/agents", { preHandler: need("agents:read") }, async () =>
    toJson(collections.ListAgentsResponseSchema, await call("collections", c.collections.listAgents({})), JSON_OPTS),
  );
}
