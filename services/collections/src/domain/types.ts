/**
 * Collections domain types. Pure data: no I/O. Enum-like unions use the same
 * names as the proto enums without their prefix (e.g. `CASE_STATUS_OPEN` → `OPEN`),
 * so the gRPC edge maps them by name.
 */
import type { Bucket, Fen, LocalDate } from "@whiteslip/core";
import type { CaseStep, StepChannel } from "./treatment-path";

/** Delinquency bucket (billing's 30-day bands; charge-off at 181 DPD by default). */
export type { Bucket } from "@whiteslip/core";

/** Risk tier from credit's scorecard, A (lowest risk) to E; "" when unknown. */
export type RiskTier = "A" | "B" | "C" | "D" | "E" | "";

/** Lifecycle state of a case. */
export type CaseStatus = "PRE_DELINQUENT" | "OPEN" | "PAUSED" | "CLOSED_CURED" | "RECOVERY" | "CLOSED";

/** What a strategy does with a case, in increasing severity. */
export type Treatment = "DIGITAL_ONLY" | "AGENT_CALLS" | "LEGAL_NOTICE" | "EXTERNAL_AGENCY";

/** How a contact is made. */
export type Channel = "CALL" | "SMS" | "EMAIL" | "LETTER";

/** Result of a contact attempt. */
export type Outcome =
  | "UNSPECIFIED"
  | "NO_ANSWER"
  | "RIGHT_PARTY"
  | "PROMISE_TO_PAY"
  | "REFUSED"
  | "DISPUTE"
  | "HARDSHIP"
  | "WRONG_NUMBER"
  | "ASKED_NOT_TO_CONTACT";

/** Reason for non-payment learned from a contact. */
export type Reason =
  | "UNSPECIFIED"
  | "FORGOT"
  | "CASH_FLOW"
  | "DISPUTE"
  | "HARDSHIP_JOB_LOSS"
  | "HARDSHIP_ILLNESS"
  | "SUSPECTED_FRAUD";

/** Jurisdiction whose contact rules apply. */
export type Jurisdiction = "CN" | "US";

/** Why a case is paused. */
export type PauseReason = "" | "DISPUTE" | "SUSPECTED_FRAUD";

/** Status of a promise to pay. */
export type PromiseStatus = "PENDING" | "KEPT" | "BROKEN";

/** A promise to pay: amount by a business date; payments are matched first in, first out. */
export interface PromiseToPay {
  /** Promise id (deterministic from the case and the client idempotency key). */
  promiseId: string;
  /** Amount promised, > 0. */
  amountFen: Fen;
  /** Business date (inclusive) by which the amount is to be paid. */
  promisedDate: LocalDate;
  /** Amount matched so far. */
  paidFen: Fen;
  /** Status. */
  status: PromiseStatus;
  /** When recorded. */
  createdAt: Date;
  /** Agent who recorded it. */
  agentId: string;
}

/** One logged contact attempt (or a refused one, which was not made). */
export interface ContactAttempt {
  /** Attempt id (deterministic from the case and the client idempotency key). */
  attemptId: string;
  /** Agent. */
  agentId: string;
  /** Channel. */
  channel: Channel;
  /** Outcome. */
  outcome: Outcome;
  /** Reason for non-payment, if learned. */
  reason: Reason;
  /** When the attempt was made (or refused). */
  occurredAt: Date;
  /** Free-text note (never logged). */
  note: string;
  /** `debtor` or a third-party relation. */
  contactParty: string;
  /** Debtor consented to contact outside permitted hours. */
  consentOutsideHours: boolean;
  /** Compliance refused it: it was not made. */
  refused: boolean;
  /** Rule that refused it, e.g. `CN_QUIET_HOURS`. */
  refusedRule: string;
  /** Targeted solution suggested for the reason. */
  suggestedSolution: string;
  /** Third parties: `LOCATE` or `RELAY`; "" for the debtor (absent on attempts logged before it existed). */
  purpose?: string;
}

/** The debtor's consent to contact outside the permitted hours, given during a logged contact. */
export interface ContactConsent {
  /** When given. */
  givenAt: Date;
  /** Channel it was given on. */
  channel: Channel;
  /** The attempt during which it was given. */
  attemptId: string;
  /** Agent who recorded it. */
  agentId: string;
}

/** A formal legal notice (法律告知函) recorded on a case. */
export interface LegalNotice {
  /** Notice id. */
  noticeId: string;
  /** Overdue amount stated (billing's figure from the latest Overdue, never inflated). */
  overdueFen: Fen;
  /** Total balance stated. */
  totalBalanceFen: Fen;
  /** Days past due stated. */
  daysPastDue: number;
  /** Deadline to pay before further action. */
  deadlineDate: LocalDate;
  /** Creditor name. */
  creditor: string;
  /** Legal basis cited. */
  legalBasis: string;
  /** Consequences stated. */
  consequences: string;
  /** When requested. */
  requestedAt: Date;
  /** Who requested it. */
  actor: string;
}

