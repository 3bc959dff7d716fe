/** Authorization rules, sessions and passwords, and the gRPC → HTTP error mapping. */
import { notification } from "@whiteslip/contracts";
import { ManualClock } from "@whiteslip/core";
import { GrpcError, GrpcStatus } from "@whiteslip/grpc";
import { describe, expect, it } from "vitest";
import { authenticate, hashPassword, loadUsers, verifyPassword } from "../src/server/auth";
import {
  can,
  canViewAccount,
  canViewCase,
  canWorkCase,
  check,
  navigationFor,
  queueAgentFilter,
  type SessionUser,
} from "../src/server/authz";
import { loadConsoleConfig } from "../src/server/config";
import { forbidden, HTTP_OF_GRPC, toHttpError } from "../src/server/errors";
import { chartRows } from "../src/server/portfolio";
import { csrfTokenMatches, SessionStore } from "../src/server/sessions";
import { LoginThrottle } from "../src/server/throttle";

/** Mutual TLS settings (paths only; config validation does not open them). */
const TLS = { TLS_CA_FILE: "/tls/ca.pem", TLS_CERT_FILE: "/tls/console.pem", TLS_KEY_FILE: "/tls/console.key" };

const agent: SessionUser = { username: "li.na", role: "agent", agentId: "agent-m1-1", displayName: "Li Na" };
const otherAgent: SessionUser = {
  username: "wang.wei",
  role: "agent",
  agentId: "agent-m1-2",
  displayName: "Wang Wei",
};
const supervisor: SessionUser = { username: "zhao.min", role: "supervisor", displayName: "Zhao Min" };
const risk: SessionUser = { username: "chen.jie", role: "risk_manager", displayName: "Chen Jie" };
const held = { agentId: "agent-m1-1" };
const unassigned = { agentId: "" };

describe("authorization rules", () => {
  it("an agent sees and works only the cases assigned to them", () => {
    expect(canViewCase(agent, held)).toEqual({ allowed: true });
    expect(canWorkCase(agent, held)).toEqual({ allowed: true });
    expect(canViewCase(otherAgent, held)).toMatchObject({
      allowed: false,
      reason: "CASE_NOT_ASSIGNED_TO_YOU",
    });
    expect(canWorkCase(otherAgent, held)).toMatchObject({
      allowed: false,
      reason: "CASE_NOT_ASSIGNED_TO_YOU",
    });
    expect(canViewCase(agent, unassigned)).toMatchObject({ allowed: false });
    // An agent user without an agent id matches no case, not even an unassigned one.
    const broken: SessionUser = { username: "x", role: "agent", displayName: "x" };
    expect(canViewCase(broken, unassigned)).toMatchObject({ allowed: false });
    expect(canWorkCase(broken, unassigned)).toMatchObject({ allowed: false });
  });

  it("a supervisor sees every case and assigns, but does not act on a case; a risk manager does neither", () => {
    expect(canViewCase(supervisor, held)).toEqual({ allowed: true });
    expect(canViewCase(supervisor, unassigned)).toEqual({ allowed: true });
    expect(canWorkCase(supervisor, held)).toMatchObject({ allowed: false, reason: "ROLE_NOT_PERMITTED" });
    expect(can(supervisor, "case:assign")).toBe(true);
    expect(canViewCase(risk, held)).toMatchObject({ allowed: false, reason: "ROLE_NOT_PERMITTED" });
    expect(canWorkCase(risk, held)).toMatchObject({ allowed: false });
  });

  it("role permissions: only supervisors assign, only risk managers edit policies, agents read no portfolio", () => {
    const table = (u: SessionUser) =>
      (
        [
          "queue:own",
          "queue:all",
          "case:assign",
          "agents:read",
          "portfolio:read",
          "policy:read",
          "policy:edit",
          "sessions:revoke",
        ] as const
      ).filter((p) => can(u, p));
    expect(table(agent)).toEqual(["queue:own"]);
    expect(table(supervisor)).toEqual(["queue:all", "case:assign", "agents:read", "portfolio:read"]);
    expect(table(risk)).toEqual(["portfolio:read", "policy:read", "policy:edit"]);
    expect(table({ username: "sun.li", role: "admin", displayName: "Sun Li" })).toEqual(["sessions:revoke"]);
    expect(check(agent, "portfolio:read")).toMatchObject({ allowed: false, reason: "ROLE_NOT_PERMITTED" });
    expect(check(supervisor, "policy:edit")).toMatchObject({ allowed: false });
  });

  it("queues: an agent always gets their own (asking for another's is refused); a supervisor any or all", () => {
    expect(queueAgentFilter(agent, undefined)).toEqual({ agentId: "agent-m1-1" });
    expect(queueAgentFilter(agent, "agent-m1-1")).toEqual({ agentId: "agent-m1-1" });
    expect(queueAgentFilter(agent, "agent-m1-2")).toMatchObject({
      allowed: false,
      reason: "CASE_NOT_ASSIGNED_TO_YOU",
    });
    expect(queueAgentFilter(supervisor, undefined)).toEqual({ agentId: "" });
    expect(queueAgentFilter(supervisor, "agent-m1-2")).toEqual({ agentId: "agent-m1-2" });
    expect(queueAgentFilter(risk, undefined)).toMatchObject({ allowed: false, reason: "ROLE_NOT_PERMITTED" });
  });

  it("customer view: an agent only for accounts with a case of theirs; supervisors and risk managers always", () => {
    expect(canViewAccount(agent, [unassigned, held])).toEqual({ allowed: true });
    expect(canViewAccount(agent, [{ agentId: "agent-m1-2" }])).toMatchObject({
      allowed: false,
      reason: "ACCOUNT_NOT_ASSIGNED_TO_YOU",
    });
    expect(canViewAccount(agent, [])).toMatchObject({ allowed: false });
    expect(canViewAccount(supervisor, [])).toEqual({ allowed: true });
    expect(canViewAccount(risk, [])).toEqual({ allowed: true });
  });

  it("navigation follows the roles", () => {
    expect(navigationFor("agent")).toEqual(["queue"]);
    expect(navigationFor("supervisor")).toEqual(["queue", "supervisor", "portfolio"]);
    expect(navigationFor("risk_manager")).toEqual(["portfolio", "policies"]);
    expect(navigationFor("admin")).toEqual(["sessions"]);
  });
});

