/**
 * Agent work on a case: assignment, contact attempts (compliance first), promises to pay, disputes, repayment
 * plans, fee waivers and legal notices. Pure functions returning a change or a refusal.
 */
import {
  addDays,
  dateInZone,
  deterministicId,
  type Fen,
  formatCny,
  isLocalDate,
  type LocalDate,
  Violations,
} from "@whiteslip/core";
import { isActive, type LifecycleContext, SYSTEM } from "./case";
import { ChangeBuilder } from "./change";
import { CONVERSATION_OUTCOMES, checkContact, consentInForce, DEBTOR, isDebtor } from "./compliance";
import { isHardship, solutionFor } from "./solutions";
import { treatmentRank } from "./strategy";
import { completeAgentStep, describeStep, requeue } from "./treatment-path";
import type {
  CaseChange,
  Channel,
  CollectionCase,
  ContactAttempt,
  LegalNotice,
  Outcome,
  PromiseToPay,
  Reason,
  Refusal,
} from "./types";

/** A change or a refusal. */
export type Decision = { ok: true; change: CaseChange } | { ok: false; refusal: Refusal };

function refuse(rule: string, message: string, citation = "collections policy"): Decision {
  return { ok: false, refusal: { rule, message, citation } };
}

/** Refuses work on a closed or paused case (`CASE_CLOSED`, `CASE_PAUSED_DISPUTE`, `CASE_STOPPED_FRAUD`). */
export function workGate(c: CollectionCase): Refusal | null {
  if (!isActive(c.status))
    return { rule: "CASE_CLOSED", message: `case is ${c.status}`, citation: "collections policy" };
  if (c.pauseReason === "DISPUTE")
    return {
      rule: "CASE_PAUSED_DISPUTE",
      message: "collection is paused until the dispute is resolved",
      citation: "collections policy: dispute → pause until resolved",
    };
  if (c.pauseReason === "SUSPECTED_FRAUD")
    return {
      rule: "CASE_STOPPED_FRAUD",
      message: "collection stopped: suspected fraud escalated",
      citation: "collections policy: fraud → stop and escalate",
    };
  return null;
}

/** An agent as assignment sees it. */
export interface AgentView {
  agentId: string;
  skills: string[];
  active: boolean;
  /** Cases currently held (active statuses). */
  openCases: number;
}

/** The least-loaded active agent skilled for `queue` (ties by agent id), or null. */
export function pickAgent(agents: readonly AgentView[], queue: string): AgentView | null {
  const able = agents.filter((a) => a.active && a.skills.includes(queue));
  able.sort(
    (a, b) => a.openCases - b.openCases || (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0),
  );
  return able[0] ?? null;
}

/** Assigns the case to an agent: one agent holds a case at a time; moving it from another agent needs `reassign`. */
export function assignAgent(
  c: CollectionCase,
  agent: AgentView,
  actor: string,
  reassign: boolean,
  now: Date,
): Decision {
  if (!isActive(c.status)) return refuse("CASE_CLOSED", `case is ${c.status}`);
  if (!agent.active) return refuse("AGENT_INACTIVE", `agent ${agent.agentId} is not active`);
  if (!agent.skills.includes(c.queue))
    return refuse("AGENT_LACKS_SKILL", `agent ${agent.agentId} is not skilled for queue ${c.queue}`);
  const b = new ChangeBuilder(c, now);
  if (c.agentId === agent.agentId) return { ok: true, change: b.done() };
  if (c.agentId && !reassign)
    return refuse("CASE_ALREADY_ASSIGNED", `case is held by agent ${c.agentId}; set reassign to move it`);
  b.set({ agentId: agent.agentId });
  b.audit(
    actor,
    "CASE_ASSIGNED",
    c.agentId
      ? `reassigned ${c.agentId} -> ${agent.agentId}`
      : `assigned to ${agent.agentId} (queue ${c.queue})`,
  );
  return { ok: true, change: b.done() };
}

