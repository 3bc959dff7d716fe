import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Kafka, logLevel, type SASLOptions } from "kafkajs";
import { type KafkaCredentials, type KafkaSasl, saslFor } from "@whiteslip/config";
import { ensureKafkaCredentials } from "./kafka-credentials";
import { withFileLock } from "./lock";
import { KAFKA_VERSION, kafkaHome } from "./paths";
import { freePorts, retryOnPortClash } from "./ports";
import { ManagedProcess, runToCompletion, tailFile, type Watchdog } from "./process";

/* ------------------------------------------------------------------------------------------ */
/* Pure helpers (unit tested)                                                                  */
/* ------------------------------------------------------------------------------------------ */

export interface KafkaServerConfig {
  port: number;
  controllerPort: number;
  logDir: string;
  host?: string;
  nodeId?: number;
  /** SASL on every listener and the ACL authorizer, as in production (absent: PLAINTEXT, no authorizer). */
  auth?: KafkaServerAuth;
}

/** SASL and authorization of the local broker. */
export interface KafkaServerAuth {
  /** The super user; the broker itself logs in as it (to itself and to its controller). */
  adminUsername: string;
  adminPassword: string;
  /** SASL mechanism of the client listener. */
  mechanism: "SCRAM-SHA-512" | "SCRAM-SHA-256";
}

/** JAAS value quoted for a properties file (passwords are base64url, so nothing needs escaping). */
function jaasQuote(v: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(v)) throw new Error("Kafka credentials must be [A-Za-z0-9_.-] only");
  return `"${v}"`;
}

/**
 * Properties that put SASL on both listeners and the StandardAuthorizer in front of everything:
 * clients authenticate with SCRAM on CLIENT (credentials created at storage format,
 * {@link scramFormatArgs}); the controller listener takes PLAIN with the admin alone (SCRAM
 * cannot authenticate there: its credentials live in the metadata log the controller serves).
 * Nothing is allowed without an ACL except to the super user.
 */
export function kafkaAuthProperties(auth: KafkaServerAuth): Array<[string, string]> {
  const user = jaasQuote(auth.adminUsername);
  const pass = jaasQuote(auth.adminPassword);
  const mech = auth.mechanism.toLowerCase();
  return [
    ["listener.name.client.sasl.enabled.mechanisms", auth.mechanism],
    ["sasl.mechanism.inter.broker.protocol", auth.mechanism],
    [
      `listener.name.client.${mech}.sasl.jaas.config`,
      `org.apache.kafka.common.security.scram.ScramLoginModule required username=${user} password=${pass};`,
    ],
    ["listener.name.controller.sasl.enabled.mechanisms", "PLAIN"],
    ["sasl.mechanism.controller.protocol", "PLAIN"],
    [
      "listener.name.controller.plain.sasl.jaas.config",
      `org.apache.kafka.common.security.plain.PlainLoginModule required username=${user} password=${pass} user_${auth.adminUsername}=${pass};`,
    ],
    ["authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer"],
    ["super.users", `User:${auth.adminUsername}`],
    ["allow.everyone.if.no.acl.found", "false"],
  ];
}

/** `kafka-storage format` arguments that create a SCRAM credential per principal (Kafka >= 3.5, KIP-900). */
export function scramFormatArgs(mechanism: KafkaServerAuth["mechanism"], passwords: Record<string, string>): string[] {
  return Object.entries(passwords).flatMap(([name, password]) => {
    jaasQuote(name);
    jaasQuote(password);
    return ["--add-scram", `${mechanism}=[name=${name},password=${password}]`];
  });
}

