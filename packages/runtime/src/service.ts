import { topicsProducedBy } from "@whiteslip/contracts";
import { EventBus, type Subscription } from "@whiteslip/bus";
import { type Config, loadConfig, type z } from "@whiteslip/config";
import { type Clock, systemClock } from "@whiteslip/core";
import { type AuthHook, type GrpcServer, type ServiceRegistration, startGrpcServer } from "@whiteslip/grpc";
import type { PiiCipher } from "@whiteslip/pii";
import type { ChannelCredentials } from "@grpc/grpc-js";
import { connectStore, OutboxRelay, type Store } from "@whiteslip/store";
import { createLogger, type Logger, startTelemetry, type Telemetry } from "@whiteslip/telemetry";
import type { Collection, Document } from "mongodb";
import { FileClock } from "./file-clock";
import { loadPiiCipher, PiiReencryption, type SealedCollection, type SweepProgress } from "./pii";
import { grpcTransport } from "./transport";

/** What a service's wiring gets to build its parts from. */
export interface ServiceContext<C> {
  readonly config: C;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly store: Store;
  readonly bus: EventBus;
  readonly pii: PiiCipher;
  /** Credentials for this service's own gRPC clients (mutual TLS as itself; plaintext in development mode). */
  readonly grpcCredentials: ChannelCredentials;
}

/** A background loop (scheduler, dispatcher, periodic run). */
export interface Background {
  start(): void;
  stop(): Promise<void>;
}

/** The parts a service is made of; the runtime starts them in order and stops them in reverse. */
export interface ServiceParts {
  /**
   * gRPC services to serve (health and reflection are added). Under mutual TLS each must carry its per-method
   * policy (`withPolicy` of @whiteslip/grpc, declared in the service's src/adapters/grpc-policy.ts).
   */
  grpc: ServiceRegistration[];
  /** Consumer groups; `groupId` defaults to the service name. */
  consumers?: { groupId?: string; subscriptions: Subscription[] }[];
  /** Collections whose documents carry `pendingEvents` (the outbox). */
  outbox?: Collection<Document>[];
  /** Background loops. */
  background?: Background[];
  /** Called last on stop. */
  onStop?: () => Promise<void>;
  /** Further terms of readiness, on top of the database and the broker (see ReadinessCheck). */
  readiness?: ReadinessCheck[];
  /** Collections holding sealed personal data: re-encrypted in the background after a key rotation (PII_REENCRYPT). */
  sealed?: SealedCollection[];
}

/**
 * One term of readiness. The service is ready (health `readiness`, "" and each
 * service SERVING) while every term holds; `liveness` never follows them, so a
 * dependency outage makes the pod unready and restarts nothing.
 */
export interface ReadinessCheck {
  /** What is checked, for the log line of a change (e.g. `database`). */
  readonly name: string;
  /** True while the term holds. A check that throws or takes longer than READINESS_CHECK_TIMEOUT_MS is false. */
  check(): Promise<boolean>;
}

/** How long one readiness term may take before it counts as failed (a probe answers from the last result). */
export const READINESS_CHECK_TIMEOUT_MS = 3_000;

/** A term's check still running (a slow one is not started again while it runs: no pile-up during an outage). */
const inFlight = new WeakMap<ReadinessCheck, Promise<boolean>>();

