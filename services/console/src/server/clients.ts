/** Typed gRPC clients of the five services, built from their protobuf-es descriptors. */
import { billing, collections, credit, creditreporting, notification } from "@whiteslip/contracts";
import { createClient } from "@whiteslip/grpc";

/** Where the five services listen (`host:port`). */
export interface ServiceAddresses {
  credit: string;
  billing: string;
  notification: string;
  collections: string;
  creditReporting: string;
}

/** Creates one client per service. */
export function serviceClients(addr: ServiceAddresses, deadlineMs = 10_000) {
  return {
    credit: createClient(credit.CreditService, addr.credit, { deadlineMs }),
    billing: createClient(billing.BillingService, addr.billing, { deadlineMs }),
    notification: createClient(notification.NotificationService, addr.notification, { deadlineMs }),
    collections: createClient(collections.CollectionsService, addr.collections, { deadlineMs }),
    creditReporting: createClient(creditreporting.CreditReportingService, addr.creditReporting, {
      deadlineMs,
    }),
  };
}

/** The console's clients. */
export type ServiceClients = ReturnType<typeof serviceClients>;

/** Closes every channel. */
export function closeClients(c: ServiceClients): void {
  for (const client of Object.values(c)) client.close();
}
