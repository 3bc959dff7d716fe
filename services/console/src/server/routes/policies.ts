/**
 * The portfolio charts and the policy tables. Only a risk manager edits a table (need("policy:edit")); the owning
 * service validates it, checks the version read (409 ABORTED when someone saved in between) and records the
 * signed-in user as the actor. For the strategy table a risk manager can also check an edit without saving it
 * (collections' own validation, banned claims refused with their CN_TEXT_* codes), run a small what-if simulation of
 * it next to the table in force, promote a challenger to champion with a reason, and read the audit trail.
 */
import { fromJson, type JsonValue, toJson } from "@bufbuild/protobuf";
import { collections, notification } from "@whiteslip/contracts";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { check } from "../authz";
import { badRequest, HttpError } from "../errors";
import { portfolioView } from "../portfolio";
import { JSON_OPTS, param, parseBody, type RouteContext, userOf } from "./context";
import { strategyTableFromProto, WHAT_IF_LIMITS, whatIf } from "@whiteslip/simulator";

const versioned = z.object({
  expectedVersion: z.number({ error: "must be the version read (an integer)" }).int({ error: "must be the version read (an integer)" }),
});
const strategiesForm = versioned.extend({
  table: z.unknown(),
  reason: z.string().max(500, { error: "must be at most 500 characters" }).optional(),
});
const promoteForm = versioned.extend({
  challengerId: z.string().min(1, { error: "must name a challenger" }),
  reason: z.string().trim().min(1, { error: "must say why" }).max(500, { error: "must be at most 500 characters" }),
  keepFormerChampion: z.boolean().optional(),
});
const whatIfForm = z.object({
  table: z.unknown(),
  accounts: z.number().int().min(1).max(WHAT_IF_LIMITS.maxAccounts, { error: `at most ${WHAT_IF_LIMITS.maxAccounts}` }).default(150),
  days: z.number().int().min(1).max(WHAT_IF_LIMITS.maxDays, { error: `at most ${WHAT_IF_LIMITS.maxDays}` }).default(60),
  seed: z.number().int().min(0).max(2 ** 31).default(1),
});
const changesQuery = z.object({ beforeVersion: z.coerce.number().int().min(0).default(0) });

/** bigint → string in a what-if result (JSON has no bigint). */
const jsonSafe = (v: unknown): unknown =>
  JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x)));
const cadenceForm = versioned.extend({ rules: z.array(z.unknown(), { error: "must be a list of rules" }) });

/** Decodes proto JSON from a request body; a shape error becomes a 400 naming `field`. */
function protoJson<T>(decode: () => T, field: string): T {
  try {
    return decode();
  } catch (e) {
    throw badRequest([{ field, description: (e as Error).message }]);
  }
}

