/**
 * The credit service: reads config, wires repositories, use cases, gRPC, Kafka
 * consumers, the outbox relay and the background loops (hold expiry, periodic
 * rescoring), and starts. Run alone with `pnpm --filter @whiteslip/credit start`.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { z } from "@whiteslip/config";
import type { Clock } from "@whiteslip/core";
import { every, type RunningService, runMain, startService } from "@whiteslip/runtime";
import type { CreditDeps } from "./app/deps";
import { expireHolds, sweepReservations } from "./app/expire-holds";
import { type RescoringRunResult, runRescoring } from "./app/run-rescoring";
import { DEFAULT_POLICY, FEATURES, type Feature } from "./domain/policy";
import type { ScorecardModel } from "./domain/scorecard";
import { withPolicy } from "@whiteslip/grpc";
import { creditGrpcService } from "./adapters/grpc-handlers";
import { creditPolicy } from "./adapters/grpc-policy";
import { creditSubscriptions } from "./adapters/kafka-consumers";
import { CUSTOMER_SEALED, MongoApplications, MongoAuthorizations, MongoCreditLines, MongoCustomers, MongoReservationIntents, creditCollections } from "./adapters/mongo-repositories";

const featureList = z
  .string()
  .transform((s) => s.split(",").map((x) => x.trim()).filter(Boolean))
  .pipe(z.array(z.enum(FEATURES as [Feature, ...Feature[]])));

/** The credit service's own configuration variables (on top of the platform's base ones). */
export const configShape = {
  /** Consumer group (tests give each file its own). */
  CONSUMER_GROUP: z.string().default("credit"),
  /** Product code sent to billing with a new line. */
  PRODUCT_CODE: z.string().default(DEFAULT_POLICY.productCode),
  /** Features restricted while overdue, comma-separated (default all four). */
  RESTRICTED_FEATURES: featureList.default([...DEFAULT_POLICY.restrictedFeatures]),
  /** Days past due from which the restrictions apply. */
  RESTRICT_FROM_DPD: z.coerce.number().int().min(1).default(DEFAULT_POLICY.restrictFromDpd),
  /** Days an uncaptured hold lives. */
  HOLD_TTL_DAYS: z.coerce.number().int().min(1).default(DEFAULT_POLICY.holdTtlDays),
  /** How often expired holds are swept, ms; 0 disables the loop. */
  HOLD_SWEEP_INTERVAL_MS: z.coerce.number().int().min(0).default(60_000),
  /** Age after which a group commit's reservations are checked by the sweep (a hold without a record is released), ms. */
  RESERVATION_SWEEP_GRACE_MS: z.coerce.number().int().min(1_000).default(120_000),
  /** Most AuthorizePurchase requests in one group commit. */
  AUTHORIZE_MAX_BATCH: z.coerce.number().int().min(1).max(1_000).default(128),
  /** AuthorizePurchase group commits in flight at once per process. */
  AUTHORIZE_BATCHES_IN_FLIGHT: z.coerce.number().int().min(1).max(16).default(1),
  /**
   * Crash test hook only: when set, every group commit stops forever after its reservations, before its
   * authorization records, once it has written this file (the test then kills the process). Never set in production.
   */
  AUTHORIZE_TEST_PAUSE_FILE: z.string().default(""),
  /** How often the periodic rescoring run is triggered, ms; 0 disables the loop. */
  RESCORING_INTERVAL_MS: z.coerce.number().int().min(0).default(3_600_000),
  /** Days between rescorings of one line (monthly by default). */
  RESCORING_CADENCE_DAYS: z.coerce.number().int().min(1).default(DEFAULT_POLICY.rescoringCadenceDays),
  /** Days after the last delinquency (Overdue or cure) in which rescoring does not increase a line. */
  LINE_INCREASE_COOLING_DAYS: z.coerce.number().int().min(0).max(3650).default(DEFAULT_POLICY.lineIncreaseCoolingDays),
  /** Scorecard artifact to load. */
  SCORECARD_MODEL_PATH: z.string().default(new URL("../models/scorecard-v1.json", import.meta.url).pathname),
};

