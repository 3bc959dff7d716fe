import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdirSync, readFileSync, type WriteStream } from "node:fs";
import { join, resolve } from "node:path";
import { credentials } from "@grpc/grpc-js";
import { type KafkaCredentials, saslEnv, saslFor } from "@whiteslip/config";
import { servicePrincipal } from "@whiteslip/contracts";
import { waitForServing } from "@whiteslip/grpc";
import type { LocalPki } from "@whiteslip/identity";
import { LOCAL_PORTS } from "@whiteslip/ops";
import { builtFile, ensureBuilt } from "./build";

/** Repository root. */
export const ROOT = resolve(import.meta.dirname, "../../..");

/** The five services, their folders and the key of their port in LOCAL_PORTS. */
export const SERVICES = [
  { name: "credit", dir: "services/credit", port: "credit" },
  { name: "billing", dir: "services/billing", port: "billing" },
  { name: "notification", dir: "services/notification", port: "notification" },
  { name: "collections", dir: "services/collections", port: "collections" },
  { name: "credit-reporting", dir: "services/credit-reporting", port: "creditReporting" },
] as const;

export type ServiceName = (typeof SERVICES)[number]["name"];

/** A service running as its own process. */
export interface ServiceProcess {
  readonly name: ServiceName;
  readonly address: string;
  readonly child: ChildProcess;
  /** SIGTERM, wait for a graceful exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL (kill -9: no shutdown hook runs), resolved once the process is gone. */
  kill(): Promise<void>;
  /** Starts it again with the same environment (after stop). */
  restart(): Promise<ServiceProcess>;
}

/** Options of `startServiceProcess`. */
export interface ProcessOptions {
  /** Environment shared by all services (KAFKA_BROKERS, MONGODB_URI, CLOCK_FILE, …). */
  env: Record<string, string>;
  /** The CA and certificates: each service gets its own (TLS_CA_FILE, TLS_CERT_FILE, TLS_KEY_FILE). */
  pki: LocalPki;
  /** Per-service extra environment. */
  serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>;
  /** Ports; default the local-run ports. */
  ports?: Partial<Record<ServiceName, number>>;
  /** Where each service's log goes (`<dir>/<name>.log`); default inherit-free: discarded. */
  logDir?: string;
  /**
   * How long a service may take to become SERVING (default 180 s: five services loading at once on a shared 2-core
   * machine at load 50+ were measured at 85–100 s before their first log line).
   */
  readyTimeoutMs?: number;
  /** Line sink for the service's output, e.g. a prefixed console. */
  onLine?: (service: ServiceName, line: string) => void;
  /**
   * What the process runs: "dist" (default) the compiled bundle, built first when missing or older than its
   * sources (packages/platform/src/build.ts); "tsx" the TypeScript through tsx, as before the build existed
   * (the start-up bench compares both). WHITESLIP_RUN_TS=1 in the environment picks "tsx" by default.
   */
  runtime?: "dist" | "tsx";
}

/** Node's arguments that start a service: the telemetry preload first, then the service's entry. */
export async function serviceCommand(name: ServiceName, runtime: "dist" | "tsx" = defaultRuntime()): Promise<string[]> {
  const spec = SERVICES.find((s) => s.name === name)!;
  // the telemetry preload instruments the MongoDB driver before the service imports it (packages/telemetry)
  if (runtime === "tsx") return ["--import", "tsx", "--import", join(ROOT, "packages/telemetry/src/register.ts"), join(ROOT, spec.dir, "src/main.ts")];
  await ensureBuilt({ names: [name, "telemetry-register"] });
  return ["--import", builtFile("telemetry-register"), builtFile(name)];
}

function defaultRuntime(): "dist" | "tsx" {
  return process.env.WHITESLIP_RUN_TS === "1" ? "tsx" : "dist";
}

/** Port of a service under these options. */
export function portOf(name: ServiceName, opts: Pick<ProcessOptions, "ports">): number {
  const spec = SERVICES.find((s) => s.name === name)!;
  return opts.ports?.[name] ?? LOCAL_PORTS[spec.port];
}

/** Service addresses as the environment variables other services and the CLI read. */
export function addressEnv(opts: Pick<ProcessOptions, "ports">): Record<string, string> {
  const a = (n: ServiceName) => `127.0.0.1:${portOf(n, opts)}`;
  return {
    CREDIT_ADDR: a("credit"),
    BILLING_ADDR: a("billing"),
    NOTIFICATION_ADDR: a("notification"),
    COLLECTIONS_ADDR: a("collections"),
    CREDIT_REPORTING_ADDR: a("credit-reporting"),
  };
}

/**
 * The furnisher identity credit-reporting puts in bureau file headers, for local runs and tests (a deployment
 * sets its own in the ConfigMap): Metro 2 needs the reporter's name, address and telephone, PBOC the
 * institution code the Credit Reference Center assigned. Synthetic values of the company, not of a person.
 */
export const LOCAL_FURNISHER_ENV: Readonly<Record<string, string>> = {
  FURNISHER_ID: "WSFURN0001",
  FURNISHER_NAME: "WHITESLIP CONSUMER CREDIT",
  FURNISHER_ADDRESS: "88 JIANGUO ROAD CHAOYANG DISTRICT BEIJING 100022 CN",
  FURNISHER_PHONE: "1088886666",
  PBOC_INSTITUTION_CODE: "B1234H11000001",
};

// Service processes still running; killed if this process exits without stopping them (a test that timed
// out, a runner that exits), so no service outlives its test and keeps consuming from the broker.
const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

