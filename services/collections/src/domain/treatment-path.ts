/**
 * Treatment paths as data (domain.md "Treatment paths"): a strategy rule lists timed actions per channel — DPD 1 SMS
 * with a template, DPD 3 email, DPD 7 agent call, DPD 15 letter, DPD 31 legal notice. When a case enters a rule's
 * segment its path is scheduled on the case (one step per action, each with the business date it falls due, from the
 * case's DPD on the Overdue's business date); each daily Overdue runs the steps whose DPD has come (see
 * `path-run.ts`): digital steps go to notification (which still applies preferences, quiet hours, caps and the
 * legal-notice rules), agent steps put the case in a queue, a legal-notice step issues the notice under its own
 * gate. What became of each step stays on the case. Pure: no I/O.
 */
import { addDays, deterministicId, type LocalDate } from "@whiteslip/core";
import type { ChangeBuilder } from "./change";
import { priorityFor, queueFor } from "./strategy";
import type { Bucket, ContactAttempt } from "./types";

/** How one step reaches the debtor. */
export type StepChannel = "SMS" | "EMAIL" | "IN_APP" | "PUSH" | "CALL" | "LETTER" | "LEGAL_NOTICE" | "AGENCY";
/** All step channels. */
export const STEP_CHANNELS: readonly StepChannel[] = [
  "SMS",
  "EMAIL",
  "IN_APP",
  "PUSH",
  "CALL",
  "LETTER",
  "LEGAL_NOTICE",
  "AGENCY",
];
/** Channels notification sends. */
export const DIGITAL_STEP_CHANNELS: readonly StepChannel[] = ["SMS", "EMAIL", "IN_APP", "PUSH"];
/** Channels an agent (or the agency desk) carries out from a queue. */
export const AGENT_STEP_CHANNELS: readonly StepChannel[] = ["CALL", "LETTER", "AGENCY"];

/** True for a step notification sends. */
export function isDigitalStep(ch: StepChannel): boolean {
  return DIGITAL_STEP_CHANNELS.includes(ch);
}

/** One timed action of a rule's path. */
export interface PathStep {
  /** Days past due on which it is due (1–180). */
  dpd: number;
  /** Channel. */
  channel: StepChannel;
  /** Notification template `id@version` (digital steps only). */
  template?: string;
  /** The strategy's own wording of the body (digital steps; checked for banned claims when saved). */
  text?: string;
}

/** What became of a scheduled step. */
export type StepStatus =
  | "PLANNED"
  | "REQUESTED"
  | "SENT"
  | "DELIVERED"
  | "FAILED"
  | "QUEUED"
  | "DONE"
  | "REFUSED"
  | "SKIPPED"
  | "SUPPRESSED"
  | "EXPIRED"
  | "SUPERSEDED";

/**
 * What notification reports of a digital step's message: handed to a provider (SENT), delivered, failed (after
 * `attempts` provider calls; 0 = none was made, e.g. no contact point), or never to be sent — SUPPRESSED by a rule
 * (opted out, a cap hold expired, already sent that day), EXPIRED (its validity window closed first) or SUPERSEDED
 * (a payment, a cure or a newer notice made it wrong).
 */
export type StepReportStatus = "SENT" | "DELIVERED" | "FAILED" | "SUPPRESSED" | "EXPIRED" | "SUPERSEDED";

/** Step statuses of a message notification will never send (not a paid contact). */
export const UNSENT_STEP_STATUSES: readonly StepStatus[] = ["SUPPRESSED", "EXPIRED", "SUPERSEDED"];

/** A step scheduled on a case. */
export interface CaseStep {
  /** Deterministic from (case, rule, DPD, channel); notification publishes it as `fact_id`. */
  stepId: string;
  /** `<strategy id>/rules[<n>]`. */
  ruleRef: string;
  dpd: number;
  channel: StepChannel;
  /** Template (digital steps), else "". */
  template: string;
  /** The rule's own wording, else absent. */
  text?: string;
  /** Business date on which it falls due. */
  plannedDate: LocalDate;
  status: StepStatus;
  /** A contact outcome, a refusing rule code, a notice id, a delivery error, why it was skipped. */
  outcome: string;
  /** When the status last changed. */
  updatedAt: Date;
  /** FAILED: provider calls notification made for it (0 = none: no contact point or provider); absent before. */
  attempts?: number;
}

/** Steps not yet carried out (their DPD has not come). */
export const OPEN_STEP_STATUSES: readonly StepStatus[] = ["PLANNED", "QUEUED"];

/** Step id: the same case, rule, DPD and channel always give the same id (one message per step). */
export function stepId(caseId: string, ruleRef: string, dpd: number, channel: StepChannel): string {
  return deterministicId("case-step", caseId, ruleRef, dpd, channel);
}

