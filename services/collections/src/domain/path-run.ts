/**
 * Running a case's treatment path on the daily Overdue (treatment-path.ts schedules it): each planned step whose DPD
 * has come is carried out — a digital step is handed to notification (`TreatmentStepRequested`, one per step), an
 * agent step puts the case in its queue (a call in the bucket's call queue, a letter in `letters`, an agency step in
 * `agency`), a legal-notice step issues the notice under the legal-notice gate (refused with the gate's rule while
 * the treatment is not legal notice yet). A paused or closed case runs nothing; its steps wait (and only the latest
 * step per channel runs when they come due together). Pure.
 */
import { deterministicId } from "@whiteslip/core";
import { SYSTEM } from "./case";
import { ChangeBuilder } from "./change";
import { describeStep, dueSteps, isDigitalStep, markStep, requeue } from "./treatment-path";
import type { CaseChange } from "./types";
import { DEFAULT_NOTICE_DEADLINE_DAYS, requestLegalNotice, workGate } from "./work";

/** What a legal-notice step needs (the policy's creditor and business time zone). */
export interface NoticeSettings {
  creditor: string;
  businessTimeZone: string;
}

/** Appends `next` (a change decided on `prev.case`) to `prev`. */
function merge(prev: CaseChange, next: CaseChange): CaseChange {
  return { case: next.case, audit: [...prev.audit, ...next.audit], events: [...prev.events, ...next.events] };
}

/**
 * Carries out the steps due on the case after `prev` (an Overdue applied or a case opened) as of the Overdue's
 * business date `businessDate`; returns `prev` with the steps' effects added.
 */
export function advancePath(prev: CaseChange, now: Date, notice: NoticeSettings): CaseChange {
  const c0 = prev.case;
  if (c0.path.length === 0 || workGate(c0) !== null) return prev;
  const { run, superseded } = dueSteps(c0.path, c0.dpd);
  if (run.length === 0) return prev;
  const b = new ChangeBuilder(c0, now);
  for (const s of superseded) markStep(b, s.stepId, "SKIPPED", "a later step on the same channel came due with it", now);
  const businessDate = c0.lastOverdueDate || "";
  for (const s of run) {
    if (isDigitalStep(s.channel)) {
      markStep(b, s.stepId, "REQUESTED", "", now);
      b.audit(SYSTEM, "STEP_REQUESTED", `${describeStep(s)} (${s.ruleRef}) handed to notification`);
      b.emit({
        type: "TreatmentStepRequested",
        id: deterministicId("TreatmentStepRequested", s.stepId),
        stepId: s.stepId,
        strategyId: c0.strategyId,
        ruleRef: s.ruleRef,
        channel: s.channel,
        template: s.template,
        text: s.text ?? "",
        dpd: c0.dpd,
        bucket: c0.bucket,
        overdueFen: c0.overdueFen,
        totalBalanceFen: c0.totalBalanceFen,
        businessDate: businessDate as string,
      });
    } else if (s.channel === "LEGAL_NOTICE") {
      // the notice id comes from the step, so a redelivered Overdue never issues a second notice
      const d = requestLegalNotice(
        b.case,
        {
          noticeId: deterministicId("legal-notice", c0.caseId, s.stepId),
          deadlineDays: DEFAULT_NOTICE_DEADLINE_DAYS,
          creditor: notice.creditor,
          actor: SYSTEM,
          businessTimeZone: notice.businessTimeZone,
        },
        now,
      );
      if (d.ok) {
        b.absorb(d.change);
        markStep(b, s.stepId, "DONE", `notice ${d.change.case.legalNotices.at(-1)?.noticeId ?? ""}`, now);
        continue;
      }
      markStep(b, s.stepId, "REFUSED", d.refusal.rule, now);
      b.audit(SYSTEM, "STEP_REFUSED", `${describeStep(s)} refused by ${d.refusal.rule}: ${d.refusal.message}`);
    } else {
      markStep(b, s.stepId, "QUEUED", "", now);
      b.audit(SYSTEM, "STEP_QUEUED", `${describeStep(s)} (${s.ruleRef}) waiting for an agent`);
    }
  }
  requeue(b, SYSTEM);
  return merge(prev, b.done());
}
