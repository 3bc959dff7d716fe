/**
 * Targeted solutions by reason for non-payment (domain.md "Targeted solutions by reason").
 */
import type { Outcome, Reason } from "./types";

/** Solution codes returned to the agent. */
export type Solution =
  | "REMINDER_AND_AUTO_DEBIT_OFFER"
  | "OFFER_REPAYMENT_PLAN"
  | "OFFER_DEFERRAL_OR_FEE_WAIVER"
  | "PAUSE_UNTIL_RESOLVED"
  | "STOP_AND_ESCALATE"
  | "RECORD_PROMISE_TO_PAY"
  | "CONTINUE_TREATMENT";

/**
 * forgot → reminder and auto-debit offer; cash flow → repayment plan (booked in billing); hardship → deferral or
 * fee waiver within policy; dispute → pause until resolved; suspected fraud → stop and escalate. Without a reason,
 * a dispute/hardship/promise outcome suggests the matching step.
 */
export function solutionFor(reason: Reason, outcome: Outcome): Solution {
  switch (reason) {
    case "FORGOT":
      return "REMINDER_AND_AUTO_DEBIT_OFFER";
    case "CASH_FLOW":
      return "OFFER_REPAYMENT_PLAN";
    case "HARDSHIP_JOB_LOSS":
    case "HARDSHIP_ILLNESS":
      return "OFFER_DEFERRAL_OR_FEE_WAIVER";
    case "DISPUTE":
      return "PAUSE_UNTIL_RESOLVED";
    case "SUSPECTED_FRAUD":
      return "STOP_AND_ESCALATE";
    case "UNSPECIFIED":
      break;
  }
  if (outcome === "DISPUTE") return "PAUSE_UNTIL_RESOLVED";
  if (outcome === "HARDSHIP") return "OFFER_DEFERRAL_OR_FEE_WAIVER";
  if (outcome === "PROMISE_TO_PAY") return "RECORD_PROMISE_TO_PAY";
  return "CONTINUE_TREATMENT";
}

/** True for the hardship reasons (job loss, illness). */
export function isHardship(reason: Reason): boolean {
  return reason === "HARDSHIP_JOB_LOSS" || reason === "HARDSHIP_ILLNESS";
}