/** server.properties for a single-node KRaft broker+controller bound to loopback. */
export function kafkaServerProperties(cfg: KafkaServerConfig): string {
  const host = cfg.host ?? "127.0.0.1";
  const nodeId = cfg.nodeId ?? 1;
  const client = cfg.auth ? "CLIENT" : "PLAINTEXT";
  const props: Array<[string, string | number | boolean]> = [
    ["process.roles", "broker,controller"],
    ["node.id", nodeId],
    ["controller.quorum.voters", `${nodeId}@${host}:${cfg.controllerPort}`],
    ["listeners", `${client}://${host}:${cfg.port},CONTROLLER://${host}:${cfg.controllerPort}`],
    ["advertised.listeners", `${client}://${host}:${cfg.port}`],
    ["inter.broker.listener.name", client],
    ["controller.listener.names", "CONTROLLER"],
    [
      "listener.security.protocol.map",
      cfg.auth ? "CONTROLLER:SASL_PLAINTEXT,CLIENT:SASL_PLAINTEXT" : "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
    ],
    ...(cfg.auth ? kafkaAuthProperties(cfg.auth) : []),
    ["log.dirs", cfg.logDir],
    ["num.partitions", 3],
    ["auto.create.topics.enable", true],
    ["delete.topic.enable", true],
    ["offsets.topic.replication.factor", 1],
    // Test/dev broker: few internal partitions make the first consumer-group join fast.
    ["offsets.topic.num.partitions", 1],
    ["transaction.state.log.replication.factor", 1],
    ["transaction.state.log.min.isr", 1],
    ["transaction.state.log.num.partitions", 1],
    ["group.initial.rebalance.delay.ms", 0],
  ];
  return `${props.map(([k, v]) => `${k}=${String(v)}`).join("\n")}\n`;
}

/** log4j 1.x (reload4j) config: WARN and above to one file. */
export function kafkaLog4jProperties(logFile: string): string {
  return [
    "log4j.rootLogger=WARN, file",
    "log4j.appender.file=org.apache.log4j.FileAppender",
    `log4j.appender.file.File=${logFile}`,
    "log4j.appender.file.Append=true",
    "log4j.appender.file.layout=org.apache.log4j.PatternLayout",
    "log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n",
    // one INFO line that tells when the broker is up (useful in the log tail)
    "log4j.logger.kafka.server.KafkaRaftServer=INFO",
    "",
  ].join("\n");
}

/**
 * A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (22 chars). Like Kafka's
 * own Uuid.randomUuid(), never starting with "-" (the CLI parser would take it for an option).
 */
export function randomClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}

export function kafkaPom(): string {
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.whiteslip</groupId><artifactId>kafka-runtime</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>${KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
`;
}

/* ------------------------------------------------------------------------------------------ */
/* Download (Maven Central via mvn), cached + locked                                           */
/* ------------------------------------------------------------------------------------------ */

const REQUIRED_JARS = [
  `kafka_2.13-${KAFKA_VERSION}.jar`,
  `kafka-clients-${KAFKA_VERSION}.jar`,
  `kafka-server-${KAFKA_VERSION}.jar`,
  `kafka-metadata-${KAFKA_VERSION}.jar`,
  `kafka-raft-${KAFKA_VERSION}.jar`,
  `kafka-storage-${KAFKA_VERSION}.jar`,
  "slf4j-reload4j-1.7.36.jar",
];
const MARKER = ".libs-complete";

async function libsComplete(home: string): Promise<boolean> {
  const libs = join(home, "libs");
  if (!existsSync(join(home, MARKER))) return false;
  try {
    const files = new Set(await readdir(libs));
    return REQUIRED_JARS.every((j) => files.has(j));
  } catch {
    return false;
  }
}

export function javaCommand(env: NodeJS.ProcessEnv = process.env): string {
  const home = env.JAVA_HOME?.trim();
  return home ? join(home, "bin", "java") : "java";
}

/** Ensures `<cache>/kafka-3.9.1/libs` holds the broker's jars; returns the libs dir. */
export async function ensureKafkaLibs(log: (line: string) => void = () => {}): Promise<string> {
  const home = kafkaHome();
  const libs = join(home, "libs");
  if (await libsComplete(home)) return libs;
  await mkdir(home, { recursive: true });
  await withFileLock(
    join(home, ".lock"),
    async () => {
      if (await libsComplete(home)) return; // another run finished it while we waited
      const started = Date.now();
      log(`kafka ${KAFKA_VERSION}: fetching jars from Maven Central into ${libs} ...`);
      await writeFile(join(home, "pom.xml"), kafkaPom());
      await rm(join(home, MARKER), { force: true });
      await runToCompletion(
        "mvn dependency:copy-dependencies",
        "mvn",
        ["-q", "-B", "dependency:copy-dependencies", "-DoutputDirectory=libs"],
        {
          cwd: home,
          logFile: join(home, "mvn.log"),
          timeoutMs: 20 * 60_000,
        },
      );
      const files = new Set(await readdir(libs));
      const missing = REQUIRED_JARS.filter((j) => !files.has(j));
      if (missing.length > 0)
        throw new Error(`kafka libs incomplete after mvn, missing: ${missing.join(", ")}`);
      await writeFile(join(home, MARKER), `${[...files].sort().join("\n")}\n`);
      log(`kafka ${KAFKA_VERSION}: jars ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    },
    { log },
  );
  return libs;
}

