/**
 * Billing: reads config, wires repositories, use cases, gRPC, the credit-line
 * consumer and the outbox relay, and starts. `startBilling` is also what the
 * platform runner and other services' integration tests call in-process.
 */
import { z } from "@whiteslip/config";
import { billing } from "@whiteslip/contracts";
import type { Clock } from "@whiteslip/core";
import { service } from "@whiteslip/grpc";
import { runMain, type RunningService, startService } from "@whiteslip/runtime";
import type { BillingDeps, EodHooks } from "./app/ports";
import { accountsCollection, ensureAccountIndexes, MongoAccounts } from "./adapters/mongo-accounts";
import { MongoBusinessDates, MongoEodRuns } from "./adapters/mongo-eod";
import { billingHandlers } from "./adapters/grpc-handlers";
import { creditLineSubscriptions } from "./adapters/credit-consumer";
import { defaultProduct, parseProducts, productCatalog } from "./domain/product";

/** Billing's own configuration variables (on top of the platform's base ones). */
export const configShape = {
  /** JSON array of products (fields of ProductConfig; money as fen strings); empty = the default product. */
  BILLING_PRODUCTS_JSON: z.string().optional(),
  /** Accounts per end-of-day page (one read + one bulk write each). */
  EOD_PAGE_SIZE: z.coerce.number().int().min(1).max(10_000).default(1000),
  /** Consumer group of the credit-line consumer (tests give each file its own). */
  CONSUMER_GROUP: z.string().default("billing"),
};

/** A started billing service. */
export interface StartedBilling {
  /** The gRPC port (random when GRPC_PORT=0). */
  grpcPort: number;
  /** Graceful stop. */
  stop(): Promise<void>;
  /** The underlying running service (context, relay). */
  service: RunningService<unknown>;
  /** Use-case dependencies (tests call use cases directly). */
  deps: BillingDeps;
}

/** Starts billing in-process; `env` overrides the environment (GRPC_PORT=0 → random port). */
export async function startBilling(opts: { env?: Record<string, string | undefined>; clock?: Clock; hooks?: EodHooks } = {}): Promise<StartedBilling> {
  let deps: BillingDeps | undefined;
  const svc = await startService({
    name: "billing",
    configShape,
    ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
    setup: async ({ config, logger, clock, store }) => {
      const products = config.BILLING_PRODUCTS_JSON ? parseProducts(config.BILLING_PRODUCTS_JSON) : [defaultProduct];
      const catalog = productCatalog(products); // refuses a product whose interest-free period exceeds 59 days
      const raw = accountsCollection(store.db);
      await ensureAccountIndexes(raw);
      // Account writes and the relay's $pullAll rely on atomic single-document updates (MongoDB; FerretDB as
      // the testkit builds it — see docs/architecture.md), so they need no lock of their own.
      const coll = raw;
      const runs = new MongoEodRuns(store.db);
      await runs.ensureIndexes();
      deps = {
        accounts: new MongoAccounts(coll, clock),
        businessDates: new MongoBusinessDates(store.db),
        runs,
        catalog,
        clock,
        timeZone: config.BUSINESS_TIME_ZONE,
        eodPageSize: config.EOD_PAGE_SIZE,
        ...(opts.hooks ? { hooks: opts.hooks } : {}),
      };
      return {
        grpc: [service(billing.BillingService, billingHandlers(deps, logger))],
        consumers: [{ groupId: config.CONSUMER_GROUP, subscriptions: creditLineSubscriptions(deps, logger) }],
        outbox: [coll as never],
      };
    },
  });
  return { grpcPort: svc.grpcPort, stop: svc.stop, service: svc as RunningService<unknown>, deps: deps! };
}

if (import.meta.url === `file://${process.argv[1]}`) runMain(() => startBilling());
