import { handleCommand, outcome, write } from "@whiteslip/store";
import { ChangeBuilder } from "../domain/change";
import { SYSTEM } from "../domain/case";
import { applyStepReport, describeStep } from "../domain/treatment-path";
import type { CaseChange } from "../domain/types";
import type { Deps } from "./ports";

/** Notification's report on a message it sent for a treatment-path step. */
export interface StepReport {
  accountId: string;
  /** The step id (notification's `fact_id`). */
  stepId: string;
  status: "SENT" | "DELIVERED" | "FAILED";
  /** Channel the message went out on, and the error of a failure. */
  detail: string;
}

/**
 * NotificationSent / Delivered / Failed for a step of the account's active case: the step moves forward (REQUESTED →
 * SENT → DELIVERED, or FAILED; a later fallback delivery still counts). Idempotent without keeping event ids: a
 * report that changes nothing (redelivered, older news, a step of a closed case) writes nothing.
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
      if (!applyStepReport(b, r.stepId, r.status, r.detail, now)) return outcome("unchanged");
      const s = b.case.path.find((x) => x.stepId === r.stepId)!;
      b.audit(SYSTEM, `STEP_${r.status}`, `${describeStep(s)} (${s.ruleRef}): ${r.detail}`);
      return write({ change: b.done(), expected: c.version }, "applied");
    },
    { what: `active case of account ${r.accountId}` },
  );
}