/* ------------------------------------------------------------------------------------------ */
/* Start                                                                                        */
/* ------------------------------------------------------------------------------------------ */

export interface LocalKafka {
  brokers: string[];
  port: number;
  /** The broker process running now (a new one after `start()`). */
  readonly process: ManagedProcess;
  dir: string;
  logFiles: string[];
  /** The principals and passwords the broker knows (SASL/SCRAM on its client listener, ACLs enforced). */
  credentials: KafkaCredentials;
  /** Stops the broker (SIGTERM: a controlled shutdown); its port and data dir are kept for `start()`. */
  stop(): Promise<void>;
  /** Starts the broker again on the same port with the same data dir (topics, offsets kept); waits until it answers. */
  start(): Promise<void>;
}

export interface StartKafkaOptions {
  /** Parent temp dir (per run); a `kafka/` subdir is created in it. */
  tmpDir: string;
  watchdog?: Watchdog;
  log?: (line: string) => void;
  readyTimeoutMs?: number;
  /** Principals to create SCRAM credentials for besides the admin (passwords from `credentialsFile`). */
  principals?: readonly string[];
  /** Default `<cache>/kafka-credentials.json`. */
  credentialsFile?: string;
}

function isPortClash(text: string): boolean {
  return /Address already in use|BindException/i.test(text);
}

/** Polls a kafkajs admin until the broker answers, or throws. */
export async function waitForKafka(
  brokers: string[],
  opts: { timeoutMs: number; aborted?: () => string | null; warmGroupCoordinator?: boolean; sasl?: KafkaSasl },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError = "";
  while (Date.now() < deadline) {
    const why = opts.aborted?.();
    if (why) throw new Error(why);
    const kafka = new Kafka({
      clientId: "whiteslip-testkit-probe",
      brokers,
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1_000,
      requestTimeout: 2_000,
      retry: { retries: 0 },
      ...(opts.sasl ? { sasl: opts.sasl as SASLOptions } : {}),
    });
    const admin = kafka.admin({ retry: { retries: 0 } });
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length > 0 && cluster.controller !== null && cluster.controller >= 0) {
        await admin.listTopics();
        if (opts.warmGroupCoordinator) {
          // FindCoordinator creates __consumer_offsets; doing it here means the first consumer
          // group in a test joins at once instead of logging "group coordinator is not available".
          await admin.describeGroups(["whiteslip-testkit-warmup"]);
        }
        return;
      }
      lastError = "no controller yet";
    } catch (err) {
      lastError = (err as Error).message;
    } finally {
      await admin.disconnect().catch(() => {});
    }
    await sleep(200);
  }
  throw new Error(
    `Kafka at ${brokers.join(",")} did not answer within ${opts.timeoutMs} ms (last error: ${lastError})`,
  );
}

