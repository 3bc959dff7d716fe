import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { platformPrincipals } from "@whiteslip/contracts";
import { probeDocker, startDockerInfra } from "./docker";
import { type LocalFerret, startLocalFerret } from "./ferret-local";
import { type KafkaCredentials, kafkaCredentialsFromEnv } from "@whiteslip/config";
import { type LocalKafka, startLocalKafka } from "./kafka-local";
import { FERRETDB_VERSION, KAFKA_VERSION } from "./paths";
import { parseBrokers } from "./ports";
import { registerStopper, registerTmpDir, removeTmpDir, Watchdog } from "./process";

export type InfraKind = "env" | "docker" | "local-process";

export interface Infra {
  kafkaBrokers: string[];
  mongoUri: string;
  /**
   * SASL principals of the broker (absent: it takes unauthenticated clients). The local broker has
   * one per service and partner plus the admin, with ACLs enforced; from the environment, what
   * KAFKA_SASL_* / KAFKA_CREDENTIALS_FILE say.
   */
  kafkaCredentials?: KafkaCredentials;
  kind: InfraKind;
  /** e.g. "Kafka 3.9.1 (local process, 127.0.0.1:41234) + FerretDB v1.24.2/SQLite (local process, 127.0.0.1:41235)" */
  describe: string;
  /** Stops whatever was started (no-op for "env"); idempotent. */
  stop(): Promise<void>;
  /** Per-run temp dir holding data and logs of local processes (removed by stop()). */
  tmpDir?: string;
  /** Log files of local processes (useful in error messages). */
  logFiles?: string[];
  /** Wall time startInfra took, in ms. */
  startedInMs: number;
  /**
   * The broker and database processes, only when this run started them ("local-process"): the fault
   * suite stops and starts them again (same port, same data dir) to prove the platform survives it.
   */
  local?: { kafka: LocalKafka; database: LocalFerret };
}

export interface StartInfraOptions {
  log?: (line: string) => void;
  /**
   * Force a provider: "env" | "docker" | "local" (default: `$WHITESLIP_INFRA`, else auto:
   * env when KAFKA_BROKERS+MONGODB_URI are set, else docker when an engine answers, else local).
   */
  mode?: "auto" | "env" | "docker" | "local";
  env?: NodeJS.ProcessEnv;
  /** Docker probe timeout (default 3000 ms). */
  dockerProbeTimeoutMs?: number;
}

function redactUri(uri: string): string {
  return uri.replace(/\/\/([^@/]*)@/, "//***@");
}

export function infraFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): { kafkaBrokers: string[]; mongoUri: string; kafkaCredentials?: KafkaCredentials } | null {
  const brokers = env.KAFKA_BROKERS?.trim();
  const mongoUri = env.MONGODB_URI?.trim();
  if (!brokers || !mongoUri) return null;
  const kafkaBrokers = parseBrokers(brokers);
  if (kafkaBrokers.length === 0) return null;
  const kafkaCredentials = kafkaCredentialsFromEnv(env);
  return { kafkaBrokers, mongoUri, ...(kafkaCredentials ? { kafkaCredentials } : {}) };
}


function resolveMode(opts: StartInfraOptions, env: NodeJS.ProcessEnv): "auto" | "env" | "docker" | "local" {
  const m = (opts.mode ?? env.WHITESLIP_INFRA ?? "auto").trim().toLowerCase();
  if (m === "auto" || m === "env" || m === "docker" || m === "local") return m;
  if (m === "local-process") return "local";
  throw new Error(`WHITESLIP_INFRA must be auto|env|docker|local, got ${JSON.stringify(m)}`);
}

/**
 * Provides a real Kafka broker and a MongoDB-wire database:
 * 1. `KAFKA_BROKERS` + `MONGODB_URI` from the environment (nothing started);
 * 2. else Docker via testcontainers when an engine answers within ~3 s (apache/kafka:3.9.1, mongo:7);
 * 3. else local processes: Kafka 3.9.1 (jars from Maven Central, Java 17) and FerretDB v1.24.2
 *    with its SQLite backend (built once from the Go module proxy), on free loopback ports.
 */
