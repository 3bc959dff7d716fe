import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { waitForMongo } from "./ferret-local";
import { waitForKafka } from "./kafka-local";
import { freePort } from "./ports";

export const KAFKA_IMAGE = "apache/kafka:3.9.1";
export const MONGO_IMAGE = "mongo:7";

/**
 * Cheap check that some Docker endpoint might exist, without loading testcontainers:
 * DOCKER_HOST, a testcontainers config, or one of the usual socket paths.
 */
export function dockerEndpointHint(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.DOCKER_HOST?.trim()) return `DOCKER_HOST=${env.DOCKER_HOST}`;
  if (env.TESTCONTAINERS_HOST_OVERRIDE?.trim()) return "TESTCONTAINERS_HOST_OVERRIDE";
  const home = homedir();
  const candidates = [
    "/var/run/docker.sock",
    join(home, ".testcontainers.properties"),
    join(home, ".docker", "run", "docker.sock"),
    join(home, ".docker", "desktop", "docker.sock"),
    env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, "docker.sock") : "",
    env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, "podman", "podman.sock") : "",
  ].filter(Boolean);
  return candidates.find((c) => existsSync(c)) ?? null;
}

type Testcontainers = typeof import("testcontainers");

/**
 * Returns the loaded testcontainers module if a container engine answers within `timeoutMs`,
 * else null plus the reason. Never hangs: the probe is raced against a timer.
 */
export async function probeDocker(
  timeoutMs = 3_000,
): Promise<{ tc: Testcontainers; host: string } | { tc: null; reason: string }> {
  const hint = dockerEndpointHint();
  if (!hint) return { tc: null, reason: "no DOCKER_HOST and no docker socket found" };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
  });
  try {
    return await Promise.race([
      (async () => {
        let tc: Testcontainers;
        try {
          tc = await import("testcontainers");
        } catch (err) {
          // testcontainers 12 pulls undici 8, which needs Node >= 22.19 and throws at import on Node 20.
          throw new Error(`cannot load testcontainers on Node ${process.versions.node}: ${(err as Error).message}`);
        }
        const client = await tc.getContainerRuntimeClient();
        return { tc, host: client.info.containerRuntime.host };
      })(),
      timeout,
    ]);
  } catch (err) {
    return { tc: null, reason: `${hint}: ${(err as Error).message.split("\n")[0]}` };
  } finally {
    clearTimeout(timer);
  }
}

export interface DockerInfra {
  kafkaBrokers: string[];
  mongoUri: string;
  describe: string;
  stop(): Promise<void>;
}

/**
 * Kafka (apache/kafka image, KRaft) + MongoDB 7 in containers.
 * @testcontainers/kafka 12 only knows Confluent images, so apache/kafka runs as a GenericContainer
 * with a fixed host port equal to the in-container listener port (so the advertised address works).
 */
export async function startDockerInfra(
  tc: Testcontainers,
  host: string,
  log: (line: string) => void,
): Promise<DockerInfra> {
  const { GenericContainer, Wait } = tc;
  const { MongoDBContainer } = await import("@testcontainers/mongodb");
  const port = await freePort("0.0.0.0");
  const kafkaP = new GenericContainer(KAFKA_IMAGE)
    .withExposedPorts({ container: port, host: port })
    .withEnvironment({
      KAFKA_NODE_ID: "1",
      KAFKA_PROCESS_ROLES: "broker,controller",
      KAFKA_LISTENERS: `PLAINTEXT://0.0.0.0:${port},CONTROLLER://0.0.0.0:9093`,
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://${host}:${port}`,
      KAFKA_CONTROLLER_LISTENER_NAMES: "CONTROLLER",
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
      KAFKA_CONTROLLER_QUORUM_VOTERS: "1@localhost:9093",
      KAFKA_INTER_BROKER_LISTENER_NAME: "PLAINTEXT",
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: "1",
      KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS: "1",
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: "1",
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: "1",
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: "0",
      KAFKA_NUM_PARTITIONS: "3",
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: "true",
      KAFKA_HEAP_OPTS: "-Xmx512m -Xms256m",
    })
    .withWaitStrategy(Wait.forListeningPorts())
    .withStartupTimeout(180_000)
    .start();
  const mongoP = new MongoDBContainer(MONGO_IMAGE).start();
  const [kafka, mongo] = await Promise.allSettled([kafkaP, mongoP]);
  const stopAll = async (): Promise<void> => {
    await Promise.allSettled([
      kafka.status === "fulfilled" ? kafka.value.stop() : Promise.resolve(),
      mongo.status === "fulfilled" ? mongo.value.stop() : Promise.resolve(),
    ]);
  };
  if (kafka.status === "rejected" || mongo.status === "rejected") {
    await stopAll();
    const reason = kafka.status === "rejected" ? kafka.reason : (mongo as PromiseRejectedResult).reason;
    throw reason instanceof Error ? reason : new Error(String(reason));
  }
  const brokers = [`${kafka.value.getHost()}:${kafka.value.getMappedPort(port)}`];
  const cs = mongo.value.getConnectionString();
  const mongoUri = cs.includes("?") ? `${cs}&directConnection=true` : `${cs}/?directConnection=true`;
  try {
    await waitForKafka(brokers, { timeoutMs: 90_000, warmGroupCoordinator: true });
    await waitForMongo(mongoUri, { timeoutMs: 60_000 });
  } catch (err) {
    await stopAll();
    throw err;
  }
  log(`docker: kafka ${brokers[0]}, mongo ${mongoUri}`);
  return {
    kafkaBrokers: brokers,
    mongoUri,
    describe: `Kafka 3.9.1 (docker ${KAFKA_IMAGE}, ${brokers[0]}) + MongoDB 7 (docker ${MONGO_IMAGE}, ${mongoUri.replace(/^mongodb:\/\//, "").replace(/\/.*$/, "")})`,
    stop: stopAll,
  };
}
