import { existsSync } from "node:fs";
import { type ChannelCredentials, credentials as grpcCredentials } from "@grpc/grpc-js";
import { LOCAL_PORTS, loadTlsConfig, localAddress } from "@whiteslip/config";
import { billing, collections, credit, creditreporting, notification } from "@whiteslip/contracts";
import { clientTlsCredentials, createClient } from "@whiteslip/grpc";
import { localPkiDir } from "@whiteslip/identity";

export { LOCAL_PORTS };

/** Where the services listen; from env (`BILLING_ADDR`, …) or the local-run defaults. */
export interface Addresses {
  credit: string;
  billing: string;
  notification: string;
  collections: string;
  creditReporting: string;
}

/** Addresses from the environment, defaulting to the local run's ports on 127.0.0.1. */
export function addressesFromEnv(env: Record<string, string | undefined> = process.env): Addresses {
  return {
    credit: env.CREDIT_ADDR ?? localAddress("credit"),
    billing: env.BILLING_ADDR ?? localAddress("billing"),
    notification: env.NOTIFICATION_ADDR ?? localAddress("notification"),
    collections: env.COLLECTIONS_ADDR ?? localAddress("collections"),
    creditReporting: env.CREDIT_REPORTING_ADDR ?? localAddress("creditReporting"),
  };
}

/**
 * The client credentials of a tool: mutual TLS from TLS_CA_FILE / TLS_CERT_FILE / TLS_KEY_FILE (the end-of-day
 * CronJob mounts its own `eod` certificate there), else — on a developer machine after `npm start` — the local
 * PKI's certificate of `identity` (`$WHITESLIP_CACHE/pki/<identity>.pem`), else plaintext only with the
 * development flag GRPC_PLAINTEXT_DEV=1. Validated by @whiteslip/config (production refuses plaintext).
 */
export function clientCredentialsFromEnv(
  identity = "ops",
  env: Record<string, string | undefined> = process.env,
): ChannelCredentials {
  const local = localPkiDir(env);
  const withLocal =
    !env.TLS_CERT_FILE && !env.GRPC_PLAINTEXT_DEV && existsSync(`${local}/${identity}.pem`)
      ? {
          TLS_CA_FILE: `${local}/ca.pem`,
          TLS_CERT_FILE: `${local}/${identity}.pem`,
          TLS_KEY_FILE: `${local}/${identity}.key`,
          ...env,
        }
      : env;
  const tls = loadTlsConfig(withLocal);
  if (tls.GRPC_PLAINTEXT_DEV) return grpcCredentials.createInsecure();
  return clientTlsCredentials({
    caFile: tls.TLS_CA_FILE!,
    certFile: tls.TLS_CERT_FILE!,
    keyFile: tls.TLS_KEY_FILE!,
    refreshMs: tls.TLS_REFRESH_MS,
  });
}

/** Typed clients of the five services, all speaking with `credentials` (one identity). */
export function platformClients(addr: Addresses, deadlineMs = 10_000, credentials?: ChannelCredentials) {
  const o = { deadlineMs, ...(credentials ? { credentials } : {}) };
  return {
    credit: createClient(credit.CreditService, addr.credit, o),
    billing: createClient(billing.BillingService, addr.billing, o),
    notification: createClient(notification.NotificationService, addr.notification, o),
    collections: createClient(collections.CollectionsService, addr.collections, o),
    creditReporting: createClient(creditreporting.CreditReportingService, addr.creditReporting, o),
  };
}

export type PlatformClients = ReturnType<typeof platformClients>;

/** Closes every client. */
export function closeClients(c: PlatformClients): void {
  for (const client of Object.values(c)) client.close();
}
