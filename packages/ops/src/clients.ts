import { billing, collections, credit, creditreporting, notification } from "@whiteslip/contracts";
import { createClient } from "@whiteslip/grpc";

/** Where the services listen; from env (`BILLING_ADDR`, …) or the local-run defaults. */
export interface Addresses {
  credit: string;
  billing: string;
  notification: string;
  collections: string;
  creditReporting: string;
}

/** Ports the local run gives the services (also the defaults of the ops CLI). */
export const LOCAL_PORTS = {
  credit: 50051,
  billing: 50052,
  notification: 50053,
  collections: 50054,
  creditReporting: 50055,
} as const;

/** Addresses from the environment, defaulting to the local run's ports on 127.0.0.1. */
export function addressesFromEnv(env: Record<string, string | undefined> = process.env): Addresses {
  const local = (p: number) => `127.0.0.1:${p}`;
  return {
    credit: env.CREDIT_ADDR ?? local(LOCAL_PORTS.credit),
    billing: env.BILLING_ADDR ?? local(LOCAL_PORTS.billing),
    notification: env.NOTIFICATION_ADDR ?? local(LOCAL_PORTS.notification),
    collections: env.COLLECTIONS_ADDR ?? local(LOCAL_PORTS.collections),
    creditReporting: env.CREDIT_REPORTING_ADDR ?? local(LOCAL_PORTS.creditReporting),
  };
}

/** Typed clients of the five services. */
export function platformClients(addr: Addresses, deadlineMs = 10_000) {
  return {
    credit: createClient(credit.CreditService, addr.credit, { deadlineMs }),
    billing: createClient(billing.BillingService, addr.billing, { deadlineMs }),
    notification: createClient(notification.NotificationService, addr.notification, { deadlineMs }),
    collections: createClient(collections.CollectionsService, addr.collections, { deadlineMs }),
    creditReporting: createClient(creditreporting.CreditReportingService, addr.creditReporting, { deadlineMs }),
  };
}

export type PlatformClients = ReturnType<typeof platformClients>;

/** Closes every client. */
export function closeClients(c: PlatformClients): void {
  for (const client of Object.values(c)) client.close();
}