/** A contact attempt as the agent reports it. */
export interface ContactInput {
  attemptId: string;
  agentId: string;
  channel: Channel;
  outcome: Outcome;
  reason: Reason;
  note: string;
  contactParty: string;
  /** The debtor gave consent, during this contact, to be contacted outside the permitted hours (stored if made). */
  consentOutsideHours: boolean;
  /** Third parties: `LOCATE` or `RELAY`. */
  purpose?: string;
}

/** Result of logging a contact: the change (always recorded) and the refusal, if any. */
export interface ContactResult {
  change: CaseChange;
  attempt: ContactAttempt;
  refusal: Refusal | null;
}

/** Validates a contact input (bad input changes nothing). */
export function validateContact(i: ContactInput): void {
  new Violations()
    .check(i.agentId.trim() === "", "agent_id", "must be set")
    .check(
      !["CALL", "SMS", "EMAIL", "LETTER"].includes(i.channel),
      "channel",
      "must be CALL, SMS, EMAIL or LETTER",
    )
    .check(i.outcome === "UNSPECIFIED", "outcome", "must be set")
    .check(i.note.length > 2000, "note", "must be at most 2000 characters")
    .throwIfAny();
}

/**
 * Logs a contact attempt. Compliance (jurisdiction rules) and case state are checked first; a refused attempt is
 * recorded as refused (not made) with the rule. A made attempt records the reason, suggests the targeted solution,
 * pauses collection on a dispute, and stops and escalates on suspected fraud.
 */
export function logContact(
  c: CollectionCase,
  i: ContactInput,
  ctx: LifecycleContext,
  peerAttempts: readonly ContactAttempt[] = [],
): ContactResult {
  const party = i.contactParty.trim() === "" ? DEBTOR : i.contactParty.trim();
  const purpose = isDebtor(party) ? "" : (i.purpose ?? "").trim().toUpperCase();
  const refusal =
    workGate(c) ??
    (c.agentId && c.agentId !== i.agentId
      ? {
          rule: "CASE_HELD_BY_OTHER_AGENT",
          message: `case is held by agent ${c.agentId}`,
          citation: "one agent works a case at a time",
        }
      : null) ??
    checkContact({
      now: ctx.now,
      timeZone: c.timeZone,
      jurisdiction: c.jurisdiction,
      channel: i.channel,
      contactParty: party,
      // only a consent stored before this contact counts, never the contact's own flag
      consentOutsideHours: consentInForce(c.consents, ctx.now),
      priorAttempts: c.attempts,
      peerAttempts,
      purpose,
    });
  const attempt: ContactAttempt = {
    attemptId: i.attemptId,
    agentId: i.agentId,
    channel: i.channel,
    outcome: refusal ? "UNSPECIFIED" : i.outcome,
    reason: refusal ? "UNSPECIFIED" : i.reason,
    occurredAt: ctx.now,
    note: i.note,
    contactParty: party,
    consentOutsideHours: i.consentOutsideHours,
    refused: refusal !== null,
    refusedRule: refusal?.rule ?? "",
    suggestedSolution: refusal ? "" : solutionFor(i.reason, i.outcome),
    purpose,
  };
  const b = new ChangeBuilder(c, ctx.now);
  b.set({ attempts: [...c.attempts, attempt] });
  // a call or letter carries out the oldest queued path step of its channel (a refused one stays queued, naming the rule)
  const step = refusal && refusal.rule.startsWith("CASE_") ? null : completeAgentStep(b, attempt, ctx.now);
  if (step?.status === "DONE") {
    b.audit(i.agentId, "STEP_DONE", `${describeStep(step)} (${step.ruleRef}): ${step.outcome}`);
    requeue(b, i.agentId);
  }
  if (refusal) {
    b.audit(
      i.agentId,
      "CONTACT_REFUSED",
      `${i.channel} to ${party} refused by ${refusal.rule}: ${refusal.message}`,
    );
    return { change: b.done(), attempt, refusal };
  }
  b.audit(
    i.agentId,
    "CONTACT_LOGGED",
    `${i.channel} to ${party}: ${i.outcome}, reason ${i.reason}; suggested ${attempt.suggestedSolution}`,
  );
  if (i.consentOutsideHours && isDebtor(party) && CONVERSATION_OUTCOMES.has(i.outcome)) {
    b.set({
      consents: [...c.consents, { givenAt: ctx.now, channel: i.channel, attemptId: i.attemptId, agentId: i.agentId }],
    });
    b.audit(i.agentId, "CONSENT_RECORDED", `debtor consented on ${i.channel} to contact outside the permitted hours`);
  }
  if (i.reason !== "UNSPECIFIED") b.set({ lastReason: i.reason });
  if (i.reason === "SUSPECTED_FRAUD") {
    b.set({ status: "PAUSED", pauseReason: "SUSPECTED_FRAUD", escalationLevel: c.escalationLevel + 1 });
    b.audit(i.agentId, "COLLECTION_STOPPED", "suspected fraud: collection stopped and escalated");
    b.emit({
      type: "CaseEscalated",
      id: deterministicId("CaseEscalated", c.caseId, i.attemptId),
      treatment: c.treatment,
      escalationLevel: c.escalationLevel + 1,
      reason: "SUSPECTED_FRAUD",
    });
  } else if (i.reason === "DISPUTE" || i.outcome === "DISPUTE") {
    b.set({ status: "PAUSED", pauseReason: "DISPUTE" });
    b.audit(i.agentId, "COLLECTION_PAUSED", "dispute raised: collection paused until resolved");
  }
  return { change: b.done(), attempt, refusal: null };
}

