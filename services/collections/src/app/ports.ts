/**
 * Ports the use cases depend on; adapters implement them (Mongo, gRPC), unit tests use in-memory fakes.
 */
import type { ContactCosts } from "../domain/contact-costs";
import type { billing } from "@whiteslip/contracts";
import type { Clock, Fen } from "@whiteslip/core";
import type { Locale } from "../domain/case";
import type { StrategySet } from "../domain/strategy";
import type { Bucket, CaseChange, CaseStatus, CollectionCase, ContactAttempt, RiskTier } from "../domain/types";

/** Filter for ListCases. */
export interface CaseFilter {
  agentId?: string;
  statuses?: CaseStatus[];
  bucket?: Bucket;
  queue?: string;
  accountId?: string;
}

/** A page of cases, highest priority first. */
export interface CasePage {
  cases: CollectionCase[];
  /** Opaque token for the next page, "" at the end. */
  next: string;
}

/** Stores cases; every save is one conditional single-document write carrying audit lines and outbox events. */
export interface CaseRepository {
  /** The case, or null. */
  get(caseId: string): Promise<CollectionCase | null>;
  /** The account's case in an active status (pre-delinquent, open, paused), or null. */
  findActiveByAccount(accountId: string): Promise<CollectionCase | null>;
  /** The account's latest case closed as cured at or after `since`, or null. */
  findCuredSince(accountId: string, since: Date): Promise<CollectionCase | null>;
  /** Inserts a new case; "duplicate" when its id exists. */
  insert(change: CaseChange): Promise<"inserted" | "duplicate">;
  /** Saves a change if the stored version is still `expectedVersion`; "conflict" otherwise. */
  save(change: CaseChange, expectedVersion: number): Promise<"saved" | "conflict">;
  /** Filters and pages cases. */
  list(filter: CaseFilter, pageSize: number, pageToken: string): Promise<CasePage>;
  /** Ids of active cases with a pending promise dated before `asOf`. */
  withPromisesDueBefore(asOf: string): Promise<string[]>;
  /** Number of active cases held by each agent. */
  activeCountsByAgent(): Promise<Map<string, number>>;
  /** All cases, for stats. */
  forStats(): Promise<CollectionCase[]>;
  /** Contact attempts logged on the customer's cases other than `exceptCaseId` (per-contact-point rules). */
  attemptsOfCustomer(customerId: string, exceptCaseId: string): Promise<ContactAttempt[]>;
}

/** A collector. */
export interface Agent {
  agentId: string;
  /** Personal data: never logged. */
  displayName: string;
  /** Queues the agent works. */
  skills: string[];
  active: boolean;
}

/** Stores agents. */
export interface AgentRepository {
  /** Creates or replaces an agent. */
  upsert(agent: Agent): Promise<void>;
  /** One agent, or null. */
  get(agentId: string): Promise<Agent | null>;
  /** All agents by id. */
  list(): Promise<Agent[]>;
}

/** Risk tiers learned from credit's events. */
export interface RiskTierRepository {
  /** The latest tier of an account ("" when unknown). */
  get(accountId: string): Promise<RiskTier>;
  /** Records a tier from an event; "duplicate" when the event was applied already. */
  record(accountId: string, tier: RiskTier, eventId: string): Promise<"applied" | "duplicate">;
}

/** Billing's synchronous API (over gRPC). */
export interface BillingPort {
  /** Books a repayment plan (billing's CreateRepaymentPlan). */
  createRepaymentPlan(req: {
    accountId: string;
    installmentCount: number;
    requestedBy: string;
    idempotencyKey: string;
  }): Promise<billing.RepaymentPlan>;
  /** Waives fees (billing's WaiveFees); returns the amount waived. */
  waiveFees(req: {
    accountId: string;
    maxAmountFen: Fen;
    reason: string;
    approvedBy: string;
    idempotencyKey: string;
  }): Promise<Fen>;
  /** Defers the overdue dues (billing's DeferPayment). */
  deferPayment(req: {
    accountId: string;
    days: number;
    reason: string;
    requestedBy: string;
    idempotencyKey: string;
  }): Promise<{ deferralId: string; dueDate: string; deferredFen: Fen }>;
  /** The account's summary, or null when billing cannot answer. */
  getAccountSummary(accountId: string): Promise<billing.AccountSummary | null>;
  /** The terms of the account's product (billing's GetProductTerms): what a plan or a deferral may be. */
  getProductTerms(accountId: string): Promise<ProductTerms>;
}

/** Billing's product terms that collections checks treatments against (billing is their one home). */
export interface ProductTerms {
  /** Installment counts a repayment plan may have. */
  installmentTerms: readonly number[];
  /** The longest hardship deferral, in days. */
  maxDeferralDays: number;
}

/** Product configuration that collections needs. */
export interface CollectionsPolicy {
  /** Strategies and the champion/challenger split. */
  strategies: StrategySet;
  /** Jurisdiction and time zone of a product's customers (default CN / Asia/Shanghai). */
  localeFor(productCode: string): Locale;
  /** Creditor named in legal notices. */
  creditor: string;
  /** Most fees waived per case for hardship. */
  waiverMaxPerCaseFen: Fen;
  /** Business time zone (promise dates, notice deadlines). */
  businessTimeZone: string;
  /** Cost of one contact per channel, fen (config/contact-costs.json or CONTACT_COSTS_FILE). */
  contactCostFen: ContactCosts;
}

/** A stored strategy table with its version and audit. */
export interface StrategyTableVersion {
  /** The table. */
  table: StrategySet;
  /** +1 on every update. */
  version: number;
  /** When stored. */
  updatedAt: Date;
  /** Who stored it (`seed` for the table seeded from configuration). */
  updatedBy: string;
}

/** How a strategy table version came to be. */
export type StrategyChangeKind = "SEED" | "UPDATE" | "PROMOTION";

/** The audit note stored with a new version: who (the verified actor), why, and what kind of change. */
export interface StrategyChangeNote {
  actor: string;
  kind: StrategyChangeKind;
  /** As given by the person (may be empty for an update). */
  reason: string;
  /** Promotion: the challenger that became champion, and the champion it replaced. */
  promotedStrategyId?: string;
  formerChampionId?: string;
}

/** One stored version of the table with its audit (the audit trail, `strategy_history`). */
export interface StrategyChange extends StrategyChangeNote {
  version: number;
  /** The version it replaced (0 for the seed). */
  previousVersion: number;
  at: Date;
  table: StrategySet;
}

/** The strategy table (collections' `strategy_policy` document) and its audit trail. */
export interface StrategyTableRepository {
  /** The stored table. */
  current(): Promise<StrategyTableVersion>;
  /**
   * Replaces the table if the stored version is still `expectedVersion`; returns the new version, or undefined when
   * another update won (nothing stored). The note goes into the audit trail with both versions. Cases handled
   * afterwards by this process use the new table.
   */
  replaceIfVersion(
    table: StrategySet,
    expectedVersion: number,
    note: StrategyChangeNote,
    now: Date,
  ): Promise<StrategyTableVersion | undefined>;
  /** The audit trail, newest first: at most `limit` versions below `beforeVersion` (0 = from the newest). */
  changes(beforeVersion: number, limit: number): Promise<StrategyChange[]>;
}

/** Everything the use cases need. */
export interface Deps {
  cases: CaseRepository;
  agents: AgentRepository;
  tiers: RiskTierRepository;
  billing: BillingPort;
  clock: Clock;
  policy: CollectionsPolicy;
  /** The editable strategy table (policy.strategies reads the version in force). */
  strategyTable: StrategyTableRepository;
}