/** A fee waiver granted through billing, keyed by the client idempotency key. */
export interface FeeWaiver {
  /** Client idempotency key. */
  key: string;
  /** Amount billing waived. */
  waivedFen: Fen;
  /** When. */
  at: Date;
}

/** One line of the append-only audit log. */
export interface AuditEntry {
  /** Sequence within the case, from 1. */
  seq: number;
  /** When. */
  at: Date;
  /** `system` or an agent / operator id. */
  actor: string;
  /** Action, e.g. `CASE_OPENED`, `CONTACT_REFUSED`. */
  action: string;
  /** Details as text (no personal data). */
  detail: string;
}

/** A collection case for one account's delinquency episode (or pre-delinquency warning). */
export interface CollectionCase {
  caseId: string;
  accountId: string;
  customerId: string;
  productCode: string;
  status: CaseStatus;
  /** Days past due from the latest Overdue. */
  dpd: number;
  bucket: Bucket;
  overdueFen: Fen;
  totalBalanceFen: Fen;
  /** Amount due of the statement that triggered a pre-delinquency case. */
  amountDueFen: Fen;
  /** Due date of that statement (pre-delinquency), or "". */
  dueDate: LocalDate | "";
  /** First day of the delinquency episode, or "" while pre-delinquent. */
  delinquencyStartDate: LocalDate | "";
  /** Business date of the latest Overdue applied. */
  lastOverdueDate: LocalDate | "";
  riskTier: RiskTier;
  treatment: Treatment;
  strategyId: string;
  agentId: string;
  queue: string;
  priority: number;
  jurisdiction: Jurisdiction;
  timeZone: string;
  openedAt: Date;
  closedAt: Date | null;
  /** Escalation level (0 none; each broken promise or fraud suspicion +1). */
  escalationLevel: number;
  /** Amount paid since opening. */
  collectedFen: Fen;
  /** Fees waived since opening. */
  waivedFen: Fen;
  pauseReason: PauseReason;
  lastReason: Reason;
  /** Buckets the case has been in, in order of entry (for roll and cure rates). */
  bucketsEntered: Bucket[];
  promises: PromiseToPay[];
  attempts: ContactAttempt[];
  planIds: string[];
  /** `<op>:<idempotency key>` of the plans and deferrals requested from billing on this case (a retry is answered, not gated again). */
  requestKeys: string[];
  /** Hardship deferrals granted through billing. */
  deferrals: { key: string; deferralId: string; days: number; dueDate: string; deferredFen: Fen; at: Date }[];
  legalNotices: LegalNotice[];
  waivers: FeeWaiver[];
  /** Stored consents to contact outside the permitted hours (CN guideline; Reg F 1006.6(b)(1)). */
  consents: ContactConsent[];
  /** The treatment path scheduled on the case (domain/treatment-path.ts), in DPD order, with what became of each step. */
  path: CaseStep[];
  /** Ids of events already applied to this case (consumer idempotency). */
  processedEventIds: string[];
  /** The audit log so far (append-only; repositories only ever push to it). */
  audit: AuditEntry[];
  /** Optimistic-concurrency version; every save increments it. */
  version: number;
}

/** Fields every outgoing collections event carries. */
interface EventBase {
  /** Deterministic event id for the fact. */
  id: string;
  /** When it happened. */
  time: Date;
  caseId: string;
  accountId: string;
  customerId: string;
}

/** An event collections publishes (through the case's outbox). */
export type CaseEvent =
  | (EventBase & {
      type: "CaseOpened";
      status: CaseStatus;
      treatment: Treatment;
      strategyId: string;
      bucket: Bucket;
    })
  | (EventBase & { type: "CaseEscalated"; treatment: Treatment; escalationLevel: number; reason: string })
  | (EventBase & { type: "CaseClosed"; status: CaseStatus; collectedFen: Fen; strategyId: string })
  | (EventBase & { type: "PromiseMade" | "PromiseKept" | "PromiseBroken"; promise: PromiseToPay })
  | (EventBase & { type: "PlanAgreed"; planId: string; installmentCount: number; totalFen: Fen })
  | (EventBase & { type: "LegalNoticeRequested"; notice: LegalNotice })
  | (EventBase & {
      type: "TreatmentStepRequested";
      stepId: string;
      strategyId: string;
      ruleRef: string;
      channel: StepChannel;
      template: string;
      text: string;
      dpd: number;
      bucket: Bucket;
      overdueFen: Fen;
      totalBalanceFen: Fen;
      businessDate: LocalDate;
    });

/** A refusal by a rule: the action is not taken; `rule` is the machine-readable reason. */
export interface Refusal {
  /** Rule code, e.g. `CN_QUIET_HOURS` (google.rpc.ErrorInfo reason). */
  rule: string;
  /** Human-readable explanation. */
  message: string;
  /** Where the rule comes from. */
  citation: string;
}

/** The result of a domain command: the case after it, new audit lines and events to publish. */
export interface CaseChange {
  /** The case after the change (its `audit` includes the new lines). */
  case: CollectionCase;
  /** Audit lines added by this change. */
  audit: AuditEntry[];
  /** Events to publish through the outbox. */
  events: CaseEvent[];
}