/** Ends a dispute pause. */
export function resolveDispute(c: CollectionCase, actor: string, resolution: string, now: Date): Decision {
  if (!isActive(c.status)) return refuse("CASE_CLOSED", `case is ${c.status}`);
  if (c.pauseReason !== "DISPUTE") return refuse("CASE_NOT_DISPUTED", "the case is not paused for a dispute");
  const b = new ChangeBuilder(c, now);
  b.set({ status: c.delinquencyStartDate ? "OPEN" : "PRE_DELINQUENT", pauseReason: "" });
  b.audit(actor, "DISPUTE_RESOLVED", resolution.slice(0, 500) || "resolved");
  return { ok: true, change: b.done() };
}

/** A promise to pay as recorded by an agent. */
export interface PromiseInput {
  promiseId: string;
  amountFen: Fen;
  promisedDate: LocalDate;
  agentId: string;
}

/** Longest a promise may run, in days from today (policy). */
export const MAX_PROMISE_DAYS = 30;

/** Validates a promise against today's business date: amount > 0, date from today to today + 30 days. */
export function validatePromise(i: PromiseInput, today: LocalDate): void {
  const v = new Violations()
    .check(i.amountFen <= 0n, "amount_fen", "must be > 0")
    .check(!isLocalDate(i.promisedDate), "promised_date", "must be a YYYY-MM-DD date");
  if (isLocalDate(i.promisedDate)) {
    v.check(i.promisedDate < today, "promised_date", `must not be before today ${today}`);
    v.check(
      i.promisedDate > addDays(today, MAX_PROMISE_DAYS),
      "promised_date",
      `must be within ${MAX_PROMISE_DAYS} days`,
    );
  }
  v.throwIfAny();
}

/** Records a promise to pay (idempotent by promise id). */
export function recordPromise(c: CollectionCase, i: PromiseInput, now: Date): Decision {
  const b = new ChangeBuilder(c, now);
  if (c.promises.some((p) => p.promiseId === i.promiseId)) return { ok: true, change: b.done() };
  const gate = workGate(c);
  if (gate) return { ok: false, refusal: gate };
  const p: PromiseToPay = {
    promiseId: i.promiseId,
    amountFen: i.amountFen,
    promisedDate: i.promisedDate,
    paidFen: 0n,
    status: "PENDING",
    createdAt: now,
    agentId: i.agentId,
  };
  b.set({ promises: [...c.promises, p] });
  b.audit(
    i.agentId || SYSTEM,
    "PROMISE_MADE",
    `promise ${p.promiseId}: ${formatCny(p.amountFen)} by ${p.promisedDate}`,
  );
  b.emit({ type: "PromiseMade", id: deterministicId("PromiseMade", p.promiseId), promise: p });
  return { ok: true, change: b.done() };
}

