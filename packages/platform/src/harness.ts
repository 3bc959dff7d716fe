import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credit } from "@whiteslip/contracts";
import { type LocalDate, zonedInstant } from "@whiteslip/core";
import { type KafkaCredentials, saslFor } from "@whiteslip/config";
import { ensureLocalPki, type LocalPki } from "@whiteslip/identity";
import { closeClients, type PlatformClients, provisionKafka } from "@whiteslip/ops";
import { generateKeyring } from "@whiteslip/pii";
import { setFileClock } from "@whiteslip/runtime";
import { eventually, freePorts, uniqueName } from "@whiteslip/testkit";
import { driverClients } from "./driver";
import {
  addressEnv,
  kafkaPrincipalEnv,
  SERVICES,
  type ServiceName,
  type ServiceProcess,
  startAllServices,
  tlsEnv,
} from "./processes";
import { type ProviderSandbox, startProviderSandbox } from "./sinks";

/** The five services as processes for an end-to-end test, isolated from anything else on the broker. */
export interface TestPlatform {
  /** Clients as the storefront, the console (a supervisor) and ops — each RPC as its policy allows (see driver.ts). */
  clients: PlatformClients;
  /** The platform's own CA and certificates (services and clients), in the test's temporary folder. */
  pki: LocalPki;
  /** TLS_CA_FILE / TLS_CERT_FILE / TLS_KEY_FILE of one client identity (`console`, `ops` …). */
  tlsEnv(identity: string): Record<string, string>;
  /** `*_ADDR` variables of the services. */
  addressEnv: Record<string, string>;
  ports: Record<ServiceName, number>;
  clockFile: string;
  logDir: string;
  sandbox: ProviderSandbox;
  processes: Record<ServiceName, ServiceProcess>;
  /** Consumer group of each service. */
  groups: Record<ServiceName, string>;
  /** Database of each service (on the infrastructure's MongoDB-wire server). */
  databases: Record<ServiceName, string>;
  /** Put before every topic name of this platform (TOPIC_PREFIX): its facts are its own. */
  topicPrefix: string;
  /** kill -9 of one service's process (no graceful shutdown: leases, claims and the outbox stay as they were). */
  kill(name: ServiceName): Promise<void>;
  /** Starts one service again (after `kill` or a stop) with the same environment, port and database; waits for SERVING. */
  restart(name: ServiceName): Promise<ServiceProcess>;
  /** Moves the shared clock to `date` `hour`:`minute` Asia/Shanghai. */
  setClock(date: LocalDate, hour?: number, minute?: number): void;
  stop(): Promise<void>;
}

/**
 * Starts credit, billing, notification, collections and credit-reporting as separate
 * processes on free ports, each with its own fresh database and consumer group, sharing
 * a file clock set to `start` 10:00 Asia/Shanghai, with the provider sandboxes behind
 * notification so notices are really delivered.
 */
