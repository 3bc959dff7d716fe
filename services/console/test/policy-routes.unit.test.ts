/**
 * The policy routes of the BFF (fastify inject, no network): only a risk manager may PUT a policy table (agents and
 * supervisors get 403 and no service is called); the risk manager's edit goes to the owning service with the
 * signed-in user as the actor and the version read; the service's field violations come back as a 400 body.
 */
import { create, toJson } from "@bufbuild/protobuf";
import { billing, collections, notification } from "@whiteslip/contracts";
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
/** The default table as collections serves it (proto), for the what-if's table in force. */
const defaultTable = () =>
  create(collections.StrategyTableSchema, {
    champion: {
      id: "champion",
      rules: [
        { buckets: [billing.DelinquencyBucket.M2, billing.DelinquencyBucket.M3], treatment: collections.Treatment.AGENT_CALLS },
        { buckets: [billing.DelinquencyBucket.M1], minDpd: 15, treatment: collections.Treatment.AGENT_CALLS },
        { buckets: [billing.DelinquencyBucket.M1], treatment: collections.Treatment.DIGITAL_ONLY },
      ],
    },
    challengers: [
      {
        id: "calls-from-dpd1",
        rules: [{ buckets: [billing.DelinquencyBucket.M1, billing.DelinquencyBucket.M2, billing.DelinquencyBucket.M3], treatment: collections.Treatment.AGENT_CALLS }],
      },
    ],
    challengerPercent: 50,
  });
const clients = {
  collections: {
    getStrategies: async () => ({ current: create(collections.StrategyTableVersionSchema, { table: defaultTable(), version: 7 }) }),
    promoteChallenger: async (req: any) => {
      calls.push({ rpc: "promoteChallenger", req });
      if (req.challengerId === "nope")
        throw new GrpcError(GrpcStatus.NOT_FOUND, "challenger strategy nope not found", {
          violations: [],
          reason: "CHALLENGER_STRATEGY_NOT_FOUND",
          domain: "whiteslip",
          metadata: {},
        });
      return {
        current: version(req.expectedVersion + 1),
        change: create(collections.StrategyChangeSchema, {
          version: req.expectedVersion + 1,
          previousVersion: req.expectedVersion,
          kind: collections.StrategyChangeKind.PROMOTION,
          actor: `console:${req.actor}`,
          reason: req.reason,
          promotedStrategyId: req.challengerId,
          formerChampionId: "champion",
        }),
      };
    },
    updateStrategies: async (req: any) => {
      calls.push({ rpc: "updateStrategies", req });
      if (req.validateOnly && JSON.stringify(req.table).includes("黑名单"))
        throw new GrpcError(GrpcStatus.INVALID_ARGUMENT, "invalid", {
          violations: [{ field: "table.champion.rules[0].path[0].text", description: 'CN_TEXT_FAKE_BLACKLIST: "黑名单"' }],
          reason: "INVALID_ARGUMENT",
          domain: "whiteslip",
          metadata: {},
        });
      if (req.validateOnly) return { current: version(req.expectedVersion) };
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

async function put(who: keyof typeof users, table: string, body: unknown, method: "PUT" | "POST" = "PUT") {
  const { token, session } = sessions.create(users[who]!);
  return app.inject({
    method,
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

describe("checking, trying and promoting a strategy table", () => {
  const tableJson = () => toJson(collections.StrategyTableSchema, defaultTable()) as any;

  it("only a risk manager checks, simulates or promotes; others get 403 and no service is called", async () => {
    const n = calls.length;
    for (const who of ["agent", "supervisor"] as const) {
      expect((await put(who, "strategies/check", { table: tableJson(), expectedVersion: 7 }, "POST")).statusCode).toBe(403);
      expect((await put(who, "strategies/what-if", { table: tableJson() }, "POST")).statusCode).toBe(403);
      expect(
        (await put(who, "strategies/promote", { challengerId: "calls-from-dpd1", expectedVersion: 7, reason: "x" }, "POST")).statusCode,
      ).toBe(403);
    }
    expect(calls.length).toBe(n);
  });

  it("check at edit time: collections' refusal comes back with its rule code; nothing is saved", async () => {
    const banned = tableJson();
    banned.champion.rules[2].path = [{ dpd: 1, channel: "STEP_CHANNEL_SMS", template: "overdue-notice@1", text: "不还将列入黑名单" }];
    const r = await put("risk", "strategies/check", { table: banned, expectedVersion: 7 }, "POST");
    expect(r.statusCode).toBe(400);
    expect(r.json().error.violations[0].description).toMatch(/^CN_TEXT_FAKE_BLACKLIST/);
    expect(calls.at(-1)).toMatchObject({ rpc: "updateStrategies", req: { validateOnly: true, actor: "chen.jie" } });
    const ok = await put("risk", "strategies/check", { table: tableJson(), expectedVersion: 7 }, "POST");
    expect(ok.json()).toEqual({ ok: true });
  });

  it("a promotion goes to collections with the reason and the version read, and returns the audit record", async () => {
    const r = await put("risk", "strategies/promote", { challengerId: "calls-from-dpd1", expectedVersion: 7, reason: "cures more, p = 0.01" }, "POST");
    expect(r.statusCode).toBe(200);
    expect(calls.at(-1)).toMatchObject({
      rpc: "promoteChallenger",
      req: { challengerId: "calls-from-dpd1", expectedVersion: 7, reason: "cures more, p = 0.01", actor: "chen.jie" },
    });
    expect(r.json().change).toMatchObject({
      kind: "STRATEGY_CHANGE_KIND_PROMOTION",
      version: 8,
      previousVersion: 7,
      promotedStrategyId: "calls-from-dpd1",
      formerChampionId: "champion",
    });
    const n = calls.length;
    expect((await put("risk", "strategies/promote", { challengerId: "calls-from-dpd1", expectedVersion: 7, reason: " " }, "POST")).json().error.violations[0].field).toBe("reason");
    expect(calls.length).toBe(n);
    expect((await put("risk", "strategies/promote", { challengerId: "nope", expectedVersion: 7, reason: "x" }, "POST")).statusCode).toBe(404);
  });

  it("a what-if plays the edited table next to the one in force on the simulator, bounded", async () => {
    const edited = tableJson();
    edited.challengerPercent = 0;
    edited.challengers = [];
    const r = await put("risk", "strategies/what-if", { table: edited, accounts: 40, days: 20, seed: 3 }, "POST");
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body.edited.map((a: any) => a.strategyId)).toEqual(["champion"]);
    expect(body.current.map((a: any) => a.strategyId)).toEqual(["champion", "calls-from-dpd1"]);
    expect(body.edited[0].accounts).toBe(40);
    expect(typeof body.edited[0].costFen).toBe("string");
    // the edit was checked by collections first
    expect(calls.at(-1)).toMatchObject({ rpc: "updateStrategies", req: { validateOnly: true, expectedVersion: 7 } });
    const big = await put("risk", "strategies/what-if", { table: edited, accounts: 100_000 }, "POST");
    expect(big.statusCode).toBe(400);
    expect(big.json().error.violations[0].field).toBe("accounts");
  });
});