/** Whether a repayment plan may be offered now: active, not paused, delinquent. */
export function planGate(c: CollectionCase): Refusal | null {
  const g = workGate(c);
  if (g) return g;
  if (c.status === "PRE_DELINQUENT")
    return {
      rule: "CASE_NOT_OVERDUE",
      message: "a repayment plan re-schedules overdue balances; the account is not overdue",
      citation: "billing CreateRepaymentPlan",
    };
  return null;
}

/** Records a plan booked in billing (idempotent by plan id) and emits PlanAgreed. */
/**
 * Notes that a plan or a deferral is being requested from billing under `key`, before billing is asked: from then
 * on a retry with the same key gets billing's (idempotent) answer even if the case has moved on meanwhile (both
 * make the account current, so billing's AccountCured may close the case first).
 */
export function noteBillingRequest(c: CollectionCase, op: "plan" | "deferral", key: string, actor: string, what: string, now: Date): CaseChange {
  const b = new ChangeBuilder(c, now);
  if (c.requestKeys.includes(`${op}:${key}`)) return b.done();
  b.set({ requestKeys: [...c.requestKeys, `${op}:${key}`] });
  b.audit(actor, op === "plan" ? "PLAN_REQUESTED" : "DEFERRAL_REQUESTED", what);
  return b.done();
}

/** Whether a hardship deferral may be granted on the case (an active, workable case whose latest reason is hardship). */
export function deferralGate(c: CollectionCase): Refusal | null {
  const g = workGate(c);
  if (g) return g;
  if (!isHardship(c.lastReason))
    return {
      rule: "DEFERRAL_REQUIRES_HARDSHIP",
      message: "deferrals are for hardship (job loss, illness) only",
      citation: "collections policy: hardship → deferral or fee waiver",
    };
  return null;
}

/** Records a deferral granted by billing (idempotent by key). */
export function recordDeferral(
  c: CollectionCase,
  key: string,
  d: { deferralId: string; days: number; dueDate: string; deferredFen: Fen },
  actor: string,
  now: Date,
): CaseChange {
  const b = new ChangeBuilder(c, now);
  if (c.deferrals.some((x) => x.key === key)) return b.done();
  b.set({ deferrals: [...c.deferrals, { key, ...d, at: now }] });
  b.audit(actor, "DEFERRAL_GRANTED", `${formatCny(d.deferredFen)} deferred ${d.days} days to ${d.dueDate}`);
  return b.done();
}

export function recordPlan(
  c: CollectionCase,
  plan: { planId: string; installmentCount: number; totalFen: Fen },
  actor: string,
  now: Date,
): CaseChange {
  const b = new ChangeBuilder(c, now);
  if (c.planIds.includes(plan.planId)) return b.done();
  b.set({ planIds: [...c.planIds, plan.planId] });
  b.audit(
    actor,
    "PLAN_AGREED",
    `plan ${plan.planId}: ${plan.installmentCount} installments, ${formatCny(plan.totalFen)}`,
  );
  b.emit({ type: "PlanAgreed", id: deterministicId("PlanAgreed", plan.planId), ...plan });
  return b.done();
}

/** Whether a hardship fee waiver of `amountFen` is within policy (hardship reason, per-case cap). */
export function waiverGate(c: CollectionCase, amountFen: Fen, maxPerCaseFen: Fen): Refusal | null {
  const g = workGate(c);
  if (g) return g;
  if (!isHardship(c.lastReason))
    return {
      rule: "WAIVER_REQUIRES_HARDSHIP",
      message: "fee waivers are for hardship (job loss, illness) only",
      citation: "collections policy: hardship → deferral or fee waiver",
    };
  if (c.waivedFen + amountFen > maxPerCaseFen)
    return {
      rule: "WAIVER_OVER_POLICY_LIMIT",
      message: `waived ${formatCny(c.waivedFen)} + ${formatCny(amountFen)} exceeds the per-case limit ${formatCny(maxPerCaseFen)}`,
      citation: "collections policy: fee waiver within policy",
    };
  return null;
}

