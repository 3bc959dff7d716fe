/**
 * The backend-for-frontend: a fastify app with the JSON API under /api and the built single-page app. Every /api
 * route except sign-in needs a server-side session and checks the role and case ownership on the server (see
 * authz.ts) before calling a service; every state-changing request passes the CSRF checks (csrf.ts); sign-in is
 * throttled (throttle.ts); each case action carries the idempotency key of the form it came from. Service answers are
 * protobuf messages turned into JSON with `toJson`.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fromJson, type JsonValue, toJson } from "@bufbuild/protobuf";
import fastifyCookie from "@fastify/cookie";
import fastifyStatic from "@fastify/static";
import { billing, collections, credit, creditreporting, notification } from "@whiteslip/contracts";
import { type Clock, isLocalDate, parseCny, systemClock } from "@whiteslip/core";
import type { Logger } from "@whiteslip/telemetry";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from "fastify";
import { authenticate, sessionCookieName, type UserRecord } from "./auth";
import {
  type CaseOwnership,
  canViewAccount,
  canViewCase,
  canWorkCase,
  check,
  type Decision,
  navigationFor,
  type Permission,
  queueAgentFilter,
  type SessionUser,
} from "./authz";
import type { ServiceClients } from "./clients";
import { checkOrigin, csrfTokenRefused, isStateChanging } from "./csrf";
import { forwardSignedInUser } from "./service-identity";
import { badRequest, forbidden, HttpError, toHttpError } from "./errors";
import { portfolioView } from "./portfolio";
import { type ConsoleSession, csrfTokenMatches, type SessionStore } from "./sessions";
import type { LoginThrottle, ThrottleState } from "./throttle";

/** What the app needs. */
export interface AppDeps {
  clients: ServiceClients;
  users: readonly UserRecord[];
  sessions: SessionStore;
  throttle: LoginThrottle;
  logger: Logger;
  /** Folder of the built SPA (served at /); nothing is served when it does not exist. */
  distDir: string;
  /** Set the Secure flag on the cookie (always, except under the explicit local-dev exception). */
  secureCookie: boolean;
  /** The console's origin (CONSOLE_PUBLIC_ORIGIN); without it, the origin of the request's Host. */
  publicOrigin?: string;
  /** Proxies whose X-Forwarded-For is trusted for the client address (CONSOLE_TRUST_PROXY_HOPS). */
  trustProxyHops?: number;
  /** The clock of the sessions and the throttle (default the system clock). */
  clock?: Clock;
}

declare module "fastify" {
  interface FastifyRequest {
    /** The signed-in user (set by the session hook on /api routes). */
    user?: SessionUser;
    /** The server-side session of the request's cookie. */
    consoleSession?: ConsoleSession;
  }
}

const JSON_OPTS = { alwaysEmitImplicit: true } as const;
const ACTIVE = [
  collections.CaseStatus.OPEN,
  collections.CaseStatus.PRE_DELINQUENT,
  collections.CaseStatus.PAUSED,
];

function enforce(d: Decision): void {
  if (!d.allowed) throw forbidden(d.reason, d.message);
}

