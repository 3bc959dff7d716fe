/** Typed gRPC clients of the five services, built from their protobuf-es descriptors. */
import { billing, collections, credit, creditreporting, notification } from "@whiteslip/contracts";
import { type ClientOptions, createClient } from "@whiteslip/grpc";

/** Where the five services listen (`host:port`). */
export interface ServiceAddresses {
  credit: string;
  billing: string;
  notification: string;
  collections: string;
  creditReporting: string;
}

/** Creates one client per service; `transport` carries the console's credentials and user tokens (service-identity.ts). */
export function serviceClients(
  addr: ServiceAddresses,
  deadlineMs = 10_000,
  transport: Pick<ClientOptions, "credentials" | "callMetadata"> = {},
) {
  const o: ClientOptions = { deadlineMs, ...transport };
  return {
    credit: createClient(credit.CreditService, addr.credit, o),
    billing: createClient(billing.BillingService, addr.billing, o),
    notification: createClient(notification.NotificationService, addr.notification, o),
    collections: createClient(collections.CollectionsService, addr.collections, o),
    creditReporting: createClient(creditreporting.CreditReportingService, addr.creditReporting, o),
  };
}

/** The console's clients. */
export type ServiceClients = ReturnType<typeof serviceClients>;

/** Closes every channel. */
export function closeClients(c: ServiceClients): void {
  for (const client of Object.values(c)) client.close();
}