export function policyRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { clients: c, call, need } = ctx;

  app.get("/api/portfolio", { preHandler: need("portfolio:read") }, async () => portfolioView(c));

  app.get("/api/policies", { preHandler: need("policy:read") }, async (req) => {
    const editable = check(userOf(req), "policy:edit").allowed;
    const [stats, strategies, cadence, changes] = await Promise.all([
      call("collections", c.collections.getCollectionsStats({})),
      call("collections", c.collections.getStrategies({})),
      call("notification", c.notification.getCadencePolicy({})),
      call("collections", c.collections.listStrategyChanges({ pageSize: 10 })),
    ]);
    return {
      strategies: stats.strategies.map((s) => toJson(collections.StrategyStatsSchema, s, JSON_OPTS)),
      strategyChanges: changes.changes.map((x) => toJson(collections.StrategyChangeSchema, x, JSON_OPTS)),
      strategyTable: toJson(collections.StrategyTableVersionSchema, strategies.current!, JSON_OPTS),
      cadencePolicy: toJson(notification.CadencePolicyVersionSchema, cadence.current!, JSON_OPTS),
      editable: { strategies: editable, notificationCadence: editable },
    };
  });

  app.put("/api/policies/:table", { preHandler: need("policy:edit") }, async (req) => {
    const user = userOf(req);
    const table = param(req, "table");
    if (table === "strategies") {
      const form = parseBody(strategiesForm, req);
      const parsed = protoJson(() => fromJson(collections.StrategyTableSchema, form.table as JsonValue), "table");
      const r = await call(
        "collections",
        c.collections.updateStrategies({
          table: parsed,
          expectedVersion: form.expectedVersion,
          actor: user.username,
          reason: form.reason ?? "",
        }),
      );
      return { strategyTable: toJson(collections.StrategyTableVersionSchema, r.current!, JSON_OPTS) };
    }
    if (table === "notification-cadence") {
      const form = parseBody(cadenceForm, req);
      const rules = form.rules.map((r, i) => protoJson(() => fromJson(notification.CadenceRuleSchema, r as JsonValue), `rules[${i}]`));
      const r = await call(
        "notification",
        c.notification.updateCadencePolicy({ rules, expectedVersion: form.expectedVersion, actor: user.username }),
      );
      return { cadencePolicy: toJson(notification.CadencePolicyVersionSchema, r.current!, JSON_OPTS) };
    }
    throw new HttpError(404, { error: { code: "NOT_FOUND", message: "no such policy table (strategies, notification-cadence)" } });
  });

  // Checks an edited strategy table exactly as a save would (collections validates; nothing is stored).
  app.post("/api/policies/strategies/check", { preHandler: need("policy:edit") }, async (req) => {
    const form = parseBody(strategiesForm, req);
    const parsed = protoJson(() => fromJson(collections.StrategyTableSchema, form.table as JsonValue), "table");
    await call(
      "collections",
      c.collections.updateStrategies({
        table: parsed,
        expectedVersion: form.expectedVersion,
        actor: userOf(req).username,
        validateOnly: true,
      }),
    );
    return { ok: true };
  });

  app.post("/api/policies/strategies/promote", { preHandler: need("policy:edit") }, async (req) => {
    const form = parseBody(promoteForm, req);
    const r = await call(
      "collections",
      c.collections.promoteChallenger({
        challengerId: form.challengerId,
        expectedVersion: form.expectedVersion,
        reason: form.reason,
        actor: userOf(req).username,
        keepFormerChampion: form.keepFormerChampion ?? false,
      }),
    );
    return {
      strategyTable: toJson(collections.StrategyTableVersionSchema, r.current!, JSON_OPTS),
      change: toJson(collections.StrategyChangeSchema, r.change!, JSON_OPTS),
    };
  });

  app.get("/api/policies/strategies/changes", { preHandler: need("policy:read") }, async (req) => {
    const q = changesQuery.safeParse(req.query ?? {});
    if (!q.success) throw badRequest([{ field: "beforeVersion", description: "must be 0 or a version" }]);
    const r = await call(
      "collections",
      c.collections.listStrategyChanges({ pageSize: 20, beforeVersion: q.data.beforeVersion }),
    );
    return { changes: r.changes.map((x) => toJson(collections.StrategyChangeSchema, x, JSON_OPTS)) };
  });

  // A small what-if of an edited table next to the table in force, in this process: one at a time (the run is
  // CPU-bound and bounded by WHAT_IF_LIMITS), after collections has checked the edit.
  let whatIfRunning = false;
  app.post("/api/policies/strategies/what-if", { preHandler: need("policy:edit") }, async (req) => {
    const form = parseBody(whatIfForm, req);
    const parsed = protoJson(() => fromJson(collections.StrategyTableSchema, form.table as JsonValue), "table");
    if (whatIfRunning)
      throw new HttpError(429, { error: { code: "RESOURCE_EXHAUSTED", reason: "WHAT_IF_BUSY", message: "a what-if is running; try again in a moment" } });
    whatIfRunning = true;
    try {
      const current = (await call("collections", c.collections.getStrategies({}))).current!;
      await call(
        "collections",
        c.collections.updateStrategies({
          table: parsed,
          expectedVersion: current.version,
          actor: userOf(req).username,
          validateOnly: true,
        }),
      );
      const edited = strategyTableFromProto(parsed);
      const inForce = strategyTableFromProto(current.table);
      if (!edited || !inForce) throw badRequest([{ field: "table.champion", description: "must be set" }]);
      return jsonSafe(whatIf({ edited, current: inForce, accounts: form.accounts, days: form.days, seed: form.seed }));
    } finally {
      whatIfRunning = false;
    }
  });
}
