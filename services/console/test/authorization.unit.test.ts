/** Authorization rules, sessions and passwords, and the gRPC → HTTP error mapping. */
import { notification } from "@whiteslip/contracts";
import { GrpcError, GrpcStatus } from "@whiteslip/grpc";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { authenticate, hashPassword, loadUsers, Sessions, verifyPassword } from "../src/server/auth";
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
import { DEV_SESSION_SECRET, loadConsoleConfig } from "../src/server/config";
import { forbidden, HTTP_OF_GRPC, toHttpError } from "../src/server/errors";
import { chartRows } from "../src/server/portfolio";

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
        ] as const
      ).filter((p) => can(u, p));
    expect(table(agent)).toEqual(["queue:own"]);
    expect(table(supervisor)).toEqual(["queue:all", "case:assign", "agents:read", "portfolio:read"]);
    expect(table(risk)).toEqual(["portfolio:read", "policy:read", "policy:edit"]);
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
    const users = await loadUsers(loadConsoleConfig({}).CONSOLE_USERS_FILE);
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
    expect(await authenticate(users, "li.na", "risk-demo")).toBeNull();
    expect(await authenticate(users, "nobody", "agent1-demo")).toBeNull();
  });

  it("a session token round-trips; a token signed with another key, tampered, expired or with an unknown role is refused", async () => {
    const sessions = new Sessions(DEV_SESSION_SECRET, 60);
    const token = await sessions.issue(agent);
    expect(await sessions.verify(token)).toEqual(agent);
    expect(await new Sessions("another-secret-another-secret-another", 60).verify(token)).toBeNull();
    const [h, p, s] = token.split(".");
    const forged = JSON.parse(Buffer.from(p!, "base64url").toString());
    forged.role = "supervisor";
    expect(
      await sessions.verify(`${h}.${Buffer.from(JSON.stringify(forged)).toString("base64url")}.${s}`),
    ).toBeNull();
    const key = new TextEncoder().encode(DEV_SESSION_SECRET);
    const expired = await new SignJWT({ role: "agent" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("li.na")
      .setIssuer("whiteslip-console")
      .setExpirationTime(Math.floor(Date.now() / 1000) - 10)
      .sign(key);
    expect(await sessions.verify(expired)).toBeNull();
    const admin = await new SignJWT({ role: "admin" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("x")
      .setIssuer("whiteslip-console")
      .setExpirationTime("1h")
      .sign(key);
    expect(await sessions.verify(admin)).toBeNull();
    expect(await sessions.verify(undefined)).toBeNull();
    expect(await sessions.verify("not-a-jwt")).toBeNull();
  });

  it("config refuses a short secret, and the development secret in production", () => {
    expect(() => loadConsoleConfig({ CONSOLE_SESSION_SECRET: "short" })).toThrow(/CONSOLE_SESSION_SECRET/);
    expect(() => loadConsoleConfig({ NODE_ENV: "production" })).toThrow(/must be set in production/);
    expect(loadConsoleConfig({ CONSOLE_PORT: "9000" }).CONSOLE_PORT).toBe(9000);
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
