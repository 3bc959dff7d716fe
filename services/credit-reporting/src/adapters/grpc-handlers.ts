/** gRPC handlers of whiteslip.creditreporting.v1.CreditReportingService: requests → use cases → responses. */
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { creditreporting } from "@whiteslip/contracts";
import { type ServiceRegistration, service } from "@whiteslip/grpc";
import { fileDispute } from "../app/file-dispute";
import { generateBureauFile } from "../app/generate-bureau-file";
import { getBureauFile } from "../app/get-bureau-file";
import { getCreditScore } from "../app/get-credit-score";
import { listScoreHistory } from "../app/list-score-history";
import type { Deps } from "../app/ports";
import { resolveDispute } from "../app/resolve-dispute";
import type { Dispute } from "../domain/account";
import type { BureauFile } from "../domain/bureau-file";
import { scoreChangeToProto } from "./events";

const DISPUTE_STATUS = {
  OPEN: creditreporting.DisputeStatus.OPEN,
  RESOLVED_CORRECTED: creditreporting.DisputeStatus.RESOLVED_CORRECTED,
  RESOLVED_VERIFIED: creditreporting.DisputeStatus.RESOLVED_VERIFIED,
} as const;

function disputeToProto(accountId: string, d: Dispute) {
  return {
    disputeId: d.disputeId,
    accountId,
    status: DISPUTE_STATUS[d.status],
    reason: d.reason,
    filedAt: timestampFromDate(d.filedAt),
    ...(d.resolvedAt ? { resolvedAt: timestampFromDate(d.resolvedAt) } : {}),
    resolution: d.resolution,
  };
}

function fileToProto(f: BureauFile) {
  return {
    fileId: f.fileId,
    format: f.format,
    content: f.content,
    recordCount: f.recordCount,
    sha256: f.sha256,
    asOfDate: f.asOf,
    withheldCount: f.withheldCount,
  };
}

/** The service registration for `startGrpcServer`. */
export function creditReportingService(deps: Deps): ServiceRegistration {
  return service(creditreporting.CreditReportingService, {
    getCreditScore: async (req) => {
      const v = await getCreditScore(deps, req.accountId);
      return {
        accountId: v.accountId,
        customerId: v.customerId,
        score: v.score,
        ...(v.latest ? { latest: scoreChangeToProto(v.latest) } : {}),
        reportingState: v.reportingState,
      };
    },
    listScoreHistory: async (req) => {
      const page = await listScoreHistory(deps, {
        accountId: req.accountId,
        pageSize: req.pageSize,
        pageToken: req.pageToken,
      });
      return { changes: page.changes.map(scoreChangeToProto), nextPageToken: page.nextPageToken };
    },
    generateBureauFile: async (req, ctx) =>
      fileToProto(
        await generateBureauFile(deps, {
          asOf: req.asOfDate,
          format: req.format,
          caller: ctx.principal?.subject ?? ctx.peer,
          requestedBy: req.requestedBy,
        }),
      ),
    getBureauFile: async (req, ctx) => ({
      file: fileToProto(
        await getBureauFile(deps, {
          asOf: req.asOfDate,
          format: req.format,
          caller: ctx.principal?.subject ?? ctx.peer,
          requestedBy: req.requestedBy,
        }),
      ),
    }),
    fileDispute: async (req) => {
      const d = await fileDispute(deps, {
        accountId: req.accountId,
        reason: req.reason,
        idempotencyKey: req.idempotencyKey,
      });
      return { dispute: disputeToProto(req.accountId, d) };
    },
    resolveDispute: async (req) => {
      const r = await resolveDispute(deps, {
        disputeId: req.disputeId,
        corrected: req.corrected,
        resolution: req.resolution,
      });
      return { dispute: disputeToProto(r.accountId, r.dispute) };
    },
  });
}
