/**
 * The console's defences at the HTTP edge (fastify inject, the real app with recording service clients): CSRF
 * (origin and token), sign-in throttling, server-side sign-out and an admin's revocation, the Secure cookie, and one
 * idempotency key per user action forwarded to the service. The attack suite does the same against the real
 * platform; these pin each rule without it.
 */
import { create } from "@bufbuild/protobuf";
import { collections } from "@whiteslip/contracts";
import { ManualClock } from "@whiteslip/core";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPassword, sessionCookieName, type UserRecord } from "../src/server/auth";
import type { ServiceClients } from "../src/server/clients";
import { SessionStore } from "../src/server/sessions";
import { testApp } from "./support/app";

const ORIGIN = "https://console.example.com";
const clock = new ManualClock("2026-12-01T02:00:00Z");
const notices: { idempotencyKey: string; actor: string }[] = [];
const clients = {
  collections: {
    getCase: async ({ caseId }: { caseId: string }) => ({
      case: { caseId, agentId: "agent-m1-1", accountId: "acc-1" },
    }),
    sendLegalNotice: async (req: { idempotencyKey: string; actor: string }) => {
      notices.push(req);
      return create(collections.SendLegalNoticeResponseSchema, {
        noticeId: `notice-${req.idempotencyKey}`,
        deadlineDate: "2026-12-16",
      });
    },
    listCases: async () => ({ cases: [] }),
  },
} as unknown as ServiceClients;

let app: FastifyInstance;
let users: UserRecord[];

async function build(secureCookie: boolean) {
  return testApp({ clients, users, sessions: new SessionStore(clock, 60), clock, secureCookie, publicOrigin: ORIGIN });
}

/** Signs in from the console's origin; the cookie and the CSRF token, as the page holds them. */
async function signIn(username: string, password: string, address = "10.0.0.1") {
  const r = await app.inject({
    method: "POST",
    url: "/api/session",
    headers: { origin: ORIGIN },
    remoteAddress: address,
    payload: { username, password },
  });
  const cookie = r.cookies.find((c) => c.name === sessionCookieName(true));
  return { r, cookie: cookie?.value ?? "", csrf: r.json().csrfToken as string, set: cookie };
}

beforeAll(async () => {
  const h = await hashPassword("right-password");
  users = [
    { username: "li.na", displayName: "Li Na", role: "agent", agentId: "agent-m1-1", passwordHash: h },
    { username: "sun.li", displayName: "Sun Li", role: "admin", passwordHash: h },
  ];
  app = await build(true);
});
afterAll(async () => app?.close());

