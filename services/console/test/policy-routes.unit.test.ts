/**
 * The policy routes of the BFF (fastify inject, no network): only a risk manager may PUT a policy table (agents and
 * supervisors get 403 and no service is called); the risk manager's edit goes to the owning service with the
 * signed-in user as the actor and the version read; the service's field violations come back as a 400 body.
 */
import { create } from "@bufbuild/protobuf";
import { collections, notification } from "@whiteslip/contracts";
import { ManualClock } from "@whiteslip/core";
import { GrpcError, GrpcStatus } from "@whiteslip/grpc";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sessionCookieName } from "../src/server/auth";
import type { SessionUser } from "../src/server/authz";
import type { ServiceClients } from "../src/server/clients";
import { SessionStore } from "../src/server/sessions";
import { testApp } from "./support/app";

const users: Record<string, SessionUser> = {
  agent: { username: "li.na", role: "agent", agentId: "agent-m1-1", displayName: "Li Na" },
  supervisor: { username: "zhao.min", role: "supervisor", displayName: "Zhao Min" },
  risk: { username: "chen.jie", role: "risk_manager", displayName: "Chen Jie" },
};
const calls: { rpc: string; req: any }[] = [];
const version = (v: number) =>
  create(collections.StrategyTableVersionSchema, {
    table: { champion: { id: "champion", rules: [] }, challengerPercent: 20 },
    version: v,
  });
const clients = {
  collections: {
    updateStrategies: async (req: any) => {
      calls.push({ rpc: "updateStrategies", req });
      if (req.table.challengerPercent > 100)
        throw new GrpcError(GrpcStatus.INVALID_ARGUMENT, "invalid", {
          violations: [{ field: "table.challenger_percent", description: "must be between 0 and 100" }],
          reason: "INVALID_ARGUMENT",
          domain: "whiteslip",
          metadata: {},
        });
      return { current: version(req.expectedVersion + 1) };
    },
  },
  notification: {
    updateCadencePolicy: async (req: any) => {
      calls.push({ rpc: "updateCadencePolicy", req });
      return {
        current: create(notification.CadencePolicyVersionSchema, { version: req.expectedVersion + 1 }),
      };
    },
  },
} as unknown as ServiceClients;

let app: FastifyInstance;
const clock = new ManualClock("2026-12-01T02:00:00Z");
const sessions = new SessionStore(clock, 60);

async function put(who: keyof typeof users, table: string, body: unknown) {
  const { token, session } = sessions.create(users[who]!);
  return app.inject({
    method: "PUT",
    url: `/api/policies/${table}`,
    cookies: { [sessionCookieName(false)]: token },
    // the page's own origin and the session's CSRF token, as the SPA sends them
    headers: { origin: "http://localhost:80", "x-csrf-token": session.csrfToken },
    payload: body as never,
  });
}

beforeAll(async () => {
  app = await testApp({ clients, sessions, clock });
});
afterAll(async () => app?.close());

describe("policy table edits through the console", () => {
  const strategies = { table: { champion: { id: "champion" }, challengerPercent: 30 }, expectedVersion: 4 };
  const cadence = { rules: [{ id: "due-soon", channels: ["CHANNEL_SMS"] }], expectedVersion: 2 };

  it("agents and supervisors are refused (403) and no service is called", async () => {
    for (const who of ["agent", "supervisor"] as const)
      for (const [table, body] of [
        ["strategies", strategies],
        ["notification-cadence", cadence],
      ] as const) {
        const r = await put(who, table, body);
        expect(r.statusCode, `${who} ${table}`).toBe(403);
      }
    expect(calls).toEqual([]);
  });

  it("a risk manager's edit reaches the owning service with the actor and the version read", async () => {
    const r = await put("risk", "strategies", strategies);
    expect(r.statusCode).toBe(200);
    expect(r.json().strategyTable.version).toBe(5);
    expect(calls.at(-1)).toMatchObject({
      rpc: "updateStrategies",
      req: {
        actor: "chen.jie",
        expectedVersion: 4,
        table: { challengerPercent: 30, champion: { id: "champion" } },
      },
    });
    const c = await put("risk", "notification-cadence", cadence);
    expect(c.statusCode).toBe(200);
    expect(calls.at(-1)).toMatchObject({
      rpc: "updateCadencePolicy",
      req: {
        actor: "chen.jie",
        expectedVersion: 2,
        rules: [{ id: "due-soon", channels: [notification.Channel.SMS] }],
      },
    });
  });

  it("the service's field violations come back as 400; malformed bodies are refused before any call", async () => {
    const r = await put("risk", "strategies", { ...strategies, table: { challengerPercent: 101 } });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.violations).toEqual([
      { field: "table.challenger_percent", description: "must be between 0 and 100" },
    ]);
    const n = calls.length;
    expect((await put("risk", "strategies", { table: {} })).json().error.violations[0].field).toBe(
      "expectedVersion",
    );
    expect((await put("risk", "strategies", { table: { nope: 1 }, expectedVersion: 1 })).statusCode).toBe(
      400,
    );
    expect((await put("risk", "notification-cadence", { rules: "x", expectedVersion: 1 })).statusCode).toBe(
      400,
    );
    expect((await put("risk", "other", { expectedVersion: 1 })).statusCode).toBe(404);
    expect(calls.length).toBe(n);
  });
});
