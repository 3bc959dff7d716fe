/**
 * Identities from credit's GetReportingIdentities, in batches of 500. The client is built like every other
 * service-to-service client (collections → billing), so it gets the platform's channel security with them.
 */
import type { ChannelCredentials } from "@grpc/grpc-js";
import { credit } from "@whiteslip/contracts";
import { createClient, type ServiceClient } from "@whiteslip/grpc";
import type { IdentityProvider } from "../app/ports";
import type { ConsumerIdentity, IdType } from "../domain/identity";

const BATCH = 500;

/** credit's identities over gRPC. */
export class GrpcCreditIdentities implements IdentityProvider {
  readonly client: ServiceClient<typeof credit.CreditService>;
  constructor(address: string, deadlineMs = 10_000, credentials?: ChannelCredentials) {
    this.client = createClient(credit.CreditService, address, { deadlineMs, ...(credentials ? { credentials } : {}) });
  }

  async identities(accountIds: readonly string[], purpose: string): Promise<Map<string, ConsumerIdentity>> {
    const out = new Map<string, ConsumerIdentity>();
    for (let i = 0; i < accountIds.length; i += BATCH) {
      const res = await this.client.getReportingIdentities({ accountIds: accountIds.slice(i, i + BATCH), purpose });
      for (const x of res.identities) {
        out.set(x.accountId, {
          accountId: x.accountId,
          customerId: x.customerId,
          name: x.name,
          idType: x.idType as IdType,
          idNumber: x.idNumber,
          dateOfBirth: x.dateOfBirth,
          phone: x.phone,
          address: x.address
            ? {
                line1: x.address.line1,
                line2: x.address.line2,
                city: x.address.city,
                provinceCode: x.address.provinceCode,
                postalCode: x.address.postalCode,
                countryCode: x.address.countryCode || "CN",
              }
            : null,
        });
      }
    }
    return out;
  }

  /** Closes the channel. */
  close(): void {
    this.client.close();
  }
}
