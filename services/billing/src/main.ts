/**
 * Billing: reads config, wires repositories, use cases, gRPC, the credit-line
 * consumer and the outbox relay, and starts. `startBilling` is also what the
 * platform runner and other services' integration tests call in-process.
 */
import { z } from "@whiteslip/config";
import { billing } from "@whiteslip/contracts";
import { type Clock, dateInZone } from "@whiteslip/core";
import { service, withPolicy } from "@whiteslip/grpc";
import { runMain, type RunningService, startService } from "@whiteslip/runtime";
import type { BillingDeps, EodHooks } from "./app/ports";
import { EndOfDayRunner } from "./app/run-end-of-day";
import { accountsCollection, ensureAccountIndexes, MongoAccounts } from "./adapters/mongo-accounts";
import { MongoBusinessDates, MongoEodRuns } from "./adapters/mongo-eod";
import { billingHandlers } from "./adapters/grpc-handlers";
import { billingPolicy } from "./adapters/grpc-policy";
import { creditLineSubscriptions } from "./adapters/credit-consumer";
import { defaultProduct, parseProducts, productCatalog } from "./domain/product";

/** Billing's own configuration variables (on top of the platform's base ones). */
export const configShape = {
  /** JSON array of products (fields of ProductConfig; money as fen strings); empty = the default product. */
  BILLING_PRODUCTS_JSON: z.string().optional(),
  /** Accounts per end-of-day page (one read + one bulk write each). */
  EOD_PAGE_SIZE: z.coerce.number().int().min(1).max(10_000).default(1000),
  /**
   * Minutes after the end of business date D (midnight in BUSINESS_TIME_ZONE) before end-of-day D may run,
   * so that the day's last transactions land first. The CronJob runs at 00:05; keep this below 5.
   */
  EOD_CUTOFF_MINUTES: z.coerce.number().min(0).max(720).default(3),
  /** Lease of an end-of-day shard (ms): its owner renews it every third; a dead owner's shard is taken over once it expires. */
  EOD_LEASE_MS: z.coerce.number().int().min(200).max(600_000).default(15_000),
  /** How often (ms, ±20%) each replica's supervisor looks for end-of-day shards whose lease expired. */
  EOD_SUPERVISE_INTERVAL_MS: z.coerce.number().int().min(50).max(600_000).default(5_000),
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
  /** This replica's end-of-day worker. */
  eod: EndOfDayRunner;
}

/** Starts billing in-process; `env` overrides the environment (GRPC_PORT=0 → random port). */
export async function startBilling(opts: { env?: Record<string, string | undefined>; clock?: Clock; hooks?: EodHooks } = {}): Promise<StartedBilling> {
  let deps: BillingDeps | undefined;
  let eod: EndOfDayRunner | undefined;
  const svc = await startService({
    name: "billing",
    configShape,
    ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
    setup: async ({ config, logger, clock, store, bus }) => {
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
        // end-of-day publishes its pages' events itself, right after each page's write (see MongoAccounts)
        accounts: new MongoAccounts(coll, clock, store.db, (events) => bus.publish(events)),
        businessDates: new MongoBusinessDates(store.db),
        runs,
        catalog,
        clock,
        timeZone: config.BUSINESS_TIME_ZONE,
        eodPageSize: config.EOD_PAGE_SIZE,
        eodCutoffMs: config.EOD_CUTOFF_MINUTES * 60_000,
        eodLeaseMs: config.EOD_LEASE_MS,
        ...(opts.hooks ? { hooks: opts.hooks } : {}),
      };
      // The ledger's first business date is the day billing first starts, fixed now rather than by whichever
      // request reads it first (GetPortfolioStats on a fresh deployment used to fix it at 1970-01-01).
      const bd = await deps.businessDates.get(dateInZone(clock.now(), config.BUSINESS_TIME_ZONE));
      // Accounts stored before sparse end-of-day have no agenda entry, so no run would read them: a one-off,
      // idempotent backfill before this replica serves or runs end-of-day (a full scan once per database).
      const backfilled = await (deps.accounts as MongoAccounts).backfillAgenda(bd.current, (code) => catalog.products.get(code));
      if (backfilled > 0) logger.info({ accounts: backfilled, businessDate: bd.current }, "agenda backfill: accounts stored before sparse end-of-day scheduled");
      const runner = new EndOfDayRunner(deps, logger);
      eod = runner;
      // Every replica supervises: a RUNNING shard whose lease expired is taken over within
      // EOD_LEASE_MS + 1.2 × EOD_SUPERVISE_INTERVAL_MS of its owner's last heartbeat. On stop the
      // supervisor ends first, then the runner hands its leases back.
      const supervisor = runner.supervisor(config.EOD_SUPERVISE_INTERVAL_MS);
      return {
        grpc: [withPolicy(service(billing.BillingService, billingHandlers(deps, logger, runner)), billingPolicy)],
        background: [{ start: () => supervisor.start(), stop: async () => { await supervisor.stop(); await runner.stop(); } }],
        consumers: [{ groupId: config.CONSUMER_GROUP, subscriptions: creditLineSubscriptions(deps, logger) }],
        outbox: [coll as never],
      };
    },
  });
  return { grpcPort: svc.grpcPort, stop: svc.stop, service: svc as RunningService<unknown>, deps: deps!, eod: eod! };
}

if (import.meta.url === `file://${process.argv[1]}`) runMain(() => startBilling());
