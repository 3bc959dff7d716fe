/** gRPC handlers of whiteslip.collections.v1.CollectionsService: decode, call the use case, encode. */
import { collections } from "@whiteslip/contracts";
import { invalidArgument } from "@whiteslip/core";
import { actingAgent, auditActor, type ServiceRegistration, service } from "@whiteslip/grpc";
import { assignCase } from "../app/assign-case";
import { checkPromises } from "../app/check-promises";
import { getStrategies } from "../app/get-strategies";
import { listStrategyChanges } from "../app/list-strategy-changes";
import { promoteChallenger } from "../app/promote-challenger";
import { logContactAttempt } from "../app/log-contact-attempt";
import { offerRepaymentPlan } from "../app/offer-repayment-plan";
import type { Deps } from "../app/ports";
import { getCase, getCollectionsStats, listAgents, listCases } from "../app/queries";
import { recordPromiseToPay } from "../app/record-promise-to-pay";
import { grantDeferral } from "../app/grant-deferral";
import { requestFeeWaiver } from "../app/request-fee-waiver";
import { resolveDispute } from "../app/resolve-dispute";
import { sendLegalNotice } from "../app/send-legal-notice";
import { updateStrategies } from "../app/update-strategies";
import { upsertAgent } from "../app/upsert-agent";
import type { BucketRates } from "../domain/stats";
import type { CaseStatus } from "../domain/types";
import { isValidPageToken } from "./mongo-cases";
import {
  attemptToProto,
  auditToProto,
  bucketFromProto,
  bucketToProto,
  caseStatusFromProto,
  caseToProto,
  channelFromProto,
  legalNoticeToProto,
  outcomeFromProto,
  promiseToProto,
  reasonFromProto,
} from "./proto";
import { strategyChangeToProto, strategyTableFromProto, strategyTableVersionToProto } from "./proto-strategies";

const bucketOutcomeToProto = (b: BucketRates) => ({
  bucket: bucketToProto(b.bucket),
  cases: BigInt(b.cases),
  cureRate: b.cureRate,
  rollRate: b.rollRate,
});

