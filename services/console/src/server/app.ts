/**
 * The backend-for-frontend: a fastify app with the JSON API under /api and the built single-page app. Every /api
 * route except sign-in needs a server-side session and checks the role and case ownership on the server (see
 * authz.ts) before calling a service; every state-changing request passes the CSRF checks (csrf.ts); sign-in is
 * throttled (throttle.ts); each case action carries the idempotency key of the form it came from. Service answers are
 * protobuf messages turned into JSON with `toJson`. The routes live in routes/ (one module per page area), each body
 * validated by its zod schema (routes/context.ts).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import fastifyCookie from "@fastify/cookie";
import fastifyStatic from "@fastify/static";
import type { Clock } from "@whiteslip/core";
import type { Logger } from "@whiteslip/telemetry";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from "fastify";
import { sessionCookieName, type UserRecord } from "./auth";
import type { SessionUser } from "./authz";
import type { ServiceClients } from "./clients";
import { checkOrigin, csrfTokenRefused, isStateChanging } from "./csrf";
import { HttpError, toHttpError } from "./errors";
import { accountRoutes } from "./routes/accounts";
import { caseRoutes } from "./routes/cases";
import { routeContext } from "./routes/context";
import { policyRoutes } from "./routes/policies";
import { sessionRoutes } from "./routes/session";
import { forwardSignedInUser } from "./service-identity";
import { type ConsoleSession, csrfTokenMatches, type SessionStore } from "./sessions";
import type { LoginThrottle } from "./throttle";

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

/** Builds the app (not listening). */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { sessions, throttle } = deps;
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

  const ctx = routeContext(deps.clients);
  sessionRoutes(app, ctx, {
    users: deps.users,
    sessions,
    throttle,
    cookieName,
    secureCookie: deps.secureCookie,
    ...(deps.clock ? { clock: deps.clock } : {}),
  });
  caseRoutes(app, ctx);
  accountRoutes(app, ctx);
  policyRoutes(app, ctx);

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