describe("passwords and sessions", () => {
  it("scrypt hashes verify only the right password; malformed hashes never verify", async () => {
    const h = await hashPassword("s3cret!");
    expect(h).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(await verifyPassword("s3cret!", h)).toBe(true);
    expect(await verifyPassword("s3cret", h)).toBe(false);
    expect(await hashPassword("s3cret!")).not.toBe(h); // salted
    expect(await verifyPassword("s3cret!", "plain")).toBe(false);
    expect(await verifyPassword("s3cret!", "scrypt$x$8$1$AA==$AA==")).toBe(false);
  });

  it("the seeded users sign in with the README passwords and carry their role and agent id", async () => {
    const users = await loadUsers(loadConsoleConfig({ GRPC_PLAINTEXT_DEV: "1" }).CONSOLE_USERS_FILE);
    expect(await authenticate(users, "li.na", "agent1-demo")).toEqual({
      username: "li.na",
      role: "agent",
      agentId: "agent-m1-1",
      displayName: "李娜 Li Na",
    });
    expect(await authenticate(users, "wang.wei", "agent2-demo")).toMatchObject({
      role: "agent",
      agentId: "agent-m1-2",
    });
    expect(await authenticate(users, "zhao.min", "supervisor-demo")).toMatchObject({ role: "supervisor" });
    expect(await authenticate(users, "chen.jie", "risk-demo")).toMatchObject({ role: "risk_manager" });
    expect(await authenticate(users, "sun.li", "admin-demo")).toMatchObject({ role: "admin" });
    expect(await authenticate(users, "li.na", "risk-demo")).toBeNull();
    expect(await authenticate(users, "nobody", "agent1-demo")).toBeNull();
  });

  it("sessions are server-side: a token finds its session until sign-out, revocation or expiry", () => {
    const clock = new ManualClock("2026-12-01T02:00:00Z");
    const sessions = new SessionStore(clock, 60);
    const a = sessions.create(agent);
    const b = sessions.create(agent);
    const c = sessions.create(supervisor);
    expect(a.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.token).not.toBe(b.token);
    expect(sessions.get(a.token)?.user).toEqual(agent);
    expect(sessions.get(`${a.token}x`)).toBeNull();
    expect(sessions.get(undefined)).toBeNull();
    expect(csrfTokenMatches(a.session, a.session.csrfToken)).toBe(true);
    expect(csrfTokenMatches(a.session, b.session.csrfToken)).toBe(false);
    expect(csrfTokenMatches(a.session, undefined)).toBe(false);
    expect(sessions.revoke(a.token)).toBe(true);
    expect(sessions.get(a.token)).toBeNull();
    expect(sessions.countByUser()).toEqual(
      new Map([
        ["li.na", 1],
        ["zhao.min", 1],
      ]),
    );
    expect(sessions.revokeUser("li.na")).toBe(1);
    expect(sessions.get(b.token)).toBeNull();
    clock.advance(60 * 60_000);
    expect(sessions.get(c.token)).toBeNull();
  });

  it("sign-in throttling locks a username after 5 failures and an address after 20, until the lock ends", () => {
    const clock = new ManualClock("2026-12-01T02:00:00Z");
    const limits = { maxFailures: 5, windowMinutes: 15, lockMinutes: 15 };
    const t = new LoginThrottle(clock, { user: limits, address: { ...limits, maxFailures: 20 } });
    for (let i = 0; i < 4; i++) expect(t.failure("li.na", "10.0.0.1")).toEqual({ locked: false });
    const locked = t.failure("Li.Na ", "10.0.0.1");
    expect(locked).toEqual({ locked: true, scope: "user", until: new Date("2026-12-01T02:15:00Z") });
    expect(t.check("li.na", "10.0.0.2")).toMatchObject({ locked: true, scope: "user" });
    expect(t.check("wang.wei", "10.0.0.1")).toEqual({ locked: false });
    clock.advance(15 * 60_000);
    expect(t.check("li.na", "10.0.0.1")).toEqual({ locked: false });
    // failures outside the window do not add up
    t.failure("wang.wei", "10.0.0.9");
    clock.advance(16 * 60_000);
    for (let i = 0; i < 4; i++) t.failure("wang.wei", "10.0.0.9");
    expect(t.check("wang.wei", "10.0.0.9")).toEqual({ locked: false });
    t.success("wang.wei");
    // one address trying many usernames
    let state = t.check("u0", "10.9.9.9");
    for (let i = 0; i < 20; i++) state = t.failure(`user${i}`, "10.9.9.9");
    expect(state).toMatchObject({ locked: true, scope: "address" });
    expect(t.check("zhao.min", "10.9.9.9")).toMatchObject({ locked: true, scope: "address" });
  });

  it("demo users are refused in production", async () => {
    const file = loadConsoleConfig({ GRPC_PLAINTEXT_DEV: "1" }).CONSOLE_USERS_FILE;
    await expect(loadUsers(file, { production: true })).rejects.toThrow(
      /demo users \(li.na, wang.wei, zhao.min, chen.jie, sun.li\) are refused in production/,
    );
    expect((await loadUsers(file)).every((u) => u.demo)).toBe(true);
  });

  it("config: production needs an https origin and refuses the insecure-cookie exception", () => {
    expect(() => loadConsoleConfig({ NODE_ENV: "production" })).toThrow(
      /CONSOLE_PUBLIC_ORIGIN: required in production/,
    );
    expect(() =>
      loadConsoleConfig({
        NODE_ENV: "production",
        CONSOLE_PUBLIC_ORIGIN: "https://console.example.com",
        CONSOLE_DEV_INSECURE_COOKIE: "true",
      }),
    ).toThrow(/CONSOLE_DEV_INSECURE_COOKIE/);
    expect(() => loadConsoleConfig({ CONSOLE_PUBLIC_ORIGIN: "https://x.example.com/path", GRPC_PLAINTEXT_DEV: "1" })).toThrow(
      /CONSOLE_PUBLIC_ORIGIN/,
    );
    expect(
      loadConsoleConfig({ NODE_ENV: "production", CONSOLE_PUBLIC_ORIGIN: "https://console.example.com", ...TLS })
        .CONSOLE_DEV_INSECURE_COOKIE,
    ).toBe("false");
    expect(loadConsoleConfig({ CONSOLE_PORT: "9000", GRPC_PLAINTEXT_DEV: "1" }).CONSOLE_PORT).toBe(9000);
    // mutual TLS to the services: the three files, or the development flag outside production
    expect(() => loadConsoleConfig({ CONSOLE_PORT: "9000" })).toThrow(/TLS_CA_FILE: required/);
  });
});

