/**
 * Ports of the billing use cases: what they need from storage and time. The
 * Mongo adapters implement them; unit tests use the in-memory versions in
 * test/fakes.ts.
 */
import type { Clock, Fen, LocalDate } from "@whiteslip/core";
import type { Account } from "../domain/account";
import type { Bucket } from "../domain/delinquency";
import type { EodCounts } from "../domain/end-of-day";
import type { BillingEvent } from "../domain/events";
import type { ProductCatalog } from "../domain/product";

/** A slice of the book: accounts whose `shardKey mod count = index`. */
export interface Shard {
  /** 0-based index. */
  index: number;
  /** Number of shards (≥ 1). */
  count: number;
}

/** Accounts, one document each, with their pending events (the outbox). */
export interface AccountRepository {
  /** The account, or null. */
  get(id: string): Promise<Account | null>;
  /** Inserts a new account with its events; "exists" when the id is taken. */
  insert(account: Account, events: BillingEvent[]): Promise<"inserted" | "exists">;
  /** Replaces the state if the stored version is `expectedVersion`, pushing the events in the same update; false on a concurrent change. */
  update(account: Account, expectedVersion: number, events: BillingEvent[]): Promise<boolean>;
  /** Active accounts in the shard (the run's scope). */
  countActive(shard: Shard): Promise<number>;
  /** Next page of active accounts of the shard not yet through end-of-day `date`, by id after `afterId`. */
  eodPage(date: LocalDate, shard: Shard, afterId: string | undefined, limit: number): Promise<Account[]>;
  /**
   * Writes a page of end-of-day results in one bulk write; each update applies only
   * if the account is still at `expectedVersion` and not yet through `date`.
   * Returns the ids that were not applied and are still not through `date` (to redo).
   */
  applyEodPage(date: LocalDate, items: { account: Account; expectedVersion: number; events: BillingEvent[] }[]): Promise<string[]>;
  /** Accounts charged off in (from, to], with their bucket log (for roll rates). */
  chargedOffBetween(from: LocalDate, to: LocalDate): Promise<Pick<Account, "id" | "bucketLog" | "chargedOffDate" | "chargedOffFen">[]>;
  /** Sum of balances charged off on or before `date`. */
  chargedOffTotal(date: LocalDate): Promise<Fen>;
}

/** The business date: the next end-of-day to run and the last one completed. */
export interface BusinessDate {
  /** The current business date. */
  current: LocalDate;
  /** Last completed end-of-day, if any. */
  lastCompleted?: LocalDate;
}

/** The business-date state document. */
export interface BusinessDateRepository {
  /** Reads it, creating it at `initial` the first time. */
  get(initial: LocalDate): Promise<BusinessDate>;
  /** Marks `date` completed and moves to `date + 1`, only if `date` is the current date. */
  advance(date: LocalDate): Promise<void>;
}

/** Portfolio aggregates a run collects (per date, summed over shards). */
export interface PortfolioAgg {
  /** Accounts and balances per bucket at the date. */
  buckets: Partial<Record<Bucket, { accounts: number; balance: Fen }>>;
  /** Accounts by "<bucket a month earlier>><bucket now>". */
  roll: Record<string, number>;
  /** Balance charged off on the date. */
  chargedOffFen: Fen;
  /** Unpaid amounts by future due date. */
  inflows: Record<LocalDate, { amount: Fen; accounts: number }>;
}

/** Status of a run or shard. */
export type RunStatus = "RUNNING" | "COMPLETED" | "FAILED";

/** One shard of a date's run. */
export interface ShardRun {
  /** Shard index. */
  index: number;
  /** Status. */
  status: RunStatus;
  /** Accounts in scope. */
  total: number;
  /** Accounts processed. */
  processed: number;
  /** Effects counted. */
  counts: EodCounts;
  /** Portfolio aggregates. */
  stats: PortfolioAgg;
  /** Started. */
  startedAt: Date;
  /** Completed. */
  completedAt?: Date;
  /** Last error. */
  error?: string;
}

/** A date's run. */
export interface DateRun {
  /** Business date. */
  date: LocalDate;
  /** Shards the date is split into. */
  shardCount: number;
  /** Overall status. */
  status: RunStatus;
  /** First start. */
  startedAt: Date;
  /** Completion. */
  completedAt?: Date;
  /** Shard records that exist. */
  shards: ShardRun[];
}

/** What one page adds to a shard run. */
export interface PageDelta {
  /** Accounts processed. */
  processed: number;
  /** Counts. */
  counts: EodCounts;
  /** Aggregates. */
  stats: PortfolioAgg;
}

/** Run records per (date, shard). */
export interface EodRunRepository {
  /** The run of a date with its shards, or null. */
  get(date: LocalDate): Promise<DateRun | null>;
  /** Creates the date's run if absent (returns what is stored). */
  createIfAbsent(date: LocalDate, shardCount: number, startedAt: Date): Promise<DateRun>;
  /** Marks the shard running with its scope (creating the record if absent; keeps counts on resume). */
  startShard(date: LocalDate, shard: Shard, total: number, startedAt: Date): Promise<void>;
  /** Adds a page's counts to the shard. */
  addPage(date: LocalDate, shard: Shard, delta: PageDelta): Promise<void>;
  /** Marks the shard completed or failed. */
  finishShard(date: LocalDate, shard: Shard, status: RunStatus, at: Date, error?: string): Promise<void>;
  /** Marks the date completed. */
  complete(date: LocalDate, at: Date): Promise<void>;
  /** Runs of dates in [from, to]. */
  list(from: LocalDate, to: LocalDate): Promise<DateRun[]>;
}

/** Test hooks to simulate crashes (never set in production). */
export interface EodHooks {
  /** Called after each page is stored; throwing simulates a crash mid-run. */
  afterPage?: (page: number, date: LocalDate, shard: Shard) => void | Promise<void>;
}

/** Everything the use cases need. */
export interface BillingDeps {
  /** Accounts. */
  accounts: AccountRepository;
  /** Business date. */
  businessDates: BusinessDateRepository;
  /** End-of-day runs. */
  runs: EodRunRepository;
  /** Products. */
  catalog: ProductCatalog;
  /** Time. */
  clock: Clock;
  /** Business time zone. */
  timeZone: string;
  /** Accounts per end-of-day page (default 1000). */
  eodPageSize?: number;
  /** Test hooks. */
  hooks?: EodHooks;
}