/** The CollectionsService registration. */
export function collectionsService(deps: Deps): ServiceRegistration {
  return service(collections.CollectionsService, {
    getStrategies: async () => ({ current: strategyTableVersionToProto(await getStrategies(deps)) }),
    updateStrategies: async (req, ctx) => {
      const table = strategyTableFromProto(req.table);
      const stored = await updateStrategies(deps, {
        table,
        ...(req.table && !table
          ? { decodeViolations: [{ field: "table.champion", description: "must be set" }] }
          : {}),
        expectedVersion: req.expectedVersion,
        actor: auditActor(ctx, req.actor),
        reason: req.reason,
        validateOnly: req.validateOnly,
      });
      return { current: strategyTableVersionToProto(stored) };
    },
    promoteChallenger: async (req, ctx) => {
      const r = await promoteChallenger(deps, {
        challengerId: req.challengerId,
        expectedVersion: req.expectedVersion,
        reason: req.reason,
        actor: auditActor(ctx, req.actor),
        keepFormerChampion: req.keepFormerChampion,
      });
      return { current: strategyTableVersionToProto(r.current), change: strategyChangeToProto(r.change) };
    },
    listStrategyChanges: async (req) => ({
      changes: (await listStrategyChanges(deps, req.pageSize, req.beforeVersion)).map(strategyChangeToProto),
    }),
    listCases: async (req) => {
      const statuses = req.statuses.map(caseStatusFromProto);
      if (statuses.includes("UNSPECIFIED"))
        throw invalidArgument([
          { field: "statuses", description: "must not contain CASE_STATUS_UNSPECIFIED" },
        ]);
      if (!isValidPageToken(req.pageToken))
        throw invalidArgument([{ field: "page_token", description: "is not a token from a previous page" }]);
      const bucket = bucketFromProto(req.bucket);
      const page = await listCases(
        deps,
        {
          ...(req.agentId ? { agentId: req.agentId } : {}),
          ...(statuses.length ? { statuses: statuses as CaseStatus[] } : {}),
          ...(bucket !== "UNSPECIFIED" ? { bucket } : {}),
          ...(req.queue ? { queue: req.queue } : {}),
          ...(req.accountId ? { accountId: req.accountId } : {}),
        },
        req.pageSize,
        req.pageToken,
      );
      return { cases: page.cases.map(caseToProto), nextPageToken: page.next };
    },
    getCase: async (req) => {
      const v = await getCase(deps, req.caseId);
      const c = v.case;
      return {
        case: caseToProto(c),
        attempts: [...c.attempts].reverse().map(attemptToProto),
        promises: [...c.promises].reverse().map(promiseToProto),
        audit: c.audit.map(auditToProto),
        ...(v.account ? { account: v.account } : {}),
        planIds: c.planIds,
        legalNotices: c.legalNotices.map(legalNoticeToProto),
        terms: { ...v.terms, installmentTerms: [...v.terms.installmentTerms] },
      };
    },
    assignCase: async (req, ctx) => ({
      case: caseToProto(
        await assignCase(deps, {
          caseId: req.caseId,
          agentId: req.agentId,
          actor: auditActor(ctx, req.actor),
          reassign: req.reassign,
        }),
      ),
    }),
    logContactAttempt: async (req, ctx) => {
      const r = await logContactAttempt(deps, {
        caseId: req.caseId,
        idempotencyKey: req.idempotencyKey,
        agentId: actingAgent(ctx, req.agentId),
        channel: channelFromProto(req.channel),
        outcome: outcomeFromProto(req.outcome),
        reason: reasonFromProto(req.reason),
        note: req.note,
        contactParty: req.contactParty,
        consentOutsideHours: req.consentOutsideHours,
        purpose: req.purpose,
      });
      return {
        attempt: attemptToProto(r.attempt),
        suggestedSolution: r.attempt.suggestedSolution,
        case: caseToProto(r.case),
      };
    },
    recordPromiseToPay: async (req, ctx) => ({
      promise: promiseToProto(
        await recordPromiseToPay(deps, {
          caseId: req.caseId,
          amountFen: req.amountFen,
          promisedDate: req.promisedDate,
          agentId: actingAgent(ctx, req.agentId),
          idempotencyKey: req.idempotencyKey,
        }),
      ),
    }),
    offerRepaymentPlan: async (req, ctx) => ({
      plan: await offerRepaymentPlan(deps, {
        caseId: req.caseId,
        installmentCount: req.installmentCount,
        agentId: actingAgent(ctx, req.agentId),
        idempotencyKey: req.idempotencyKey,
      }),
    }),
    sendLegalNotice: async (req, ctx) => {
      const n = await sendLegalNotice(deps, {
        caseId: req.caseId,
        deadlineDays: req.deadlineDays,
        actor: auditActor(ctx, req.actor),
        idempotencyKey: req.idempotencyKey,
      });
      return { noticeId: n.noticeId, deadlineDate: n.deadlineDate };
    },
    getCollectionsStats: async () => {
      const s = await getCollectionsStats(deps);
      return {
        strategies: s.strategies.map((x) => ({
          strategyId: x.strategyId,
          cases: BigInt(x.cases),
          cured: BigInt(x.cured),
          cureRate: x.cureRate,
          collectedFen: x.collectedFen,
          promiseKeptRate: x.promiseKeptRate,
          contactsPerCase: x.contactsPerCase,
          cureRateLow: x.cureRateLow,
          cureRateHigh: x.cureRateHigh,
          cureRatePValue: x.cureRatePValue,
          rollRateM1: x.rollRateM1,
          costFen: x.costFen,
          costPerCaseFen: x.costPerCaseFen,
          buckets: x.buckets.map(bucketOutcomeToProto),
          champion: x.champion,
        })),
        buckets: s.buckets.map(bucketOutcomeToProto),
        openCases: BigInt(s.openCases),
        collectedFen: s.collectedFen,
      };
    },
    upsertAgent: async (req) => {
      if (!req.agent) throw invalidArgument([{ field: "agent", description: "must be set" }]);
      const a = await upsertAgent(deps, {
        agentId: req.agent.agentId,
        displayName: req.agent.displayName,
        skills: req.agent.skills,
        active: req.agent.active,
      });
      return {
        agent: { agentId: a.agentId, displayName: a.displayName, skills: a.skills, active: a.active },
      };
    },
    listAgents: async (req) => ({
      agents: (await listAgents(deps, req.skill)).map((a) => ({
        agentId: a.agentId,
        displayName: a.displayName,
        skills: a.skills,
        active: a.active,
        openCases: a.openCases,
      })),
    }),
    resolveDispute: async (req, ctx) => ({
      case: caseToProto(
        await resolveDispute(deps, { caseId: req.caseId, actor: auditActor(ctx, req.actor), resolution: req.resolution }),
      ),
    }),
    requestFeeWaiver: async (req, ctx) => {
      const r = await requestFeeWaiver(deps, {
        caseId: req.caseId,
        amountFen: req.amountFen,
        agentId: actingAgent(ctx, req.agentId),
        idempotencyKey: req.idempotencyKey,
      });
      return { waivedFen: r.waivedFen, caseWaivedFen: r.caseWaivedFen };
    },
    grantDeferral: async (req, ctx) =>
      grantDeferral(deps, {
        caseId: req.caseId,
        days: req.days,
        agentId: actingAgent(ctx, req.agentId),
        idempotencyKey: req.idempotencyKey,
      }),
    runPromiseCheck: async (req) => {
      const r = await checkPromises(deps, req.asOfDate);
      return { asOfDate: r.asOfDate, broken: r.broken };
    },
  });
}