export async function startTestPlatform(
  infra: { kafkaBrokers: string[]; mongoUri: string; kafkaCredentials?: KafkaCredentials },
  opts: { start: LocalDate; tag: string; env?: Record<string, string>; readyTimeoutMs?: number; topicPrefix?: string },
): Promise<TestPlatform> {
  const dir = mkdtempSync(join(tmpdir(), `whiteslip-${opts.tag}-`));
  const topicPrefix = opts.topicPrefix ?? `${uniqueName(opts.tag)}.`;
  const clockFile = join(dir, "clock.json");
  setFileClock(clockFile, zonedInstant(opts.start, 10, 0, "Asia/Shanghai"));
  const free = await freePorts(SERVICES.length);
  const ports = Object.fromEntries(SERVICES.map((s, i) => [s.name, free[i]!])) as Record<ServiceName, number>;
  const serviceEnv = Object.fromEntries(
    SERVICES.map((s) => [s.name, { MONGODB_DB: uniqueName(`${opts.tag}_${s.name}`).replaceAll("-", "_").slice(0, 60), CONSUMER_GROUP: uniqueName(`${opts.tag}-${s.name}`) }]),
  ) as unknown as Record<ServiceName, Record<string, string>>;
  const groups = Object.fromEntries(SERVICES.map((s) => [s.name, serviceEnv[s.name].CONSUMER_GROUP!])) as Record<ServiceName, string>;
  // As the platform team would: this platform's topics and its services' ACLs (for its prefix and groups),
  // then each service connects as its own principal.
  const creds = infra.kafkaCredentials;
  await provisionKafka({
    brokers: infra.kafkaBrokers,
    topicPrefix,
    groups,
    ...(creds ? { sasl: saslFor(creds, creds.admin) } : {}),
  });
  const principals = kafkaPrincipalEnv(creds);
  for (const s of SERVICES) Object.assign(serviceEnv[s.name], principals[s.name]);
  const sandbox = await startProviderSandbox();
  Object.assign(serviceEnv.notification, sandbox.env());
  const logDir = join(dir, "logs");
  // a CA of its own per platform: every call between its processes is mutual TLS, as in production
  const pki = await ensureLocalPki({ dir: join(dir, "pki") });
  const processes = await startAllServices({
    pki,
    env: {
      KAFKA_BROKERS: infra.kafkaBrokers.join(","),
      MONGODB_URI: infra.mongoUri,
      CLOCK_FILE: clockFile,
      // keys of their own (random encryption and index keys), as a separate deployment has: nothing one
      // platform stores can be read with another's keys
      PII_KEYRING: JSON.stringify(generateKeyring()),
      // topics of its own: with the shared broker's topics, one platform's notification service sent
      // notices for another platform's facts, whose credit-reporting then took them as delivered
      TOPIC_PREFIX: topicPrefix,
      LOG_LEVEL: "warn",
      NODE_ENV: "test",
      ...(opts.env ?? {}),
    },
    serviceEnv,
    ports,
    logDir,
    ...(opts.readyTimeoutMs ? { readyTimeoutMs: opts.readyTimeoutMs } : {}),
  });
  const env = addressEnv({ ports });
  const clients = driverClients(
    {
      credit: env.CREDIT_ADDR!,
      billing: env.BILLING_ADDR!,
      notification: env.NOTIFICATION_ADDR!,
      collections: env.COLLECTIONS_ADDR!,
      creditReporting: env.CREDIT_REPORTING_ADDR!,
    },
    pki,
    30_000,
  );
  const platform: TestPlatform = {
    clients,
    pki,
    tlsEnv: (identity) => tlsEnv(pki, identity),
    addressEnv: env,
    ports,
    clockFile,
    logDir,
    sandbox,
    processes,
    groups,
    databases: Object.fromEntries(SERVICES.map((s) => [s.name, serviceEnv[s.name].MONGODB_DB!])) as Record<ServiceName, string>,
    topicPrefix,
    kill: (name) => platform.processes[name].kill(),
    async restart(name) {
      const current = platform.processes[name];
      await current.stop(5_000);
      platform.processes[name] = await current.restart();
      return platform.processes[name];
    },
    setClock: (date, hour = 10, minute = 0) => setFileClock(clockFile, zonedInstant(date, hour, minute, "Asia/Shanghai")),
    async stop() {
      closeClients(clients);
      // `processes` may hold a restarted process by now: stop what is current.
      await Promise.all(Object.values(platform.processes).map((p) => p.stop(5_000)));
      await sandbox.stop();
    },
  };
  return platform;
}

/** The tests' one polling helper, re-exported for the platform's harness users. */
export { eventually } from "@whiteslip/testkit";

/**
 * A strong applicant's profile (salaried, six years on the platform, 80 orders a year): approved at the top tier
 * by credit's scorecard. The tests and the demo that need "a customer with a line" apply with it.
 */
export const STRONG_APPLICATION = {
  monthlyIncomeFen: 3_000_000n,
  employment: credit.Employment.SALARIED,
  ordersLast12m: 80,
  spendLast12mFen: 6_000_000n,
  accountAgeMonths: 72,
  returnsLast12m: 2,
  ageYears: 36,
} as const;

/** Who `openAccount` registers (synthetic people only). */
export interface Applicant {
  name: string;
  nationalId: string;
  phone: string;
  email: string;
  /** Base of the idempotency keys of the registration and the application. */
  key: string;
  statementDay?: number;
  application?: Omit<credit.ApplyForCreditRequest, "$typeName" | "$unknown" | "customerId" | "idempotencyKey" | "statementDay">;
  /** Runs between the registration and the application (e.g. to give notification the contact points first). */
  beforeApply?: (customerId: string) => Promise<void>;
}

/**
 * Registers a customer with credit, applies (STRONG_APPLICATION unless given), and waits until billing has opened
 * the account from CreditLineOpened — the start of every journey that needs a customer with a line.
 */
export async function openAccount(
  p: Pick<TestPlatform, "clients">,
  who: Applicant,
  timeoutMs = 120_000,
): Promise<{ customerId: string; accountId: string; decision: credit.ApplyForCreditResponse }> {
  const reg = await p.clients.credit.registerCustomer({
    name: who.name,
    nationalId: who.nationalId,
    phone: who.phone,
    email: who.email,
    idempotencyKey: `${who.key}-register`,
  });
  await who.beforeApply?.(reg.customerId);
  const decision = await p.clients.credit.applyForCredit({
    customerId: reg.customerId,
    ...(who.application ?? STRONG_APPLICATION),
    statementDay: who.statementDay ?? 2,
    idempotencyKey: `${who.key}-apply`,
  });
  if (!decision.creditLine) throw new Error(`${who.name} was not approved (decision ${credit.Decision[decision.decision]})`);
  const accountId = decision.creditLine.creditLineId;
  await eventually("billing to open the account", () => p.clients.billing.getAccountSummary({ accountId }), timeoutMs);
  return { customerId: reg.customerId, accountId, decision };
}