/** Records a waiver granted by billing (idempotent by key). */
export function recordWaiver(
  c: CollectionCase,
  key: string,
  waivedFen: Fen,
  actor: string,
  now: Date,
): CaseChange {
  const b = new ChangeBuilder(c, now);
  if (c.waivers.some((w) => w.key === key)) return b.done();
  b.set({ waivers: [...c.waivers, { key, waivedFen, at: now }], waivedFen: c.waivedFen + waivedFen });
  b.audit(actor, "FEES_WAIVED", `hardship waiver ${formatCny(waivedFen)}`);
  return b.done();
}

/** Texts of a legal notice per jurisdiction. */
export interface NoticeTexts {
  legalBasis: string;
  consequences: string;
}

/** Legal basis and consequences stated in the notice, per jurisdiction. */
export const NOTICE_TEXTS: Readonly<Record<"CN" | "US", NoticeTexts>> = {
  CN: {
    legalBasis:
      "《中华人民共和国民法典》第五百零九条、第五百七十七条、第六百七十四条、第六百七十六条及双方签订的借款合同 (Civil Code of the PRC arts. 509, 577, 674, 676 and the credit agreement)",
    consequences:
      "逾期未清偿的，我司将依法依约采取进一步措施，包括委托第三方机构催收、依法提起诉讼，并按规定向金融信用信息基础数据库报送逾期信息；罚息按合同约定计收。 (If unpaid by the deadline we may refer the debt to a collection agency, take legal action and report the delinquency to the credit reference center; penalty interest accrues as agreed.)",
  },
  US: {
    legalBasis: "The credit agreement; validation information per 12 CFR 1006.34 (Regulation F)",
    consequences:
      "If the amount is not paid or disputed by the deadline, the account may be referred to an external collection agency or for legal action and reported to consumer reporting agencies.",
  },
};

/** Default days from today to the deadline stated in a legal notice. */
export const DEFAULT_NOTICE_DEADLINE_DAYS = 15;
/** The longest deadline a legal notice may state, in days. */
export const MAX_NOTICE_DEADLINE_DAYS = 90;

/**
 * Requests a formal legal notice (法律告知函): allowed once the strategy's treatment is legal notice or beyond (M3+
 * in the champion), never while paused; amounts and DPD are billing's figures from the latest Overdue.
 */
export function requestLegalNotice(
  c: CollectionCase,
  i: { noticeId: string; deadlineDays: number; creditor: string; actor: string; businessTimeZone: string },
  now: Date,
): Decision {
  const b = new ChangeBuilder(c, now);
  if (c.legalNotices.some((n) => n.noticeId === i.noticeId)) return { ok: true, change: b.done() };
  const g = workGate(c);
  if (g) return { ok: false, refusal: g };
  if (treatmentRank(c.treatment) < treatmentRank("LEGAL_NOTICE"))
    return refuse(
      "LEGAL_NOTICE_NOT_DUE",
      `treatment is ${c.treatment} (${c.bucket}); a legal notice is for M3 and later`,
      "collections strategy: legal notice at M3",
    );
  const texts = NOTICE_TEXTS[c.jurisdiction];
  const notice: LegalNotice = {
    noticeId: i.noticeId,
    overdueFen: c.overdueFen,
    totalBalanceFen: c.totalBalanceFen,
    daysPastDue: c.dpd,
    deadlineDate: addDays(dateInZone(now, i.businessTimeZone), i.deadlineDays),
    creditor: i.creditor,
    legalBasis: texts.legalBasis,
    consequences: texts.consequences,
    requestedAt: now,
    actor: i.actor,
  };
  b.set({ legalNotices: [...c.legalNotices, notice] });
  b.audit(
    i.actor,
    "LEGAL_NOTICE_REQUESTED",
    `notice ${notice.noticeId}: overdue ${formatCny(notice.overdueFen)}, DPD ${notice.daysPastDue}, deadline ${notice.deadlineDate}`,
  );
  b.emit({
    type: "LegalNoticeRequested",
    id: deterministicId("LegalNoticeRequested", notice.noticeId),
    notice,
  });
  return { ok: true, change: b.done() };
}