function userOf(req: FastifyRequest): SessionUser {
  if (!req.user) throw new HttpError(401, { error: { code: "UNAUTHENTICATED", message: "sign in first" } });
  return req.user;
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

/** Enum value by short name (`CALL` → ContactChannel.CALL); undefined for an unknown name. */
function enumValue<E extends Record<string, string | number>>(e: E, name: unknown): E[keyof E] | undefined {
  if (typeof name !== "string" || name === "" || name === "UNSPECIFIED") return undefined;
  const v = e[name as keyof E];
  return typeof v === "number" ? v : undefined;
}

const KEY = /^[A-Za-z0-9_-]{16,100}$/;

/**
 * The idempotency key of a user action: the page makes one per form render and sends it with the submit (body
 * `idempotencyKey` or header `Idempotency-Key`), so a double submit, a retried request or a replay carries the same
 * key and the service changes nothing twice. Required — the console never makes one up per request. Forwarded scoped
 * to the signed-in user, so one user's key never answers another's action.
 */
function idempotencyKey(req: FastifyRequest, body: Record<string, unknown>): string {
  const header = req.headers["idempotency-key"];
  const key = str(body.idempotencyKey) || (typeof header === "string" ? header : "");
  if (!KEY.test(key))
    throw badRequest([
      {
        field: "idempotencyKey",
        description: "one key per user action (per form), 16–100 of A-Z a-z 0-9 _ -",
      },
    ]);
  return `console:${userOf(req).username}:${key}`;
}

/**
 * The money amount of a request body: `amountFen` (integer string) or `amount` in yuan (`1234.56`); a bad or
 * non-positive amount adds a violation on `amount` and gives 0.
 */
function amountOf(body: Record<string, unknown>, v: { field: string; description: string }[]): bigint {
  let fen = 0n;
  try {
    fen =
      typeof body.amountFen === "string" && /^\d+$/.test(body.amountFen)
        ? BigInt(body.amountFen)
        : parseCny(str(body.amount));
  } catch {
    v.push({ field: "amount", description: "must be an amount in yuan like 1234.56" });
    return 0n;
  }
  if (fen <= 0n) v.push({ field: "amount", description: "must be more than zero" });
  return fen;
}

function bodyOf(req: FastifyRequest): Record<string, unknown> {
  return req.body && typeof req.body === "object" ? (req.body as Record<string, unknown>) : {};
}

/** Decodes proto JSON from a request body; a shape error becomes a 400 naming `field`. */
function parseJson<T>(decode: () => T, field: string): T {
  try {
    return decode();
  } catch (e) {
    throw badRequest([{ field, description: (e as Error).message }]);
  }
}

/** Builds the app (not listening). */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { clients: c, sessions, throttle } = deps;
  const cookieName = sessionCookieName(deps.secureCookie);
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: 64 * 1024,
    ...(deps.trustProxyHops
      ? { trustProxy: (_address: string, hop: number) => hop < (deps.trustProxyHops ?? 0) }
      : {}),
  });
  await app.register(fastifyCookie);
  forwardSignedInUser(app); // the signed-in user rides along to the services as a signed token (service-identity.ts)

  app.setErrorHandler((err, req, reply) => {
    const fastifyStatus = (err as { statusCode?: number }).statusCode;
    if (!(err instanceof HttpError) && fastifyStatus && fastifyStatus < 500) {
      return reply
        .status(fastifyStatus)
        .send({ error: { code: "INVALID_ARGUMENT", message: (err as Error).message } });
    }
    const mapped = toHttpError(err, (err as { service?: string }).service);
    if (mapped.unexpected) req.log.error({ err }, "request failed");
    return reply.status(mapped.status).send(mapped.body);
  });

  // On every /api route: the CSRF origin check for state-changing requests, the server-side session (sign-in is the
  // only route open without one), and the session's CSRF token on every state-changing request of a signed-in user.
  app.addHook("onRequest", async (req) => {
    if (!req.url.startsWith("/api/")) return;
    const changing = isStateChanging(req.method);
    if (changing) checkOrigin(req, deps.publicOrigin);
    const session = sessions.get(req.cookies[cookieName]);
    if (session) {
      req.consoleSession = session;
      req.user = session.user;
    }
    const sessionRoute = req.url === "/api/session";
    const open = sessionRoute && (req.method === "POST" || req.method === "GET" || req.method === "DELETE");
    if (!req.user && !open)
      throw new HttpError(401, { error: { code: "UNAUTHENTICATED", message: "sign in first" } });
    const signIn = sessionRoute && req.method === "POST";
    if (changing && session && !signIn && !csrfTokenMatches(session, req.headers["x-csrf-token"]))
      throw csrfTokenRefused();
  });

  const need = (p: Permission) => async (req: FastifyRequest) => enforce(check(userOf(req), p));

  /** Calls a service, tagging a failure with its name for the error body. */
  const call = async <T>(service: string, p: Promise<T>): Promise<T> => {
    try {
      return await p;
    } catch (e) {
      if (e && typeof e === "object") (e as { service?: string }).service = service;
      throw e;
    }
  };

  // ---- session -------------------------------------------------------------------------------------------------

  /** 429 for a locked username or address, with the time the lock ends (body and Retry-After). */
  const locked = (reply: FastifyReply, username: string, s: Extract<ThrottleState, { locked: true }>) => {
    const seconds = Math.max(
      1,
      Math.ceil((s.until.getTime() - (deps.clock ?? systemClock).now().getTime()) / 1000),
    );
    reply.header("retry-after", String(seconds));
    return new HttpError(429, {
      error: {
        code: "RESOURCE_EXHAUSTED",
        reason: s.scope === "user" ? "LOGIN_LOCKED_USER" : "LOGIN_LOCKED_ADDRESS",
        message: `too many failed sign-ins ${s.scope === "user" ? `for ${username}` : "from your address"}: locked until ${s.until.toISOString()}`,
        metadata: { lockedUntil: s.until.toISOString(), retryAfterSeconds: String(seconds) },
      },
    });
  };

  app.post("/api/session", async (req, reply) => {
    const body = bodyOf(req);
    const username = str(body.username);
    const before = throttle.check(username, req.ip);
    if (before.locked) throw locked(reply, username, before);
    const user = await authenticate(deps.users, username, str(body.password));
    if (!user) {
      const after = throttle.failure(username, req.ip);
      req.log.warn({ username, address: req.ip, locked: after.locked }, "sign-in failed");
      if (after.locked) throw locked(reply, username, after);
      throw new HttpError(401, {
        error: { code: "UNAUTHENTICATED", reason: "BAD_CREDENTIALS", message: "wrong username or password" },
      });
    }
    throttle.success(username);
    // a new session on every sign-in (the one the browser had, if any, ends): no session fixation
    sessions.revoke(req.cookies[cookieName]);
    const { token, session } = sessions.create(user);
    reply.setCookie(cookieName, token, {
      httpOnly: true,
      sameSite: "strict",
      secure: deps.secureCookie,
      path: "/",
      maxAge: sessions.maxAgeSeconds,
    });
    req.log.info({ username, session: session.id }, "signed in");
    return { user, navigation: navigationFor(user.role), csrfToken: session.csrfToken };
  });

  app.get("/api/session", async (req, reply) => {
    if (!req.user || !req.consoleSession)
      return reply.status(401).send({ error: { code: "UNAUTHENTICATED", message: "not signed in" } });
    return {
      user: req.user,
      navigation: navigationFor(req.user.role),
      csrfToken: req.consoleSession.csrfToken,
    };
  });

  // Sign-out ends the session on the server: the cookie, replayed, no longer signs anyone in.
  app.delete("/api/session", async (req, reply) => {
    const revoked = sessions.revoke(req.cookies[cookieName]);
    reply.clearCookie(cookieName, {
      path: "/",
      httpOnly: true,
      sameSite: "strict",
      secure: deps.secureCookie,
    });
    if (revoked)
      req.log.info({ username: req.user?.username, session: req.consoleSession?.id }, "signed out");
    return { signedOut: true };
  });

  // ---- sessions (admin) ----------------------------------------------------------------------------------------

  app.get("/api/users", { preHandler: need("sessions:revoke") }, async () => {
    const live = sessions.countByUser();
    return {
      users: deps.users.map((u) => ({
        username: u.username,
        displayName: u.displayName,
        role: u.role,
        activeSessions: live.get(u.username) ?? 0,
      })),
    };
  });

  app.delete("/api/users/:username/sessions", { preHandler: need("sessions:revoke") }, async (req) => {
    const username = str((req.params as Record<string, unknown>).username);
    const revoked = sessions.revokeUser(username);
    req.log.info({ username, revoked, by: userOf(req).username }, "sessions revoked by an administrator");
    return { username, revoked };
  });

  app.get("/api/business-date", async () =>
    toJson(
      billing.GetBusinessDateResponseSchema,
      await call("billing", c.billing.getBusinessDate({})),
      JSON_OPTS,
    ),
  );

  // ---- queues and cases ----------------------------------------------------------------------------------------

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
      c.collections.listCases({
        agentId: filter.agentId,
        statuses: ACTIVE,
        queue: q.queue ?? "",
        pageSize: 200,
      }),
    );
    const cases = [...res.cases].sort((a, b) => b.priority - a.priority || b.daysPastDue - a.daysPastDue);
    return { cases: cases.map((k) => toJson(collections.CaseSchema, k, JSON_OPTS)) };
  });

  /** Loads a case and checks the user may see it (403 otherwise, before anything else is read). */
  const loadCase = async (req: FastifyRequest, rule: (u: SessionUser, c: CaseOwnership) => Decision) => {
    const user = userOf(req);
    const caseId = str((req.params as Record<string, unknown>).caseId);
    const got = await call("collections", c.collections.getCase({ caseId }));
    if (!got.case)
      throw new HttpError(404, { error: { code: "NOT_FOUND", message: `case ${caseId} not found` } });
    enforce(rule(user, got.case));
    return { user, got, kase: got.case };
  };

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
    const take = <T, R>(r: PromiseSettledResult<T>, name: string, f: (v: T) => R): R | null => {
      if (r.status === "fulfilled") return f(r.value);
      unavailable.push(name);
      return null;
    };
    return {
      ...(toJson(collections.GetCaseResponseSchema, got, JSON_OPTS) as object),
      statements: take(statements, "statements", (v) =>
        toJson(billing.ListStatementsResponseSchema, v, JSON_OPTS),
      ),
      score: take(score, "score", (v) => toJson(creditreporting.GetCreditScoreResponseSchema, v, JSON_OPTS)),
      scoreHistory: take(history, "scoreHistory", (v) =>
        toJson(creditreporting.ListScoreHistoryResponseSchema, v, JSON_OPTS),
      ),
      restrictions: take(restrictions, "restrictions", (v) =>
        toJson(credit.GetRestrictionsResponseSchema, v, JSON_OPTS),
      ),
      notifications: take(notices, "notifications", (v) =>
        toJson(notification.ListNotificationsResponseSchema, v, JSON_OPTS),
      ),
      unavailable,
    };
  });

  app.post("/api/cases/:caseId/contact-attempts", async (req) => {
    const { user, kase } = await loadCase(req, canWorkCase);
    const body = bodyOf(req);
    const channel = enumValue(collections.ContactChannel, body.channel);
    const outcome = enumValue(collections.ContactOutcome, body.outcome);
    const reason =
      body.reason === undefined || body.reason === "" || body.reason === "UNSPECIFIED"
        ? collections.NonPaymentReason.UNSPECIFIED
        : enumValue(collections.NonPaymentReason, body.reason);
    const v: { field: string; description: string }[] = [];
    if (channel === undefined)
      v.push({ field: "channel", description: "must be CALL, SMS, EMAIL or LETTER" });
    if (outcome === undefined) v.push({ field: "outcome", description: "must be a contact outcome" });
    if (reason === undefined) v.push({ field: "reason", description: "must be a non-payment reason" });
    if (v.length) throw badRequest(v);
    const res = await call(
      "collections",
      c.collections.logContactAttempt({
        caseId: kase.caseId,
        agentId: user.agentId ?? "",
        channel,
        outcome,
        reason,
        note: str(body.note),
        contactParty: str(body.contactParty) || "debtor",
        consentOutsideHours: body.consentOutsideHours === true,
        idempotencyKey: idempotencyKey(req, body),
      }),
    );
    return toJson(collections.LogContactAttemptResponseSchema, res, JSON_OPTS);
  });

  app.post("/api/cases/:caseId/promises", async (req) => {
    const { user, kase } = await loadCase(req, canWorkCase);
    const body = bodyOf(req);
    const v: { field: string; description: string }[] = [];
    const amountFen = amountOf(body, v);
    if (!isLocalDate(str(body.promisedDate)))
      v.push({ field: "promisedDate", description: "must be a YYYY-MM-DD date" });
    if (v.length) throw badRequest(v);
    const res = await call(
      "collections",
      c.collections.recordPromiseToPay({
        caseId: kase.caseId,
        amountFen,
        promisedDate: str(body.promisedDate),
        agentId: user.agentId ?? "",
        idempotencyKey: idempotencyKey(req, body),
      }),
    );
    return toJson(collections.RecordPromiseToPayResponseSchema, res, JSON_OPTS);
  });

  app.post("/api/cases/:caseId/plans", async (req) => {
    const { user, kase } = await loadCase(req, canWorkCase);
    const body = bodyOf(req);
    // the allowed counts are billing's product terms: collections checks them and names the field
    const n = Number(body.installmentCount);
    if (!Number.isInteger(n)) throw badRequest([{ field: "installmentCount", description: "must be a whole number" }]);
    const res = await call(
      "collections",
      c.collections.offerRepaymentPlan({
        caseId: kase.caseId,
        installmentCount: n,
        agentId: user.agentId ?? "",
        idempotencyKey: idempotencyKey(req, body),
      }),
    );
    return toJson(collections.OfferRepaymentPlanResponseSchema, res, JSON_OPTS);
  });

  // Hardship treatments: collections checks the case's reason and the policy limits and names the rule it applies.
  app.post("/api/cases/:caseId/waivers", async (req) => {
    const { user, kase } = await loadCase(req, canWorkCase);
    const body = bodyOf(req);
    const v: { field: string; description: string }[] = [];
    const amountFen = amountOf(body, v);
    if (v.length) throw badRequest(v);
    const res = await call(
      "collections",
      c.collections.requestFeeWaiver({
        caseId: kase.caseId,
        amountFen,
        agentId: user.agentId ?? "",
        idempotencyKey: idempotencyKey(req, body),
      }),
    );
    return toJson(collections.RequestFeeWaiverResponseSchema, res, JSON_OPTS);
  });

  app.post("/api/cases/:caseId/deferrals", async (req) => {
    const { user, kase } = await loadCase(req, canWorkCase);
    const body = bodyOf(req);
    // the longest deferral is billing's product term: collections checks it and names the field
    const days = Number(body.days);
    if (!Number.isInteger(days)) throw badRequest([{ field: "days", description: "must be a whole number of days" }]);
    const res = await call(
      "collections",
      c.collections.grantDeferral({
        caseId: kase.caseId,
        days,
        agentId: user.agentId ?? "",
        idempotencyKey: idempotencyKey(req, body),
      }),
    );
    return toJson(collections.GrantDeferralResponseSchema, res, JSON_OPTS);
  });

  app.post("/api/cases/:caseId/legal-notices", async (req) => {
    const { user, kase } = await loadCase(req, canWorkCase);
    const body = bodyOf(req);
    // empty: collections' default deadline; its range is collections' rule, checked there
    const days = body.deadlineDays === undefined || body.deadlineDays === "" ? 0 : Number(body.deadlineDays);
    if (!Number.isInteger(days)) throw badRequest([{ field: "deadlineDays", description: "must be a whole number of days" }]);
    const res = await call(
      "collections",
      c.collections.sendLegalNotice({
        caseId: kase.caseId,
        deadlineDays: days,
        actor: user.agentId ?? user.username,
        idempotencyKey: idempotencyKey(req, body),
      }),
    );
    return toJson(collections.SendLegalNoticeResponseSchema, res, JSON_OPTS);
  });

  app.post("/api/cases/:caseId/assignment", { preHandler: need("case:assign") }, async (req) => {
    const user = userOf(req);
    const caseId = str((req.params as Record<string, unknown>).caseId);
    const agentId = str(bodyOf(req).agentId);
    const res = await call(
      "collections",
      c.collections.assignCase({ caseId, agentId, actor: `console:${user.username}`, reassign: true }),
    );
    return toJson(collections.AssignCaseResponseSchema, res, JSON_OPTS);
  });

  app.get("/api/agents", { preHandler: need("agents:read") }, async () =>
    toJson(
      collections.ListAgentsResponseSchema,
      await call("collections", c.collections.listAgents({})),
      JSON_OPTS,
    ),
  );

  // ---- customer view -------------------------------------------------------------------------------------------

  app.get("/api/accounts/:accountId", async (req) => {
    const user = userOf(req);
    const accountId = str((req.params as Record<string, unknown>).accountId);
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
    const take = <T, R>(r: PromiseSettledResult<T>, name: string, f: (v: T) => R): R | null => {
      if (r.status === "fulfilled") return f(r.value);
      unavailable.push(name);
      return null;
    };
    return {
      account: toJson(billing.GetAccountSummaryResponseSchema, summary, JSON_OPTS),
      statements: take(statements, "statements", (v) =>
        toJson(billing.ListStatementsResponseSchema, v, JSON_OPTS),
      ),
      inbox: take(inbox, "inbox", (v) => toJson(notification.ListInboxResponseSchema, v, JSON_OPTS)),
      restrictions: take(restrictions, "restrictions", (v) =>
        toJson(credit.GetRestrictionsResponseSchema, v, JSON_OPTS),
      ),
      score: take(score, "score", (v) => toJson(creditreporting.GetCreditScoreResponseSchema, v, JSON_OPTS)),
      scoreHistory: take(history, "scoreHistory", (v) =>
        toJson(creditreporting.ListScoreHistoryResponseSchema, v, JSON_OPTS),
      ),
      creditLine: take(line, "creditLine", (v) => toJson(credit.GetCreditLineResponseSchema, v, JSON_OPTS)),
      unavailable,
    };
  });

  // ---- portfolio and policies ----------------------------------------------------------------------------------

  app.get("/api/portfolio", { preHandler: need("portfolio:read") }, async () => portfolioView(c));

  app.get("/api/policies", { preHandler: need("policy:read") }, async (req) => {
    const editable = check(userOf(req), "policy:edit").allowed;
    const [stats, strategies, cadence] = await Promise.all([
      call("collections", c.collections.getCollectionsStats({})),
      call("collections", c.collections.getStrategies({})),
      call("notification", c.notification.getCadencePolicy({})),
    ]);
    return {
      strategies: stats.strategies.map((s) => toJson(collections.StrategyStatsSchema, s, JSON_OPTS)),
      strategyTable: toJson(collections.StrategyTableVersionSchema, strategies.current!, JSON_OPTS),
      cadencePolicy: toJson(notification.CadencePolicyVersionSchema, cadence.current!, JSON_OPTS),
      editable: { strategies: editable, notificationCadence: editable },
    };
  });

  // Only a risk manager edits the policy tables (need("policy:edit")); the owning service validates the table,
  // checks the version read (409 ABORTED when someone saved in between) and records the signed-in user as the actor.
  app.put("/api/policies/:table", { preHandler: need("policy:edit") }, async (req) => {
    const user = userOf(req);
    const body = bodyOf(req);
    const table = (req.params as { table: string }).table;
    const expectedVersion = body.expectedVersion;
    if (typeof expectedVersion !== "number" || !Number.isInteger(expectedVersion))
      throw badRequest([{ field: "expectedVersion", description: "must be the version read (an integer)" }]);
    if (table === "strategies") {
      const parsed = parseJson(
        () => fromJson(collections.StrategyTableSchema, body.table as JsonValue),
        "table",
      );
      const r = await call(
        "collections",
        c.collections.updateStrategies({ table: parsed, expectedVersion, actor: user.username }),
      );
      return { strategyTable: toJson(collections.StrategyTableVersionSchema, r.current!, JSON_OPTS) };
    }
    if (table === "notification-cadence") {
      if (!Array.isArray(body.rules))
        throw badRequest([{ field: "rules", description: "must be a list of rules" }]);
      const rules = (body.rules as JsonValue[]).map((r, i) =>
        parseJson(() => fromJson(notification.CadenceRuleSchema, r), `rules[${i}]`),
      );
      const r = await call(
        "notification",
        c.notification.updateCadencePolicy({ rules, expectedVersion, actor: user.username }),
      );
      return { cadencePolicy: toJson(notification.CadencePolicyVersionSchema, r.current!, JSON_OPTS) };
    }
    throw new HttpError(404, {
      error: { code: "NOT_FOUND", message: "no such policy table (strategies, notification-cadence)" },
    });
  });

  app.all("/api/*", async () => {
    throw new HttpError(404, { error: { code: "NOT_FOUND", message: "no such API route" } });
  });

  // ---- the single-page app -------------------------------------------------------------------------------------

  if (existsSync(join(deps.distDir, "index.html"))) {
    await app.register(fastifyStatic, { root: deps.distDir, prefix: "/", index: ["index.html"] });
    app.setNotFoundHandler((req, reply: FastifyReply) => {
      if (req.method === "GET" && !req.url.startsWith("/api/")) return reply.sendFile("index.html");
      return reply.status(404).send({ error: { code: "NOT_FOUND", message: "not found" } });
    });
  }
  return app;
}