/** The TLS files of `identity` in `pki`, as @whiteslip/grpc takes them. */
export function tlsFiles(pki: LocalPki, identity: string): { caFile: string; certFile: string; keyFile: string } {
  const f = pki.files(identity);
  return { caFile: pki.caFile, certFile: f.cert, keyFile: f.key };
}

/** TLS_CA_FILE / TLS_CERT_FILE / TLS_KEY_FILE of `identity` (and the development plaintext flag cleared). */
export function tlsEnv(pki: LocalPki, identity: string): Record<string, string> {
  const f = pki.files(identity);
  return { TLS_CA_FILE: pki.caFile, TLS_CERT_FILE: f.cert, TLS_KEY_FILE: f.key, GRPC_PLAINTEXT_DEV: "" };
}

/**
 * grpcurl's transport flags for the platform's servers: mutual TLS as the ops tool (`-cacert -cert -key`). One
 * home for `npm start`'s printed `  Try:` line and the walking skeleton's grpcurl test, so the line is the tested one.
 */
export function grpcurlFlags(pki: LocalPki): string[] {
  const ops = pki.files("ops");
  return ["-cacert", pki.caFile, "-cert", ops.cert, "-key", ops.key];
}

/**
 * KAFKA_SASL_* of each service: its own principal (the broker's ACLs let it write only its own
 * domain's topics and read only with its own group). A cluster whose credentials name only one
 * principal (KAFKA_SASL_* from the environment, no credentials file) gets that one for every
 * service; one without SASL, nothing.
 */
export function kafkaPrincipalEnv(creds: KafkaCredentials | undefined): Record<ServiceName, Record<string, string>> {
  return Object.fromEntries(
    SERVICES.map((s) => {
      if (!creds) return [s.name, {}];
      const own = servicePrincipal(s.name);
      return [s.name, saslEnv(saslFor(creds, creds.passwords[own] !== undefined ? own : creds.admin))];
    }),
  ) as Record<ServiceName, Record<string, string>>;
}

/** Starts one service as a child process and waits until its gRPC health says SERVING. */
export async function startServiceProcess(name: ServiceName, opts: ProcessOptions): Promise<ServiceProcess> {
  const port = portOf(name, opts);
  const env = {
    ...process.env,
    ...opts.env,
    ...addressEnv(opts),
    ...(name === "credit-reporting" ? LOCAL_FURNISHER_ENV : {}),
    ...tlsEnv(opts.pki, name),
    ...(opts.serviceEnv?.[name] ?? {}),
    GRPC_PORT: String(port),
    GRPC_HOST: "127.0.0.1",
    // the service stops by itself if this process dies without stopping it (a killed test run, a crashed npm start)
    WHITESLIP_PARENT_PID: String(process.pid),
  };
  const child = spawn(process.execPath, await serviceCommand(name, opts.runtime), {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log: WriteStream | undefined;
  if (opts.logDir) {
    mkdirSync(opts.logDir, { recursive: true });
    log = createWriteStream(join(opts.logDir, `${name}.log`), { flags: "a" });
  }
  let tailText = "";
  const onData = (chunk: Buffer) => {
    log?.write(chunk);
    const text = chunk.toString("utf8");
    tailText = (tailText + text).slice(-4000);
    if (opts.onLine) for (const line of text.split("\n")) if (line.trim()) opts.onLine(name, line);
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  live.add(child);
  const exited = new Promise<number | null>((r) =>
    child.once("exit", (code) => {
      live.delete(child);
      r(code);
    }),
  );
  const address = `127.0.0.1:${port}`;
  // health on the main port answers authenticated callers only: ask as the ops tool, with credentials read afresh
  // for each attempt (a file-watching provider shared by channels opened and closed while the server was still
  // down kept reporting UNREACHABLE after it came up); mutual TLS start-up on a loaded machine needs longer
  const ops = tlsFiles(opts.pki, "ops");
  const ready = waitForServing(address, opts.readyTimeoutMs ?? 180_000, () =>
    credentials.createSsl(readFileSync(ops.caFile), readFileSync(ops.keyFile), readFileSync(ops.certFile)),
  );
  const first = await Promise.race([ready.then(() => "ready" as const), exited.then((code) => ({ code }))]).catch(async (e: Error) => {
    // not SERVING in time: do not leave the process behind
    child.kill("SIGKILL");
    await exited;
    log?.end();
    throw new Error(`${name}: ${e.message}:\n${tailText}`);
  });
  if (first !== "ready") {
    log?.end();
    throw new Error(`${name} exited with code ${first.code} before serving:\n${tailText}`);
  }
  const handle: ServiceProcess = {
    name,
    address,
    child,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
      log?.end();
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
      log?.end();
    },
    restart: () => startServiceProcess(name, opts),
  };
  return handle;
}

/** Starts all five services (in parallel) and returns them by name. */
export async function startAllServices(opts: ProcessOptions): Promise<Record<ServiceName, ServiceProcess>> {
  const started = await Promise.allSettled(SERVICES.map((s) => startServiceProcess(s.name, opts)));
  const failed = started.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed.length > 0) {
    await Promise.all(started.map((r) => (r.status === "fulfilled" ? r.value.stop() : undefined)));
    throw new Error(failed.map((f) => (f.reason as Error).message).join("\n"));
  }
  return Object.fromEntries(
    started.map((r) => {
      const p = (r as PromiseFulfilledResult<ServiceProcess>).value;
      return [p.name, p];
    }),
  ) as Record<ServiceName, ServiceProcess>;
}