async function startOnce(libs: string, opts: StartKafkaOptions, attempt: number): Promise<LocalKafka> {
  const log = opts.log ?? (() => {});
  const dir = join(opts.tmpDir, attempt === 0 ? "kafka" : `kafka-${attempt}`);
  const dataDir = join(dir, "data");
  await mkdir(dataDir, { recursive: true });
  const [port, controllerPort] = (await freePorts(2)) as [number, number];
  const propsFile = join(dir, "server.properties");
  const log4jFile = join(dir, "log4j.properties");
  const brokerLog = join(dir, "kafka-server.log");
  const stdoutLog = join(dir, "kafka-stdout.log");
  const formatLog = join(dir, "storage-format.log");
  const credentials = await ensureKafkaCredentials(opts.principals ?? [], opts.credentialsFile);
  const mechanism = credentials.mechanism === "scram-sha-256" ? "SCRAM-SHA-256" : "SCRAM-SHA-512";
  const auth: KafkaServerAuth = {
    adminUsername: credentials.admin,
    adminPassword: saslFor(credentials, credentials.admin).password,
    mechanism,
  };
  // holds the admin's password: readable by its owner only
  await writeFile(propsFile, kafkaServerProperties({ port, controllerPort, logDir: dataDir, auth }), { mode: 0o600 });
  await writeFile(log4jFile, kafkaLog4jProperties(brokerLog));
  const java = javaCommand();
  const classpath = `${libs}/*`;
  const log4jArg = `-Dlog4j.configuration=file:${log4jFile}`;

  await runToCompletion(
    "kafka storage format",
    java,
    [
      "-Xmx256m",
      "-XX:+UseSerialGC",
      "-XX:TieredStopAtLevel=1",
      log4jArg,
      "-cp",
      classpath,
      "kafka.tools.StorageTool",
      "format",
      "--cluster-id",
      randomClusterId(),
      "--config",
      propsFile,
      ...scramFormatArgs(mechanism, credentials.passwords),
    ],
    { cwd: dir, logFile: formatLog, timeoutMs: 120_000 },
  ).catch((e: Error) => {
    // the failure message repeats the command line, which holds the passwords
    let message = e.message;
    for (const pw of Object.values(credentials.passwords)) message = message.replaceAll(pw, "***");
    throw new Error(message);
  });

  const spawnBroker = (): ManagedProcess => {
    const p = new ManagedProcess(
      "kafka",
      java,
      [
        "-Xmx512m",
        "-Xms256m",
        "-XX:+UseSerialGC",
        "-Djava.awt.headless=true",
        `-Dkafka.logs.dir=${dir}`,
        log4jArg,
        "-cp",
        classpath,
        "kafka.Kafka",
        propsFile,
      ],
      { cwd: dir, logFile: stdoutLog },
    );
    opts.watchdog?.track(p);
    return p;
  };
  let proc = spawnBroker();
  const brokers = [`127.0.0.1:${port}`];
  const logFiles = [brokerLog, stdoutLog];
  const stop = async (): Promise<void> => {
    await proc.stop(15_000);
  };
  const ready = async (): Promise<void> => {
    const current = proc;
    await waitForKafka(brokers, {
      timeoutMs: opts.readyTimeoutMs ?? 90_000,
      warmGroupCoordinator: true,
      sasl: saslFor(credentials, credentials.admin),
      aborted: () =>
        current.hasExited ? `Kafka broker process exited early (${JSON.stringify(current.exit)})` : null,
    });
  };
  // Restart for the fault suite: the same server.properties (port, data dir), no new storage format.
  const start = async (): Promise<void> => {
    if (!proc.hasExited) return;
    proc = spawnBroker();
    try {
      await ready();
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- ${brokerLog} ---\n${await tailFile(brokerLog)}`);
    }
    log(`kafka ${KAFKA_VERSION}: restarted on ${brokers[0]} (pid ${proc.pid})`);
  };
  try {
    await ready();
  } catch (err) {
    await stop();
    const tail = `--- ${brokerLog} ---\n${await tailFile(brokerLog)}\n--- ${stdoutLog} ---\n${await tailFile(stdoutLog)}`;
    const e = new Error(`${(err as Error).message}\n${tail}`);
    (e as Error & { portClash?: boolean }).portClash = isPortClash(tail);
    throw e;
  }
  log(`kafka ${KAFKA_VERSION}: up on ${brokers[0]} (pid ${proc.pid})`);
  return {
    brokers,
    port,
    get process() {
      return proc;
    },
    dir,
    logFiles,
    credentials,
    stop,
    start,
  };
}

/** Starts a single-node KRaft Kafka from the cached jars; retries with new ports on a port clash. */
export async function startLocalKafka(opts: StartKafkaOptions): Promise<LocalKafka> {
  const libs = await ensureKafkaLibs(opts.log);
  return retryOnPortClash("kafka", opts.log, (attempt) => startOnce(libs, opts, attempt));
}

/** Reads back a server.properties file into a map (used by tests and diagnostics). */
export async function readProperties(path: string): Promise<Map<string, string>> {
  return parseProperties(await readFile(path, "utf8"));
}

export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const i = line.indexOf("=");
    if (i > 0) out.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return out;
}