/** `<strategy id>/rules[<n>]`. */
export function ruleRef(strategyId: string, index: number): string {
  return `${strategyId}/rules[${index}]`;
}

/** Short form of a step for audit lines, e.g. `DPD 7 CALL`, `DPD 1 SMS overdue-notice@1`. */
export function describeStep(s: { dpd: number; channel: StepChannel; template?: string }): string {
  return `DPD ${s.dpd} ${s.channel}${s.template ? ` ${s.template}` : ""}`;
}

function setStep(b: ChangeBuilder, id: string, patch: Partial<CaseStep>, now: Date): void {
  b.set({ path: b.case.path.map((s) => (s.stepId === id ? { ...s, ...patch, updatedAt: now } : s)) });
}

/**
 * Schedules the path of the rule in force on the case (`ref`, `steps`; no rule → no path): planned steps of another
 * rule (or dropped from this one by an edit) are skipped; this rule's steps are added once — planned when their
 * DPD is today or later, skipped when it had passed before the path began. `businessDate` is the Overdue's date, on
 * which the case is at `b.case.dpd`. Re-running with the same inputs changes nothing.
 */
export function syncPath(
  b: ChangeBuilder,
  ref: string | null,
  steps: readonly PathStep[],
  businessDate: LocalDate,
  now: Date,
  actor: string,
): void {
  const c = b.case;
  const want = new Map(
    (ref ? steps : []).map((s) => [stepId(c.caseId, ref!, s.dpd, s.channel), s] as const),
  );
  let changed = false;
  for (const s of c.path) {
    if (s.status === "PLANNED" && !want.has(s.stepId)) {
      setStep(b, s.stepId, { status: "SKIPPED", outcome: s.ruleRef === ref ? "removed from the rule" : `path replaced by ${ref ?? "no path"}` }, now);
      changed = true;
    }
  }
  const added: CaseStep[] = [];
  for (const [id, s] of want) {
    const have = b.case.path.find((x) => x.stepId === id);
    const plannedDate = addDays(businessDate, s.dpd - c.dpd);
    if (have) {
      if (
        have.status === "PLANNED" &&
        (have.template !== (s.template ?? "") || have.plannedDate !== plannedDate || (have.text ?? "") !== (s.text ?? ""))
      ) {
        setStep(b, id, { template: s.template ?? "", text: s.text ?? "", plannedDate }, now);
        changed = true;
      }
      continue;
    }
    const passed = s.dpd < c.dpd;
    added.push({
      stepId: id,
      ruleRef: ref!,
      dpd: s.dpd,
      channel: s.channel,
      template: s.template ?? "",
      ...(s.text ? { text: s.text } : {}),
      plannedDate,
      status: passed ? "SKIPPED" : "PLANNED",
      outcome: passed ? `DPD ${s.dpd} had passed when the path began (DPD ${c.dpd})` : "",
      updatedAt: now,
    });
  }
  if (added.length > 0) {
    const path = [...b.case.path, ...added].sort((x, y) => x.dpd - y.dpd || x.channel.localeCompare(y.channel));
    b.set({ path });
    changed = true;
  }
  if (changed && ref && added.length > 0)
    b.audit(actor, "PATH_SCHEDULED", `${ref}: ${added.map((s) => `${describeStep(s)}${s.status === "SKIPPED" ? " (passed)" : ""}`).join(", ")}`);
}

/**
 * The steps to carry out now: planned steps whose DPD has come (≤ the case's DPD). Of several due on one channel
 * (days without an Overdue, a pause) only the latest runs; the older ones are returned as `superseded`.
 */
export function dueSteps(path: readonly CaseStep[], dpd: number): { run: CaseStep[]; superseded: CaseStep[] } {
  const due = path.filter((s) => s.status === "PLANNED" && s.dpd <= dpd);
  const latest = new Map<StepChannel, CaseStep>();
  for (const s of due) {
    const l = latest.get(s.channel);
    if (!l || s.dpd > l.dpd) latest.set(s.channel, s);
  }
  const run = [...latest.values()].sort((x, y) => x.dpd - y.dpd || x.channel.localeCompare(y.channel));
  return { run, superseded: due.filter((s) => !run.includes(s)) };
}

/** Marks a step's new status and outcome. */
export function markStep(b: ChangeBuilder, id: string, status: StepStatus, outcome: string, now: Date): void {
  setStep(b, id, { status, outcome }, now);
}

/** Skips every step still open (the case closed, went to recovery, …). */
export function skipOpenSteps(b: ChangeBuilder, why: string, now: Date): void {
  const open = b.case.path.filter((s) => OPEN_STEP_STATUSES.includes(s.status));
  for (const s of open) setStep(b, s.stepId, { status: "SKIPPED", outcome: why }, now);
}

