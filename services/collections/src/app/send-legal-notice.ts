import { deterministicId, notFound, Violations } from "@whiteslip/core";
import type { LegalNotice } from "../domain/types";
import { DEFAULT_NOTICE_DEADLINE_DAYS, MAX_NOTICE_DEADLINE_DAYS, requestLegalNotice } from "../domain/work";
import { mutateCase } from "./mutate-case";
import type { Deps } from "./ports";

/** SendLegalNotice input. */
export interface LegalNoticeInput {
  caseId: string;
  /** Days to the deadline; 0 means DEFAULT_NOTICE_DEADLINE_DAYS. */
  deadlineDays: number;
  actor: string;
  idempotencyKey: string;
}

/**
 * Records a formal legal notice (法律告知函) on the case and publishes LegalNoticeRequested (through the case's outbox)
 * for notification to deliver: creditor, overdue and total amounts, DPD, deadline, legal basis and consequences.
 */
export async function sendLegalNotice(deps: Deps, i: LegalNoticeInput): Promise<LegalNotice> {
  new Violations()
    .check(i.caseId.trim() === "", "case_id", "must be set")
    .check(
      !Number.isInteger(i.deadlineDays) || i.deadlineDays < 0 || i.deadlineDays > MAX_NOTICE_DEADLINE_DAYS,
      "deadline_days",
      `must be 0–${MAX_NOTICE_DEADLINE_DAYS} (0 = default ${DEFAULT_NOTICE_DEADLINE_DAYS})`,
    )
    .check(i.idempotencyKey.trim() === "", "idempotency_key", "must be set")
    .throwIfAny();
  const noticeId = deterministicId("legal-notice", i.caseId, i.idempotencyKey);
  const c = await mutateCase(deps.cases, i.caseId, (c) => {
    const d = requestLegalNotice(
      c,
      {
        noticeId,
        deadlineDays: i.deadlineDays || DEFAULT_NOTICE_DEADLINE_DAYS,
        creditor: deps.policy.creditor,
        actor: i.actor || "system",
        businessTimeZone: deps.policy.businessTimeZone,
      },
      deps.clock.now(),
    );
    return d.ok ? { change: d.change } : { refusal: d.refusal };
  });
  const n = c.legalNotices.find((x) => x.noticeId === noticeId);
  if (!n) throw notFound("legal notice", noticeId);
  return n;
}