describe("gRPC errors as HTTP", () => {
  it("a compliance refusal keeps the rule from ErrorInfo and its metadata", () => {
    const err = new GrpcError(
      GrpcStatus.FAILED_PRECONDITION,
      "no collection contact between 22:00 and 08:00",
      {
        violations: [],
        reason: "CN_QUIET_HOURS",
        domain: "whiteslip",
        metadata: { rule: "CN_QUIET_HOURS", citation: "个人消费类贷款催收工作指引" },
      },
    );
    expect(toHttpError(err, "collections")).toEqual({
      status: 400,
      unexpected: false,
      body: {
        error: {
          code: "FAILED_PRECONDITION",
          message: "no collection contact between 22:00 and 08:00",
          reason: "CN_QUIET_HOURS",
          metadata: { rule: "CN_QUIET_HOURS", citation: "个人消费类贷款催收工作指引" },
          service: "collections",
        },
      },
    });
  });

  it("maps codes as google/rpc/code.proto does, with field violations; internal errors leak nothing", () => {
    expect(HTTP_OF_GRPC[GrpcStatus.NOT_FOUND]).toBe(404);
    expect(HTTP_OF_GRPC[GrpcStatus.PERMISSION_DENIED]).toBe(403);
    expect(HTTP_OF_GRPC[GrpcStatus.UNAVAILABLE]).toBe(503);
    expect(HTTP_OF_GRPC[GrpcStatus.RESOURCE_EXHAUSTED]).toBe(429);
    const bad = new GrpcError(GrpcStatus.INVALID_ARGUMENT, "bad", {
      violations: [{ field: "amount_fen", description: "must be > 0" }],
      reason: "INVALID_ARGUMENT",
      domain: "whiteslip",
      metadata: {},
    });
    expect(toHttpError(bad).body.error.violations).toEqual([
      { field: "amount_fen", description: "must be > 0" },
    ]);
    const internal = toHttpError(new GrpcError(GrpcStatus.INTERNAL, "stack trace with secrets"));
    expect(internal).toMatchObject({ status: 500, unexpected: true });
    expect(internal.body.error.message).not.toContain("secrets");
    expect(toHttpError(new Error("boom"))).toMatchObject({
      status: 500,
      body: { error: { code: "INTERNAL", message: "internal error" } },
    });
    expect(toHttpError(forbidden("CASE_NOT_ASSIGNED_TO_YOU", "no"))).toMatchObject({
      status: 403,
      body: { error: { reason: "CASE_NOT_ASSIGNED_TO_YOU" } },
    });
  });
});

describe("portfolio helpers", () => {
  it("turns notification's portfolio counts into chart rows", () => {
    const C = notification.Channel;
    const S = notification.DeliveryStatus;
    expect(
      chartRows([
        { channel: C.SMS, status: S.FAILED, count: 2n },
        { channel: C.IN_APP, status: S.DELIVERED, count: 1n },
        { channel: C.EMAIL, status: S.SCHEDULED, count: 1n },
        { channel: C.SMS, status: S.DELIVERED, count: 0n },
      ]),
    ).toEqual([
      { channel: "EMAIL", status: "SCHEDULED", count: 1 },
      { channel: "IN_APP", status: "DELIVERED", count: 1 },
      { channel: "SMS", status: "FAILED", count: 2 },
    ]);
    expect(chartRows([])).toEqual([]);
  });
});
