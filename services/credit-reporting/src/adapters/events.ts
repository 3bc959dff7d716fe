/** Outgoing domain events → CloudEvents on their topics (protobuf payloads). */
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type OutgoingEvent as BusEvent, encodeEvent } from "@whiteslip/bus";
import { Topics } from "@whiteslip/contracts";
import type { OutgoingEvent } from "../app/ports";
import type { ScoreChange } from "../domain/account";

/** The proto init shape of a score change. */
export function scoreChangeToProto(c: ScoreChange) {
  return {
    changeId: c.changeId,
    previousScore: c.previousScore,
    score: c.score,
    reasons: c.reasons.map((r) => ({ code: r.code, description: r.description, points: r.points })),
    changedAt: timestampFromDate(c.changedAt),
    businessDate: c.businessDate,
    causeEventId: c.causeEventId,
  };
}

/** Encodes one outgoing event; the event id is the domain's deterministic id. */
export function toBusEvent(e: OutgoingEvent): BusEvent {
  switch (e.type) {
    case "ScoreChanged":
      return encodeEvent(Topics.ScoreChanged, {
        id: e.id,
        key: e.key,
        time: e.time,
        data: { accountId: e.accountId, customerId: e.customerId, change: scoreChangeToProto(e.change) },
      });
    case "NegativeReportPending":
      return encodeEvent(Topics.NegativeReportPending, {
        id: e.id,
        key: e.key,
        time: e.time,
        data: {
          noticeId: e.notice.noticeId,
          accountId: e.notice.accountId,
          customerId: e.notice.customerId,
          daysPastDue: e.notice.dpd,
          overdueFen: e.notice.overdueFen,
          earliestReportDate: e.notice.earliestReportDate,
          bureau: e.notice.bureau,
        },
      });
    case "BureauFileGenerated":
      return encodeEvent(Topics.BureauFileGenerated, {
        id: e.id,
        key: e.key,
        time: e.time,
        data: {
          fileId: e.file.fileId,
          asOfDate: e.file.asOf,
          format: e.file.format,
          recordCount: e.file.recordCount,
          sha256: e.file.sha256,
          accountId: "",
        },
      });
  }
}