/**
 * The queue a case works in given its open agent steps: a queued agency step sends it to `agency`; a queued call
 * or letter lifts a case that its treatment keeps in `digital` (or `early-warning`) to the bucket's call queue or
 * `letters`. A more severe treatment queue stays.
 */
export function queueWithPath(path: readonly CaseStep[], treatmentQueue: string, bucket: Bucket): string {
  const open = path.filter((s) => s.status === "QUEUED");
  if (open.some((s) => s.channel === "AGENCY")) return "agency";
  if (treatmentQueue !== "digital" && treatmentQueue !== "early-warning") return treatmentQueue;
  if (open.some((s) => s.channel === "CALL")) return `calls-${bucket}`;
  if (open.some((s) => s.channel === "LETTER")) return "letters";
  return treatmentQueue;
}

/**
 * An agent's contact attempt carries out the oldest queued step of its channel (a call a CALL step, a letter a
 * LETTER step): DONE with the outcome. A refused attempt leaves the step queued with the refusing rule as its
 * outcome (it still has to be made, within the rules).
 */
export function completeAgentStep(b: ChangeBuilder, a: ContactAttempt, now: Date): CaseStep | null {
  const step = b.case.path.find((s) => s.status === "QUEUED" && s.channel === a.channel);
  if (!step) return null;
  if (a.refused) setStep(b, step.stepId, { outcome: `refused by ${a.refusedRule}` }, now);
  else setStep(b, step.stepId, { status: "DONE", outcome: a.outcome }, now);
  return b.case.path.find((s) => s.stepId === step.stepId) ?? null;
}

/**
 * How far a digital step got. A report moves a step only forward:
 * REQUESTED → SUPPRESSED | EXPIRED | SUPERSEDED (never sent) → FAILED → SENT → DELIVERED.
 * Notification's statuses of one message are final, so a report of the same message never follows an unsent one;
 * what can follow is a report of another message of the step — a fallback channel after a failure — and a report
 * that a provider got a message (FAILED after attempts, SENT, DELIVERED) is the more telling news: the step was
 * contacted after all, and is priced as such. Between two unsent reports the first stays (same rank).
 */
const DELIVERY_RANK: Partial<Record<StepStatus, number>> = {
  REQUESTED: 0,
  SUPPRESSED: 1,
  EXPIRED: 1,
  SUPERSEDED: 1,
  FAILED: 2,
  SENT: 3,
  DELIVERED: 4,
};

/**
 * Notification's report on a digital step (see DELIVERY_RANK). Returns false when nothing changed (unknown step,
 * not a digital step, a step not handed to notification yet, same or older news).
 */
export function applyStepReport(
  b: ChangeBuilder,
  id: string,
  status: StepReportStatus,
  detail: string,
  now: Date,
  attempts?: number,
): boolean {
  const s = b.case.path.find((x) => x.stepId === id);
  if (!s || !isDigitalStep(s.channel)) return false;
  const cur = DELIVERY_RANK[s.status];
  if (cur === undefined || cur >= DELIVERY_RANK[status]!) return false;
  setStep(b, id, { status, outcome: detail, ...(status === "FAILED" && attempts !== undefined ? { attempts } : {}) }, now);
  return true;
}

/**
 * True when a step was a paid contact: a message of it was handed to a provider — SENT, DELIVERED, or FAILED after
 * at least one provider call. REQUESTED (notification has not decided yet), SUPPRESSED, EXPIRED, SUPERSEDED and a
 * FAILED without any provider call cost nothing; agent and legal steps are priced by their attempts and notices.
 */
export function isPaidStep(s: Pick<CaseStep, "status" | "channel" | "attempts">): boolean {
  if (!isDigitalStep(s.channel)) return false;
  if (s.status === "SENT" || s.status === "DELIVERED") return true;
  return s.status === "FAILED" && (s.attempts === undefined || s.attempts > 0);
}

/** Re-derives the case's queue after its open agent steps changed; the agent is released when the queue moves. */
export function requeue(b: ChangeBuilder, actor: string): void {
  const c = b.case;
  if (c.status === "PRE_DELINQUENT" || c.queue === "recovery") return;
  const queue = queueWithPath(c.path, queueFor(c.treatment, c.bucket), c.bucket);
  if (queue === c.queue) return;
  if (c.agentId) {
    b.audit(actor, "AGENT_RELEASED", `queue ${c.queue} -> ${queue}; agent ${c.agentId} released`);
    b.set({ agentId: "" });
  }
  b.audit(actor, "CASE_REQUEUED", `treatment path: queue ${c.queue} -> ${queue}`);
  b.set({ queue, priority: priorityFor(c.treatment, c.escalationLevel, c.dpd) });
}
