/** Sign-in, the session, sign-out, and an administrator's view and revocation of users' sessions. */
import { type Clock, systemClock } from "@whiteslip/core";
import type { FastifyInstance, FastifyReply } from "fastify";
import { z } from "zod";
import { authenticate, type UserRecord } from "../auth";
import { navigationFor } from "../authz";
import { HttpError } from "../errors";
import type { SessionStore } from "../sessions";
import type { LoginThrottle, ThrottleState } from "../throttle";
import { param, parseBody, type RouteContext, userOf } from "./context";

export interface SessionRouteDeps {
  users: readonly UserRecord[];
  sessions: SessionStore;
  throttle: LoginThrottle;
  cookieName: string;
  secureCookie: boolean;
  clock?: Clock;
}

const signInForm = z.object({ username: z.string().default(""), password: z.string().default("") });

export function sessionRoutes(app: FastifyInstance, ctx: RouteContext, deps: SessionRouteDeps): void {
  const { sessions, throttle, cookieName } = deps;

  /** 429 for a locked username or address, with the time the lock ends (body and Retry-After). */
  const locked = (reply: FastifyReply, username: string, s: Extract<ThrottleState, { locked: true }>) => {
    const seconds = Math.max(1, Math.ceil((s.until.getTime() - (deps.clock ?? systemClock).now().getTime()) / 1000));
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
    const { username, password } = parseBody(signInForm, req);
    const before = throttle.check(username, req.ip);
    if (before.locked) throw locked(reply, username, before);
    const user = await authenticate(deps.users, username, password);
    if (!user) {
      const after = throttle.failure(username, req.ip);
      req.log.warn({ username, address: req.ip, locked: after.locked }, "sign-in failed");
      if (after.locked) throw locked(reply, username, after);
      throw new HttpError(401, { error: { code: "UNAUTHENTICATED", reason: "BAD_CREDENTIALS", message: "wrong username or password" } });
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
    return { user: req.user, navigation: navigationFor(req.user.role), csrfToken: req.consoleSession.csrfToken };
  });

  // Sign-out ends the session on the server: the cookie, replayed, no longer signs anyone in.
  app.delete("/api/session", async (req, reply) => {
    const revoked = sessions.revoke(req.cookies[cookieName]);
    reply.clearCookie(cookieName, { path: "/", httpOnly: true, sameSite: "strict", secure: deps.secureCookie });
    if (revoked) req.log.info({ username: req.user?.username, session: req.consoleSession?.id }, "signed out");
    return { signedOut: true };
  });

  app.get("/api/users", { preHandler: ctx.need("sessions:revoke") }, async () => {
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

  app.delete("/api/users/:username/sessions", { preHandler: ctx.need("sessions:revoke") }, async (req) => {
    const username = param(req, "username");
    const revoked = sessions.revokeUser(username);
    req.log.info({ username, revoked, by: userOf(req).username }, "sessions revoked by an administrator");
    return { username, revoked };
  });
}
