import { LOCAL_PORTS, localAddress } from "@whiteslip/config";
import { billing, collections, credit, creditreporting, notification } from "@whiteslip/contracts";
import { createClient } from "@whiteslip/grpc";

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