export async function startInfra(opts: StartInfraOptions = {}): Promise<Infra> {
  const t0 = Date.now();
  const log = opts.log ?? (() => {});
  const env = opts.env ?? process.env;
  const mode = resolveMode(opts, env);

  if (mode === "auto" || mode === "env") {
    const fromEnv = infraFromEnv(env);
    if (fromEnv) {
      return {
        ...fromEnv,
        kind: "env",
        describe: `Kafka (from KAFKA_BROKERS, ${fromEnv.kafkaBrokers.join(",")}${fromEnv.kafkaCredentials ? `, SASL ${fromEnv.kafkaCredentials.mechanism} as ${fromEnv.kafkaCredentials.admin}` : ""}) + MongoDB (from MONGODB_URI, ${redactUri(fromEnv.mongoUri)})`,
        stop: async () => {},
        startedInMs: Date.now() - t0,
      };
    }
    if (mode === "env")
      throw new Error("WHITESLIP_INFRA=env but KAFKA_BROKERS and/or MONGODB_URI are not set");
    if (env.KAFKA_BROKERS?.trim() || env.MONGODB_URI?.trim()) {
      log(
        "only one of KAFKA_BROKERS / MONGODB_URI is set; both are needed to use external infrastructure, ignoring it",
      );
    }
  }

  if (mode === "auto" || mode === "docker") {
    const probe = await probeDocker(opts.dockerProbeTimeoutMs ?? 3_000);
    if (probe.tc) {
      log(`docker engine answered at ${probe.host}; starting containers`);
      const d = await startDockerInfra(probe.tc, probe.host, log);
      let stopping: Promise<void> | null = null;
      const stop = (): Promise<void> => {
        stopping ??= d.stop().finally(() => unregister());
        return stopping;
      };
      const unregister = registerStopper(stop);
      return {
        kafkaBrokers: d.kafkaBrokers,
        mongoUri: d.mongoUri,
        kind: "docker",
        describe: d.describe,
        stop,
        startedInMs: Date.now() - t0,
      };
    }
    if (mode === "docker") throw new Error(`WHITESLIP_INFRA=docker but no container engine: ${probe.reason}`);
    log(`no docker (${probe.reason}); using local processes`);
  }

  return startLocalInfra(log, t0);
}

async function startLocalInfra(log: (line: string) => void, t0: number): Promise<Infra> {
  const tmpDir = await mkdtemp(join(tmpdir(), "whiteslip-infra-"));
  registerTmpDir(tmpDir);
  const watchdog = new Watchdog(tmpDir);
  let kafka: LocalKafka | undefined;
  let ferret: LocalFerret | undefined;
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await Promise.allSettled([kafka?.stop(), ferret?.stop()]);
      watchdog.dispose();
      await removeTmpDir(tmpDir).catch(() => {});
      unregister();
    })();
    return stopping;
  };
  const unregister = registerStopper(stop);

  const [k, f] = await Promise.allSettled([
    startLocalKafka({ tmpDir, watchdog, log, principals: platformPrincipals() }).then((v) => {
      kafka = v;
      return v;
    }),
    startLocalFerret({ tmpDir, watchdog, log }).then((v) => {
      ferret = v;
      return v;
    }),
  ]);
  if (k.status === "rejected" || f.status === "rejected") {
    await stop();
    const errors = [k, f]
      .filter((r): r is PromiseRejectedResult => r.status === "rejected")
      .map((r) => (r.reason as Error).message ?? String(r.reason));
    throw new Error(`local infrastructure failed to start:\n${errors.join("\n\n")}`);
  }
  const kv = k.value;
  const fv = f.value;
  return {
    kafkaBrokers: kv.brokers,
    mongoUri: fv.uri,
    kafkaCredentials: kv.credentials,
    kind: "local-process",
    describe: `Kafka ${KAFKA_VERSION} (local process, ${kv.brokers.join(",")}, SASL/${kv.credentials.mechanism.toUpperCase()} + ACLs) + FerretDB ${FERRETDB_VERSION}/SQLite (local process, 127.0.0.1:${fv.port})`,
    stop,
    tmpDir,
    logFiles: [...kv.logFiles, fv.logFile],
    startedInMs: Date.now() - t0,
    local: { kafka: kv, database: fv },
  };
}