/** Evaluates all terms concurrently; the names of those that do not hold (empty: ready). */
export async function failingChecks(checks: readonly ReadinessCheck[], timeoutMs = READINESS_CHECK_TIMEOUT_MS): Promise<string[]> {
  const results = await Promise.all(
    checks.map(async (c) => {
      let running = inFlight.get(c);
      if (!running) {
        running = c.check().catch(() => false);
        inFlight.set(c, running);
        void running.finally(() => inFlight.delete(c));
      }
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      try {
        return await Promise.race([running, timeout]);
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return checks.filter((_, i) => !results[i]).map((c) => c.name);
}

/** A started service. */
export interface RunningService<C> {
  readonly name: string;
  readonly grpcPort: number;
  readonly context: ServiceContext<C>;
  readonly grpc: GrpcServer;
  readonly relay: OutboxRelay;
  /** The start-up sweep that moves stored personal data to the active keys (absent with PII_REENCRYPT=off). */
  readonly piiReencryption?: { finished(): Promise<SweepProgress[]> };
  /** Graceful stop: not serving, stop consumers, finish in flight, flush the outbox, close. */
  stop(): Promise<void>;
}

/** Options of `startService`. */
export interface StartServiceOptions<S extends z.ZodRawShape> {
  /** Service name: default database name and consumer group. */
  name: string;
  /** The service's own configuration variables (zod shape), on top of the base ones. */
  configShape: S;
  /** Environment (default process.env); overrides for tests and the platform runner. */
  env?: Record<string, string | undefined>;
  clock?: Clock;
  auth?: AuthHook;
  /** Builds the service's parts (repositories, handlers, consumers). */
  setup(ctx: ServiceContext<Config<S>>): Promise<ServiceParts>;
  /** How often readiness is evaluated, ms (default 5,000). */
  readinessIntervalMs?: number;
}

/**
 * Starts a service the same way every time: config validated once, logger,
 * telemetry, its own database, the bus with all platform topics, outbox relay,
 * consumers, gRPC with health and reflection, liveness that stays SERVING while
 * the process runs, and readiness that follows Kafka and Mongo reachability
 * (plus the service's own ReadinessCheck terms).
 */
export async function startService<S extends z.ZodRawShape>(
  opts: StartServiceOptions<S>,
): Promise<RunningService<Config<S>>> {
  const config = loadConfig(opts.configShape, { SERVICE_NAME: opts.name, ...(opts.env ?? process.env) });
  const logger = createLogger({ service: opts.name, level: config.LOG_LEVEL });
  const transport = grpcTransport(config, opts.name, logger);
  const clockFile = (opts.env ?? process.env).CLOCK_FILE;
  const clock = opts.clock ?? (clockFile ? new FileClock(clockFile) : systemClock);
  const pii = await loadPiiCipher(config, logger, { env: { ...process.env, ...(opts.env ?? {}) } });

  let telemetry: Telemetry | undefined;
  if (config.METRICS_PORT > 0 || process.env.OTEL_TRACES_EXPORTER) {
    telemetry = await startTelemetry({ serviceName: opts.name, metricsPort: config.METRICS_PORT });
  }
  const store = await connectStore({ uri: config.MONGODB_URI, dbName: config.MONGODB_DB ?? opts.name, logger });
  const bus = await EventBus.connect({
    brokers: config.KAFKA_BROKERS,
    clientId: config.KAFKA_CLIENT_ID ?? opts.name,
    topicPrefix: config.TOPIC_PREFIX,
    logger,
    ...(config.KAFKA_SASL_MECHANISM && config.KAFKA_SASL_USERNAME && config.KAFKA_SASL_PASSWORD
      ? {
          sasl: {
            mechanism: config.KAFKA_SASL_MECHANISM,
            username: config.KAFKA_SASL_USERNAME,
            password: config.KAFKA_SASL_PASSWORD,
          },
        }
      : {}),
  });
  // The topics it writes; those it reads its consumers create (the cluster's ACLs let a service
  // create only these: whoever provisions the platform creates the rest, see docs/architecture.md).
  await bus.ensureTopics(topicsProducedBy(opts.name));
  const context: ServiceContext<Config<S>> = {
    config,
    logger,
    clock,
    store,
    bus,
    pii,
    grpcCredentials: transport.clientCredentials,
  };
  const parts = await opts.setup(context);

  const reencryption =
    parts.sealed?.length && config.PII_REENCRYPT === "sweep"
      ? new PiiReencryption({ pii, collections: parts.sealed, progress: store.db.collection("pii_rotation"), logger })
      : undefined;
  const relay = new OutboxRelay({ bus, logger, collections: parts.outbox ?? [], client: store.client });
  relay.start();
  const consumers = (parts.consumers ?? []).map((c) =>
    bus.consumer({ groupId: c.groupId ?? opts.name, subscriptions: c.subscriptions }),
  );
  for (const c of consumers) await c.start();
  for (const b of parts.background ?? []) b.start();
  reencryption?.start();
  const grpc = await startGrpcServer({
    port: config.GRPC_PORT,
    host: config.GRPC_HOST,
    logger,
    services: parts.grpc,
    auth: opts.auth ?? transport.auth(parts.grpc),
    credentials: transport.serverCredentials,
    authenticateBuiltins: !transport.plaintext,
    ...(config.GRPC_HEALTH_PORT !== undefined ? { healthPort: config.GRPC_HEALTH_PORT } : {}),
  });

  // Readiness follows the dependencies: NOT_SERVING while any term fails. Liveness (the gRPC server's
  // `liveness` health service) is not touched here: it stays SERVING while the process answers.
  // Add a term to `checks` (or return it in ServiceParts.readiness) to make readiness follow more.
  let stopping: Promise<void> | undefined;
  const admin = bus.kafka.admin();
  const checks: ReadinessCheck[] = [
    { name: "database", check: () => store.ping() },
    { name: "broker", check: () => admin.connect().then(() => admin.describeCluster()).then(() => true) },
    // a consumer holding a partition back for infrastructure trouble (the bus retries it meanwhile)
    { name: "consumers", check: async () => bus.healthy },
    ...(parts.readiness ?? []),
  ];
  let failing: string[] = [];
  let evaluating = false;
  const readiness = setInterval(async () => {
    if (evaluating) return; // a slow term: the last answer stands until this round ends
    evaluating = true;
    try {
      const now = await failingChecks(checks);
      if (now.join() !== failing.join()) {
        if (now.length > 0) logger.warn({ failing: now }, "not ready: readiness NOT_SERVING");
        else logger.info({ recovered: failing }, "ready again: readiness SERVING");
      }
      failing = now;
      if (!stopping) grpc.setServing(now.length === 0);
    } finally {
      evaluating = false;
    }
  }, opts.readinessIntervalMs ?? 5_000);
  readiness.unref();

  logger.info({ grpcPort: grpc.port, db: config.MONGODB_DB ?? opts.name }, `${opts.name} started`);
  return {
    name: opts.name,
    grpcPort: grpc.port,
    context,
    grpc,
    relay,
    ...(reencryption ? { piiReencryption: reencryption } : {}),
    stop: () => {
      stopping ??= (async () => {
        clearInterval(readiness);
        await reencryption?.stop();
        grpc.setServing(false);
        for (const c of consumers) await c.stop();
        for (const b of [...(parts.background ?? [])].reverse()) await b.stop();
        await grpc.stop(5_000);
        await relay.stop();
        await parts.onStop?.();
        await admin.disconnect().catch(() => undefined);
        await bus.close();
        await store.close();
        await telemetry?.shutdown();
        logger.info(`${opts.name} stopped`);
      })();
      return stopping;
    },
  };
}

/**
 * Runs a service as a process: starts it, stops it gracefully on SIGTERM/SIGINT
 * and exits non-zero when start-up fails (the message names the bad setting).
 */
export function runMain(start: () => Promise<{ stop(): Promise<void> }>): void {
  start().then(
    (svc) => {
      let signalled = false;
      const onSignal = (sig: NodeJS.Signals) => {
        if (signalled) return;
        signalled = true;
        process.stderr.write(`${sig}: shutting down\n`);
        svc.stop().then(
          () => process.exit(0),
          (e) => {
            process.stderr.write(`shutdown failed: ${(e as Error).stack}\n`);
            process.exit(1);
          },
        );
      };
      process.on("SIGTERM", onSignal);
      process.on("SIGINT", onSignal);
      exitWithParent(() => onSignal("SIGTERM"));
    },
    (e) => {
      process.stderr.write(`start-up failed: ${(e as Error).message}\n`);
      process.exit(1);
    },
  );
}

/**
 * A service started by a local supervisor (the local run, a test platform) that names itself in
 * `WHITESLIP_PARENT_PID` stops when that process is gone. Without it, a test run killed by a timeout or a
 * SIGKILL left its five services running, polling a broker and database nobody used, on a 2-core machine.
 * Never set in production, where the orchestrator owns the process.
 */
function exitWithParent(stop: () => void): void {
  const parent = Number(process.env.WHITESLIP_PARENT_PID);
  if (!Number.isInteger(parent) || parent <= 1) return;
  const timer = setInterval(() => {
    try {
      process.kill(parent, 0);
    } catch {
      clearInterval(timer);
      process.stderr.write(`parent ${parent} is gone: shutting down\n`);
      setTimeout(() => process.exit(1), 15_000).unref(); // a stop that hangs on a dead broker does not keep us
      stop();
    }
  }, 1_000);
  timer.unref();
}