/** A started credit service. */
export interface CreditService {
  readonly grpcPort: number;
  /** Runs the periodic rescoring now (what the interval triggers). */
  runRescoring(): Promise<RescoringRunResult>;
  /** Expires uncaptured holds now (what the sweep triggers). */
  expireHolds(): Promise<number>;
  /** Sweeps group-commit reservations older than the grace now (what the sweep triggers too). */
  sweepReservations(): Promise<number>;
  /** The running service (context, relay) for tests and tools. */
  readonly service: RunningService<unknown>;
  /** Graceful stop. */
  stop(): Promise<void>;
}


/** Starts the credit service; the platform runner, integration tests and the benchmark call this in-process. */
export async function startCredit(opts: { env?: Record<string, string | undefined>; clock?: Clock } = {}): Promise<CreditService> {
  let deps: CreditDeps | undefined;
  let graceMs = 0;
  const svc = await startService({
    name: "credit",
    configShape,
    ...opts,
    setup: async ({ config, logger, clock, store, pii }) => {
      const model = JSON.parse(readFileSync(config.SCORECARD_MODEL_PATH, "utf8")) as ScorecardModel;
      const c = await creditCollections(store.db);
      deps = {
        clock,
        timeZone: config.BUSINESS_TIME_ZONE,
        policy: {
          ...DEFAULT_POLICY,
          productCode: config.PRODUCT_CODE,
          restrictedFeatures: config.RESTRICTED_FEATURES,
          restrictFromDpd: config.RESTRICT_FROM_DPD,
          holdTtlDays: config.HOLD_TTL_DAYS,
          rescoringCadenceDays: config.RESCORING_CADENCE_DAYS,
          lineIncreaseCoolingDays: config.LINE_INCREASE_COOLING_DAYS,
        },
        model,
        customers: new MongoCustomers(c.customers),
        applications: new MongoApplications(c.applications),
        lines: new MongoCreditLines(c.lines),
        authorizations: new MongoAuthorizations(c.authorizations),
        intents: new MongoReservationIntents(c.intents),
        groupCommit: {
          maxBatch: config.AUTHORIZE_MAX_BATCH,
          inFlight: config.AUTHORIZE_BATCHES_IN_FLIGHT,
          ...(config.AUTHORIZE_TEST_PAUSE_FILE ? { afterReserve: pauseForever(config.AUTHORIZE_TEST_PAUSE_FILE) } : {}),
        },
        pii,
      };
      const d = deps;
      graceMs = config.RESERVATION_SWEEP_GRACE_MS;
      logger.info({ modelVersion: model.version }, "scorecard loaded");
      return {
        grpc: [withPolicy(creditGrpcService(d, logger), creditPolicy)],
        consumers: [{ groupId: config.CONSUMER_GROUP, subscriptions: creditSubscriptions(d, logger) }],
        outbox: [c.lines],
        sealed: [{ collection: c.customers, ...CUSTOMER_SEALED }],
        // the one scheduler (in-flight guard, jitter, clean stop); an interval of 0 turns a job off
        background: [
          {
            name: "expire-holds",
            intervalMs: config.HOLD_SWEEP_INTERVAL_MS,
            round: async () => (await expireHolds(d)) + (await sweepReservations(d, config.RESERVATION_SWEEP_GRACE_MS)),
          },
          { name: "run-rescoring", intervalMs: config.RESCORING_INTERVAL_MS, round: () => runRescoring(d) },
        ]
          .filter((j) => j.intervalMs > 0)
          .map((j) => every({ name: j.name, intervalMs: j.intervalMs, logger }, async () => void (await j.round()))),
      };
    },
  });
  const d = deps!;
  return {
    grpcPort: svc.grpcPort,
    runRescoring: () => runRescoring(d),
    expireHolds: () => expireHolds(d),
    sweepReservations: () => sweepReservations(d, graceMs),
    service: svc as RunningService<unknown>,
    stop: svc.stop,
  };
}

/** The crash test's pause: writes `file` (the test waits for it), then never returns. */
function pauseForever(file: string): () => Promise<void> {
  return () => {
    writeFileSync(file, String(process.pid));
    return new Promise<void>(() => {});
  };
}

if (import.meta.url === `file://${process.argv[1]}`) runMain(() => startCredit());
