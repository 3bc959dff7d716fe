import { handleCommand, outcome, write } from "@whiteslip/store";
import { ChangeBuilder } from "../domain/change";
import { SYSTEM } from "../domain/case";
import { applyStepReport, describeStep, type StepReportStatus } from "../domain/treatment-path";
import type { CaseChange } from "../domain/types";
import type { Deps } from "./ports";

/** Notification's report on a message it sent (or will never send) for a treatment-path step. */
export interface StepReport {
  accountId: string;
  /** The step id (notification's `fact_id`). */
  stepId: string;
  status: StepReportStatus;
  /** Channel the message went out on; for a failure the attempts; for an unsent one the rule's code and reason. */
  detail: string;
  /** FAILED: provider calls made. */
  attempts?: number;
}

/**
 * NotificationSent / Delivered / Failed / Suppressed for a step of the account's active case: the step moves forward
 * (REQUESTED → SUPPRESSED | EXPIRED | SUPERSEDED → FAILED → SENT → DELIVERED; see treatment-path.ts) with an audit
 * line `STEP_<status>` naming the rule of an unsent one. Idempotent without keeping event ids: a report that changes
 * nothing (redelivered, older news, a step of a closed case) writes nothing.
 */
export function handleStepReport(deps: Deps, r: StepReport): Promise<"applied" | "unchanged" | "no-case"> {
  type W = { change: CaseChange; expected: number };
  return handleCommand<Awaited<ReturnType<Deps["cases"]["findActiveByAccount"]>>, W, "applied" | "unchanged" | "no-case">(
    {
      load: () => deps.cases.findActiveByAccount(r.accountId),
      write: async (w) => (await deps.cases.save(w.change, w.expected)) === "saved",
    },
    (c) => {
      if (!c) return outcome("no-case");
      const now = deps.clock.now();
      const b = new ChangeBuilder(c, now);
      if (!applyStepReport(b, r.stepId, r.status, r.detail, now, r.attempts)) return outcome("unchanged");
      const s = b.case.path.find((x) => x.stepId === r.stepId)!;
      b.audit(SYSTEM, `STEP_${r.status}`, `${describeStep(s)} (${s.ruleRef}): ${r.detail}`);
      return write({ change: b.done(), expected: c.version }, "applied");
    },
    { what: `active case of account ${r.accountId}` },
  );
}