describe("console defences", () => {
  it("the session cookie is Secure, HttpOnly, SameSite=Strict and __Host- prefixed; only the dev flag drops Secure", async () => {
    const { set } = await signIn("li.na", "right-password");
    expect(set).toMatchObject({
      name: "__Host-ws_console_session",
      secure: true,
      httpOnly: true,
      sameSite: "Strict",
      path: "/",
    });
    const dev = await build(false);
    const r = await dev.inject({
      method: "POST",
      url: "/api/session",
      headers: { origin: ORIGIN },
      payload: { username: "li.na", password: "right-password" },
    });
    expect(r.cookies[0]).toMatchObject({ name: "ws_console_session", httpOnly: true, sameSite: "Strict" });
    expect(r.cookies[0]!.secure).toBeUndefined();
    await dev.close();
  });

  it("refuses a state-changing request from another origin, without Origin/Referer, or without the session's token", async () => {
    const { cookie, csrf } = await signIn("li.na", "right-password");
    const post = (headers: Record<string, string>) =>
      app.inject({
        method: "POST",
        url: "/api/cases/case-1/legal-notices",
        cookies: { [sessionCookieName(true)]: cookie },
        headers,
        payload: { idempotencyKey: "k".repeat(20) },
      });
    const before = notices.length;
    expect((await post({ origin: "https://evil.example", "x-csrf-token": csrf })).json().error.reason).toBe(
      "CSRF_ORIGIN_MISMATCH",
    );
    expect(
      (await post({ referer: "https://evil.example/x", "x-csrf-token": csrf })).json().error.reason,
    ).toBe("CSRF_ORIGIN_MISMATCH");
    expect((await post({ "x-csrf-token": csrf })).statusCode).toBe(403);
    expect((await post({ origin: ORIGIN })).json().error.reason).toBe("CSRF_TOKEN_INVALID");
    expect((await post({ origin: ORIGIN, "x-csrf-token": `${csrf}x` })).json().error.reason).toBe(
      "CSRF_TOKEN_INVALID",
    );
    expect(notices.length).toBe(before);
    // the page's own request passes; a Referer of the console's origin stands in for a missing Origin
    const ok = await post({ origin: ORIGIN, "x-csrf-token": csrf });
    expect(ok.statusCode, ok.body).toBe(200);
    expect((await post({ referer: `${ORIGIN}/#/cases/case-1`, "x-csrf-token": csrf })).statusCode).toBe(200);
    // a sign-in from another origin (login CSRF)
    const forged = await app.inject({
      method: "POST",
      url: "/api/session",
      headers: { origin: "https://evil.example" },
      payload: { username: "li.na", password: "right-password" },
    });
    expect(forged.statusCode).toBe(403);
  });

  it("locks a guessed username with 429 and the time the lock ends; the right password is refused meanwhile", async () => {
    for (let i = 0; i < 4; i++)
      expect((await signIn("sun.li", `wrong-${i}`, "10.0.0.9")).r.statusCode).toBe(401);
    const { r } = await signIn("sun.li", "wrong-4", "10.0.0.9");
    expect(r.statusCode).toBe(429);
    expect(r.headers["retry-after"]).toBe(String(15 * 60));
    expect(r.json().error).toMatchObject({
      code: "RESOURCE_EXHAUSTED",
      reason: "LOGIN_LOCKED_USER",
      metadata: { lockedUntil: "2026-12-01T02:15:00.000Z", retryAfterSeconds: "900" },
    });
    expect((await signIn("sun.li", "right-password", "10.0.0.10")).r.statusCode).toBe(429);
    clock.advance(15 * 60_000);
    expect((await signIn("sun.li", "right-password", "10.0.0.10")).r.statusCode).toBe(200);
  });

  it("sign-out and an admin's revocation end sessions on the server: the cookie replayed is refused", async () => {
    const a = await signIn("li.na", "right-password");
    const cookies = { [sessionCookieName(true)]: a.cookie };
    expect((await app.inject({ method: "GET", url: "/api/session", cookies })).statusCode).toBe(200);
    const out = await app.inject({
      method: "DELETE",
      url: "/api/session",
      cookies,
      headers: { origin: ORIGIN, "x-csrf-token": a.csrf },
    });
    expect(out.statusCode).toBe(200);
    expect((await app.inject({ method: "GET", url: "/api/queue", cookies })).statusCode).toBe(401);
    const b = await signIn("li.na", "right-password");
    const c = await signIn("li.na", "right-password");
    const admin = await signIn("sun.li", "right-password");
    const revoke = (who: typeof admin) =>
      app.inject({
        method: "DELETE",
        url: "/api/users/li.na/sessions",
        cookies: { [sessionCookieName(true)]: who.cookie },
        headers: { origin: ORIGIN, "x-csrf-token": who.csrf },
      });
    expect((await revoke(b)).statusCode).toBe(403);
    const listed = await app.inject({
      method: "GET",
      url: "/api/users",
      cookies: { [sessionCookieName(true)]: admin.cookie },
    });
    const live = listed.json().users.find((u: { username: string }) => u.username === "li.na").activeSessions;
    expect(live).toBeGreaterThanOrEqual(2); // b and c (and those of the tests before)
    expect((await revoke(admin)).json()).toEqual({ username: "li.na", revoked: live });
    for (const s of [b, c])
      expect(
        (
          await app.inject({
            method: "GET",
            url: "/api/queue",
            cookies: { [sessionCookieName(true)]: s.cookie },
          })
        ).statusCode,
      ).toBe(401);
  });

  it("forwards the form's idempotency key (scoped to the user) and never makes one up", async () => {
    const { cookie, csrf } = await signIn("li.na", "right-password");
    const send = (payload: object) =>
      app.inject({
        method: "POST",
        url: "/api/cases/case-1/legal-notices",
        cookies: { [sessionCookieName(true)]: cookie },
        headers: { origin: ORIGIN, "x-csrf-token": csrf },
        payload,
      });
    const missing = await send({ deadlineDays: 15 });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.violations).toEqual([expect.objectContaining({ field: "idempotencyKey" })]);
    const before = notices.length;
    const key = "form-render-0123456789";
    const [x, y] = await Promise.all([send({ idempotencyKey: key }), send({ idempotencyKey: key })]);
    expect([x.statusCode, y.statusCode]).toEqual([200, 200]);
    expect(x.json().noticeId).toBe(`notice-console:li.na:${key}`);
    expect(y.json().noticeId).toBe(x.json().noticeId);
    expect(notices.slice(before).map((n) => n.idempotencyKey)).toEqual([
      `console:li.na:${key}`,
      `console:li.na:${key}`,
    ]);
  });
});
