/**
 * The portfolio charts and the policy tables. Only a risk manager edits a table (need("policy:edit")); the owning
 * service validates it, checks the version read (409 ABORTED when someone saved in between) and records the
 * signed-in user as the actor.
 */
import { fromJson, type JsonValue, toJson } from "@bufbuild/protobuf";
import { collections, notification } from "@whiteslip/contracts";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { check } from "../authz";
import { badRequest, HttpError } from "../errors";
import { portfolioView } from "../portfolio";
import { JSON_OPTS, param, parseBody, type RouteContext, userOf } from "./context";

const versioned = z.object({
  expectedVersion: z.number({ error: "must be the version read (an integer)" }).int({ error: "must be the version read (an integer)" }),
});
const strategiesForm = versioned.extend({ table: z.unknown() });
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

  app.put("/api/policies/:table", { preHandler: need("policy:edit") }, async (req) => {
    const user = userOf(req);
    const table = param(req, "table");
    if (table === "strategies") {
      const form = parseBody(strategiesForm, req);
      const parsed = protoJson(() => fromJson(collections.StrategyTableSchema, form.table as JsonValue), "table");
      const r = await call(
        "collections",
        c.collections.updateStrategies({ table: parsed, expectedVersion: form.expectedVersion, actor: user.username }),
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
}
