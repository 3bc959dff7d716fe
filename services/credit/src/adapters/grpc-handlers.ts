/** gRPC handlers of whiteslip.credit.v1.CreditService: decode → use case → encode; DomainErrors map to status codes in @whiteslip/grpc. */
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { credit } from "@whiteslip/contracts";
import { auditActor, type ServiceRegistration, service } from "@whiteslip/grpc";
import { adjustCreditLine } from "../app/adjust-credit-line";
import { applyForCredit } from "../app/apply-for-credit";
import { authorizePurchase } from "../app/authorize-purchase";
import type { CreditDeps } from "../app/deps";
import { getCreditLine } from "../app/get-credit-line";
import { getReportingIdentities, type AuditLogger } from "../app/get-reporting-identities";
import { getRestrictions } from "../app/get-restrictions";
import { registerCustomer } from "../app/register-customer";
import { releaseAuthorization } from "../app/release-authorization";
import { fromProtoEmployment, fromProtoScenario, toProtoDecision, toProtoFeature, toProtoLine, toProtoTier } from "./proto-mapping";

/** The CreditService registration for the gRPC server. */
export function creditGrpcService(d: CreditDeps, audit: AuditLogger): ServiceRegistration {
  return service(credit.CreditService, {
    registerCustomer: async (req) => {
      const r = await registerCustomer(d, { name: req.name, nationalId: req.nationalId, phone: req.phone, email: req.email, ...(req.address ? { address: req.address } : {}) });
      return { customerId: r.customerId, nationalIdMasked: r.nationalIdMasked, phoneMasked: r.phoneMasked, created: r.created };
    },
    applyForCredit: async (req) => {
      const { application: a, line } = await applyForCredit(d, {
        customerId: req.customerId,
        monthlyIncomeFen: req.monthlyIncomeFen,
        employment: fromProtoEmployment(req.employment),
        ordersLast12m: req.ordersLast12m,
        spendLast12mFen: req.spendLast12mFen,
        accountAgeMonths: req.accountAgeMonths,
        returnsLast12m: req.returnsLast12m,
        ageYears: req.ageYears,
        statementDay: req.statementDay,
        idempotencyKey: req.idempotencyKey,
      });
      return {
        applicationId: a.id,
        decision: toProtoDecision(a.decision),
        score: a.score,
        probabilityOfDefault: a.pd,
        tier: toProtoTier(a.tier),
        reasons: a.reasons.map((r) => ({ code: r.code, description: r.description, points: r.points })),
        modelVersion: a.modelVersion,
        ...(line ? { creditLine: toProtoLine(line) } : {}),
      };
    },
    getCreditLine: async (req) => ({ creditLine: toProtoLine(await getCreditLine(d, req.creditLineId)) }),
    adjustCreditLine: async (req, ctx) => ({
      creditLine: toProtoLine(
        await adjustCreditLine(d, {
          creditLineId: req.creditLineId,
          newLimitFen: req.newLimitFen,
          freeze: req.freeze,
          setStatus: req.setStatus,
          reason: req.reason,
          actor: auditActor(ctx, req.actor),
          idempotencyKey: req.idempotencyKey,
        }),
      ),
    }),
    authorizePurchase: async (req) => {
      const a = await authorizePurchase(d, {
        creditLineId: req.creditLineId,
        amountFen: req.amountFen,
        merchantScenario: fromProtoScenario(req.merchantScenario),
        merchantId: req.merchantId,
        orderId: req.orderId,
        installmentMonths: req.installmentMonths,
        idempotencyKey: req.idempotencyKey,
      });
      return {
        authorizationId: a.id,
        decision: a.decision === "APPROVED" ? credit.AuthorizationDecision.APPROVED : credit.AuthorizationDecision.DECLINED,
        declineReason: a.declineReason,
        availableFen: a.availableFen,
        ...(a.expiresAt ? { expiresAt: timestampFromDate(a.expiresAt) } : {}),
      };
    },
    releaseAuthorization: async (req) => releaseAuthorization(d, req.authorizationId),
    getRestrictions: async (req) => {
      const r = await getRestrictions(d, req.accountId);
      return {
        accountId: req.accountId,
        restrictedFeatures: r.features.map(toProtoFeature),
        reason: r.reason,
        ...(r.since ? { since: timestampFromDate(r.since) } : {}),
        daysPastDue: r.daysPastDue,
      };
    },
    getReportingIdentities: async (req, ctx) => {
      const r = await getReportingIdentities(d, { accountIds: req.accountIds, purpose: req.purpose, caller: ctx.principal?.subject ?? ctx.peer }, audit);
      return {
        identities: r.identities.map((i) => ({
          accountId: i.accountId,
          customerId: i.customerId,
          name: i.name,
          idType: i.idType,
          idNumber: i.idNumber,
          dateOfBirth: i.dateOfBirth,
          phone: i.phone,
          ...(i.address ? { address: i.address } : {}),
        })),
        missingAccountIds: r.missingAccountIds,
      };
    },
  });
}
