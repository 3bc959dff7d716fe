/** Billing over real gRPC (BillingService), as the BillingPort. */
import { billing } from "@whiteslip/contracts";
import type { Fen } from "@whiteslip/core";
import type { ChannelCredentials } from "@grpc/grpc-js";
import { createClient, isGrpcError, type ServiceClient } from "@whiteslip/grpc";
import type { BillingPort } from "../app/ports";

/** Warn-level logging surface. */
interface WarnLogger {
  warn(obj: object, msg?: string): void;
}

/** Billing's gRPC client behind the port; GrpcErrors from billing propagate to the caller unchanged. */
export class GrpcBilling implements BillingPort {
  readonly client: ServiceClient<typeof billing.BillingService>;

  constructor(
    address: string,
    private readonly logger: WarnLogger,
    /** Collections' own identity (mutual TLS); insecure only in development mode. */
    credentials?: ChannelCredentials,
    deadlineMs = 5_000,
  ) {
    this.client = createClient(billing.BillingService, address, { deadlineMs, ...(credentials ? { credentials } : {}) });
  }

  async createRepaymentPlan(r: {
    accountId: string;
    installmentCount: number;
    requestedBy: string;
    idempotencyKey: string;
  }) {
    const res = await this.client.createRepaymentPlan(r).catch(rethrowAsDomain);
    if (!res.plan) throw new Error("billing returned no plan");
    return res.plan;
  }

  async waiveFees(r: {
    accountId: string;
    maxAmountFen: Fen;
    reason: string;
    approvedBy: string;
    idempotencyKey: string;
  }) {
    return (await this.client.waiveFees(r).catch(rethrowAsDomain)).waivedFen;
  }

  async deferPayment(r: {
    accountId: string;
    days: number;
    reason: string;
    requestedBy: string;
    idempotencyKey: string;
  }) {
    const res = await this.client.deferPayment(r).catch(rethrowAsDomain);
    return { deferralId: res.deferralId, dueDate: res.dueDate, deferredFen: res.deferredFen };
  }

  async getAccountSummary(accountId: string) {
    try {
      return (await this.client.getAccountSummary({ accountId })).account ?? null;
    } catch (e) {
      this.logger.warn(
        { err: (e as Error).message, accountId },
        "billing GetAccountSummary failed; case shown without balances",
      );
      return null;
    }
  }

  async getProductTerms(accountId: string) {
    const res = await this.client.getProductTerms({ accountId }).catch(rethrowAsDomain);
    if (!res.terms) throw new Error("billing returned no product terms");
    return { installmentTerms: res.terms.installmentTerms, maxDeferralDays: res.terms.maxDeferralDays };
  }

  /** Closes the channel. */
  close(): void {
    this.client.close();
  }
}

/** Billing's caller-mistake errors (FAILED_PRECONDITION, NOT_FOUND, …) pass through to our caller with their reason. */
function rethrowAsDomain(e: unknown): never {
  if (isGrpcError(e)) throw e.toDomainError() ?? e;
  throw e;
}
