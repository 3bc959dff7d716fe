/** The customer view (an account with its statements, inbox, restrictions, score and line) and the business date. */
import { toJson } from "@bufbuild/protobuf";
import { billing, credit, creditreporting, notification } from "@whiteslip/contracts";
import type { FastifyInstance } from "fastify";
import { canViewAccount } from "../authz";
import { enforce, JSON_OPTS, param, partial, type RouteContext, userOf } from "./context";

export function accountRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { clients: c, call } = ctx;

  app.get("/api/business-date", async () =>
    toJson(billing.GetBusinessDateResponseSchema, await call("billing", c.billing.getBusinessDate({})), JSON_OPTS),
  );

  app.get("/api/accounts/:accountId", async (req) => {
    const user = userOf(req);
    const accountId = param(req, "accountId");
    // an agent sees the accounts of the cases they work; supervisors and risk managers see every account
    if (user.role === "agent") {
      const cases = await call("collections", c.collections.listCases({ accountId, pageSize: 50 }));
      enforce(canViewAccount(user, cases.cases));
    } else enforce(canViewAccount(user, []));
    const summary = await call("billing", c.billing.getAccountSummary({ accountId }));
    const customerId = summary.account?.customerId ?? "";
    const [statements, inbox, restrictions, score, history, line] = await Promise.allSettled([
      c.billing.listStatements({ accountId, pageSize: 12 }),
      c.notification.listInbox({ customerId, pageSize: 50 }),
      c.credit.getRestrictions({ accountId }),
      c.creditReporting.getCreditScore({ accountId }),
      c.creditReporting.listScoreHistory({ accountId, pageSize: 50 }),
      c.credit.getCreditLine({ creditLineId: accountId }),
    ]);
    const unavailable: string[] = [];
    const take = partial(unavailable);
    return {
      account: toJson(billing.GetAccountSummaryResponseSchema, summary, JSON_OPTS),
      statements: take(statements, "statements", (v) => toJson(billing.ListStatementsResponseSchema, v, JSON_OPTS)),
      inbox: take(inbox, "inbox", (v) => toJson(notification.ListInboxResponseSchema, v, JSON_OPTS)),
      restrictions: take(restrictions, "restrictions", (v) => toJson(credit.GetRestrictionsResponseSchema, v, JSON_OPTS)),
      score: take(score, "score", (v) => toJson(creditreporting.GetCreditScoreResponseSchema, v, JSON_OPTS)),
      scoreHistory: take(history, "scoreHistory", (v) => toJson(creditreporting.ListScoreHistoryResponseSchema, v, JSON_OPTS)),
      creditLine: take(line, "creditLine", (v) => toJson(credit.GetCreditLineResponseSchema, v, JSON_OPTS)),
      unavailable,
    };
  });
}
