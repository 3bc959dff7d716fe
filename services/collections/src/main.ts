/**
 * Collections service entry point: reads config, wires repositories, billing's gRPC client, consumers, the daily
 * promise check and the gRPC server; nothing else. Run alone with `pnpm --filter @whiteslip/collections start`.
 */
import { fileURLToPath } from "node:url";
import { localAddress, z } from "@whiteslip/config";
import type { Clock } from "@whiteslip/core";
import { every, runMain, startService } from "@whiteslip/runtime";
import { GrpcBilling } from "./adapters/billing-client";
import { collectionsSubscriptions } from "./adapters/consumers";
import { withPolicy } from "@whiteslip/grpc";
import { collectionsService } from "./adapters/grpc-handlers";
import { collectionsPolicy } from "./adapters/grpc-policy";
import { MongoAgentRepository, MongoRiskTierRepository } from "./adapters/mongo-agents";
import { ensureCaseIndexes, MongoCaseRepository } from "./adapters/mongo-cases";
import { MongoStrategyTable } from "./adapters/mongo-strategies";
import { buildPolicy, loadAgents, loadContactCosts, loadStrategies, parseProductLocales } from "./adapters/policy";
import { checkPromises } from "./app/check-promises";
import type { Deps } from "./app/ports";

const DEFAULT_AGENTS_FILE = fileURLToPath(new URL("../config/agents.json", import.meta.url));
const DEFAULT_CONTACT_COSTS_FILE = fileURLToPath(new URL("../config/contact-costs.json", import.meta.url));

/** Collections' own configuration variables (on top of the platform's base ones). */
export const configShape = {
  /** Billing's gRPC address (host:port). */
  // billing's local-run address by default (it used to default to credit's port)
  BILLING_ADDR: z.string().min(1).default(localAddress("billing")),
  /** Consumer group; tests give each file its own. */
  CONSUMER_GROUP: z.string().min(1).default("collections"),
  /** Share of accounts (0–100) assigned to challenger strategies. */
  CHALLENGER_PERCENT: z.coerce.number().min(0).max(100).default(20),
  /**
   * JSON file with `{ champion, challengers }` strategies; built-in defaults when unset. Only seeds the stored table
   * (`strategy_policy`, edited through UpdateStrategies) when the database has none, as does CHALLENGER_PERCENT.
   */
  STRATEGIES_FILE: z.string().optional(),
  /** How often the stored strategy table is re-read (changes made through another instance apply within it), ms. */
  STRATEGY_REFRESH_MS: z.coerce.number().int().min(50).default(5_000),
  /** JSON file of the cost of one contact per channel in fen (`{ "CALL": "300", … }`), priced in GetCollectionsStats. */
  CONTACT_COSTS_FILE: z.string().default(DEFAULT_CONTACT_COSTS_FILE),
  /** JSON file of seed agents (inserted when missing); `none` to seed nothing. */
  AGENTS_FILE: z.string().default(DEFAULT_AGENTS_FILE),
  /** Jurisdiction and time zone per product, e.g. `US_BNPL=US:America/New_York`. */
  PRODUCT_LOCALES: z.string().default(""),
  /** Jurisdiction of products not listed. */
  DEFAULT_JURISDICTION: z.enum(["CN", "US"]).default("CN"),
  /** Customer time zone of products not listed. */
  DEFAULT_TIME_ZONE: z.string().default("Asia/Shanghai"),
  /** Creditor named in legal notices. */
  CREDITOR_NAME: z.string().min(1).default("白条消费金融有限公司 (Whiteslip Consumer Finance Co., Ltd.)"),
  /** Most fees waived per case for hardship, in fen. */
  WAIVER_MAX_PER_CASE_FEN: z.coerce.bigint().nonnegative().default(50_000n),
  /** How often the promise check runs, ms (it breaks only promises dated before today, so running often is safe). */
  PROMISE_CHECK_INTERVAL_MS: z.coerce.number().int().min(50).default(60_000),
};

/** Starts collections; the platform runner and integration tests call this in-process. */
export async function startCollections(
  opts: { env?: Record<string, string | undefined>; clock?: Clock } = {},
): Promise<{
  grpcPort: number;
  /** The outbox relay (tests flush it as a barrier). */
  relay: { flush(): Promise<number> };
  stop(): Promise<void>;
}> {
  let billingClient: GrpcBilling | undefined;
  const svc = await startService({
    name: "collections",
    configShape,
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
    setup: async ({ config, logger, clock, store, pii, grpcCredentials }) => {
      // Single-document updates are atomic (MongoDB; FerretDB as the testkit builds it, see docs/architecture.md),
      // so the repository's versioned saves and the relay's $pullAll need no lock of their own.
      const casesColl = store.db.collection("cases");
      await ensureCaseIndexes(casesColl);
      const agents = new MongoAgentRepository(store.db.collection("agents"), pii);
      await agents.ensureIndexes();
      if (config.AGENTS_FILE !== "none") await agents.seed(await loadAgents(config.AGENTS_FILE));
      const strategyTable = new MongoStrategyTable(
        store.db,
        await loadStrategies(config.STRATEGIES_FILE, config.CHALLENGER_PERCENT),
        config.STRATEGY_REFRESH_MS,
        (e) =>
          logger.warn({ err: (e as Error).message }, "strategy table refresh failed; keeping the last one"),
      );
      await strategyTable.seed(clock.now());
      billingClient = new GrpcBilling(config.BILLING_ADDR, logger, grpcCredentials);
      const deps: Deps = {
        cases: new MongoCaseRepository(casesColl),
        agents,
        tiers: new MongoRiskTierRepository(store.db.collection("riskTiers")),
        billing: billingClient,
        clock,
        policy: buildPolicy({
          strategies: () => strategyTable.inForce,
          productLocales: parseProductLocales(config.PRODUCT_LOCALES),
          defaultLocale: { jurisdiction: config.DEFAULT_JURISDICTION, timeZone: config.DEFAULT_TIME_ZONE },
          creditor: config.CREDITOR_NAME,
          waiverMaxPerCaseFen: config.WAIVER_MAX_PER_CASE_FEN,
          businessTimeZone: config.BUSINESS_TIME_ZONE,
          contactCostFen: await loadContactCosts(config.CONTACT_COSTS_FILE),
        }),
        strategyTable,
      };
      // the one scheduler (in-flight guard, jitter, clean stop), as every periodic job of the platform
      const promiseCheck = every({ name: "promise check", intervalMs: config.PROMISE_CHECK_INTERVAL_MS, logger }, async () => {
        const r = await checkPromises(deps);
        if (r.broken > 0) logger.info(r, "promise check broke promises");
      });
      return {
        grpc: [withPolicy(collectionsService(deps), collectionsPolicy)],
        consumers: [
          { groupId: config.CONSUMER_GROUP, subscriptions: collectionsSubscriptions(deps, logger) },
        ],
        outbox: [casesColl],
        sealed: [{ collection: agents.coll, fields: ["displayName"] }],
        background: [promiseCheck, strategyTable],
        onStop: async () => billingClient?.close(),
      };
    },
  });
  return { grpcPort: svc.grpcPort, relay: svc.relay, stop: svc.stop };
}

if (import.meta.url === `file://${process.argv[1]}`) runMain(() => startCollections());
