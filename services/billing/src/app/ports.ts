/**
 * Ports of the billing use cases: what they need from storage and time. The
 * Mongo adapters implement them; unit tests use the in-memory versions in
 * test/fakes.ts.
 */
import type { Clock, Fen, LocalDate } from "@whiteslip/core";
import type { Account } from "../domain/account";
import type { Bucket } from "../domain/delinquency";
import type { EodCounts, EodSnapshot } from "../domain/end-of-day";
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
  /** Accounts of the shard on the agenda of `date` (the run's scope: the accounts with work that day). */
  countScheduled(date: LocalDate, shard: Shard): Promise<number>;
  /**
   * Next page of the shard's accounts with work on `date` (agenda hint `nextActionDate` ≤ `date`), active
   * and not yet through end-of-day `date`, by id after `afterId` (and, with `throughId`, not after it: a
   * retried page reads exactly its own range again), each with its last end-of-day mark. Accounts with
   * nothing to do that day are not read.
   */
  eodPage(date: LocalDate, shard: Shard, afterId: string | undefined, limit: number, throughId?: string): Promise<EodCandidate[]>;
  /** The accounts with these ids (those that exist). */
  getMany(ids: string[]): Promise<Account[]>;
  /** The accounts with these ids with their last end-of-day mark (those that exist). */
  getManyForEod(ids: string[]): Promise<EodCandidate[]>;
  /** Puts accounts on the agenda of `date` as well (a quarantined account is retried the next day). */
  schedule(ids: string[], date: LocalDate): Promise<void>;
  /** `date` completed: drops the agenda of a date long before it (kept a few days for an operator's look). */
  retireAgenda(date: LocalDate): Promise<void>;
  /**
   * Writes a page of end-of-day results in one bulk write; each update applies only if the account is
   * still at `expectedVersion` and not yet through `date`, and stamps the account with its `mark` (the
   * contribution to the run's counts and stats, and the page that committed it) in the same update.
   * Returns the ids this write applied and the ids to redo (changed concurrently, still not through `date`).
   */
  applyEodPage(date: LocalDate, items: EodItem[], shard: Shard): Promise<{ applied: string[]; redo: string[] }>;
  /**
   * Publishes the end-of-day events of page writes whose publication was not recorded (the writer died, or
   * the broker failed, between the write and its publication): of `date` and `shard` (a shard completing),
   * or of any date recorded before `before` (the supervisor's safety net). Returns the events published.
   */
  publishPending(scope: { date: LocalDate; shard: Shard } | { before: Date }): Promise<number>;
  /** The marks of the accounts in (afterId, throughId] that page `pageId` committed. */
  pageMarks(date: LocalDate, shard: Shard, pageId: string, afterId: string | undefined, throughId: string): Promise<EodMark[]>;
  /** Every mark of `date` in the shard (among the accounts on its agenda): what the date's committed account updates contributed (a recount). */
  marksOf(date: LocalDate, shard: Shard): AsyncIterable<EodMark>;
  /** How many accounts of the shard (on its agenda) carry a mark of `date`. */
  countMarks(date: LocalDate, shard: Shard): Promise<number>;
  /** Every account with its last end-of-day mark (a full scan: the portfolio recount only). */
  scanAll(): AsyncIterable<EodCandidate>;
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

/**
 * What one account's end-of-day of `date` contributed, stored on the account in the same single-document
 * update as the effects (so it exists exactly when the effects do) and tagged with the page that wrote it.
 */
export interface EodMark {
  /** Business date. */
  date: LocalDate;
  /** The page (run attempt + sequence) whose write committed it. */
  page: string;
  /** Counts. */
  counts: EodCounts;
  /** Portfolio snapshot at `date`. */
  snapshot: EodSnapshot;
  /** The snapshot of the account's previous mark, replaced by this one (its contribution until now); absent the first time. */
  prev?: EodSnapshot;
  /** The account's version after this end-of-day (a later command changes it: the recount then knows the state moved on). */
  version?: number;
}

/** An account read for end-of-day, with its last mark (whose snapshot is its current portfolio contribution). */
export interface EodCandidate {
  /** The account. */
  account: Account;
  /** Its last end-of-day mark. */
  mark?: EodMark;
  /** The page write whose events the account's end-of-day outbox still holds (published or not). */
  outboxPage?: string;
}

/** One account's write in an end-of-day page. */
export interface EodItem {
  /** The account after the date. */
  account: Account;
  /** Version it was read at. */
  expectedVersion: number;
  /** Events of the date(s). */
  events: BillingEvent[];
  /** Its contribution, stored with it. */
  mark: EodMark;
  /** The page write whose events its end-of-day outbox holds now (from the candidate); replaced by this write. */
  outboxPage?: string;
}

/** The business-date state document. */
export interface BusinessDateRepository {
  /** Reads it, creating it at `initial` the first time. */
  get(initial: LocalDate): Promise<BusinessDate>;
  /** Marks `date` completed and moves to `date + 1`, only if `date` is the current date. */
  advance(date: LocalDate): Promise<void>;
}

/**
 * Portfolio aggregates. In a shard run: the changes of the date (each touched account's new snapshot
 * less its previous one); in a completed date run (`DateRun.portfolio`): the whole book at the date,
 * the previous date's portfolio plus the date's changes (see "Portfolio statistics" in the README).
 */
export interface PortfolioAgg {
  /** Accounts and balances per bucket at the date. */
  buckets: Partial<Record<Bucket, { accounts: number; balance: Fen }>>;
  /** Active accounts by "<bucket a month earlier>><bucket now>" (charge-offs are counted from the charged-off accounts). */
  roll: Record<string, number>;
  /** Balance charged off on the date (a flow: not carried to the next date). */
  chargedOffFen: Fen;
  /** Unpaid amounts by due date (the stats read the dates after theirs). */
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
  /** The replica holding the lease. */
  owner?: string;
  /** The lease's fencing token: every write of the owner is conditional on it. */
  leaseToken?: string;
  /** When the lease expires unless renewed. */
  leaseUntil?: Date;
  /** The owner's last heartbeat. */
  heartbeatAt?: Date;
  /** Times taken over from an owner whose lease had expired. */
  takeovers: number;
  /** Id of the last account of the last counted page: a resumed run continues after it. */
  cursor?: string;
}

/** A shard's lease as its owner holds it. */
export interface Lease {
  /** The replica. */
  owner: string;
  /** Fencing token of this acquisition. */
  token: string;
}

/** An account held out of a run. */
export interface QuarantinedAccount {
  /** Account. */
  accountId: string;
  /** Business date of the run that quarantined it. */
  date: LocalDate;
  /** Shard index. */
  shardIndex: number;
  /** Machine-readable reason. */
  reason: string;
  /** Error message. */
  message: string;
  /** When. */
  at: Date;
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
  /** The whole book's portfolio at the date (set when the date completes). */
  portfolio?: PortfolioAgg;
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

/**
 * Run records: one per date, one per (date, shard) — the shard record is also the lease document — and
 * one per quarantined (date, shard, account). Every write of a lease holder is a single-document update
 * conditional on its token.
 */
export interface EodRunRepository {
  /** The run of a date with its shards, or null. */
  get(date: LocalDate): Promise<DateRun | null>;
  /** Creates the date's run if absent (returns what is stored). */
  createIfAbsent(date: LocalDate, shardCount: number, startedAt: Date): Promise<DateRun>;
  /** A FAILED shard back to RUNNING (a retried RunEndOfDay resumes it). */
  reopen(date: LocalDate, shard: Shard): Promise<void>;
  /**
   * Takes the lease of a RUNNING shard that nobody holds or whose lease expired before `now` (creating
   * the shard record, leased, on the first start); sets the shard's scope to `total()` accounts.
   * Returns the shard, or null when a live lease is held (or the shard is not RUNNING).
   */
  acquire(date: LocalDate, shard: Shard, lease: Lease, now: Date, until: Date, total: () => Promise<number>): Promise<ShardRun | null>;
  /** Heartbeat: extends the lease if `token` still holds it; false when it was lost. */
  renew(date: LocalDate, shard: Shard, token: string, now: Date, until: Date): Promise<boolean>;
  /** Hands the lease back (expired at once) if `token` holds it. */
  release(date: LocalDate, shard: Shard, token: string): Promise<void>;
  /**
   * Adds a page's counts once per `pageId` and moves the cursor to `cursor` (a completed shard, `token`
   * null, takes counts of retried quarantined accounts without a lease). "applied", "duplicate" (already
   * counted) or "lost" (another replica holds the lease).
   */
  addPage(date: LocalDate, shard: Shard, token: string | null, pageId: string, delta: PageDelta, cursor: string | undefined, until: Date): Promise<"applied" | "duplicate" | "lost">;
  /** Replaces the shard's counts with a recount (the holder of `token` only). */
  replaceCounts(date: LocalDate, shard: Shard, token: string, counted: PageDelta): Promise<boolean>;
  /** Marks the shard completed (or failed with `error`) and releases the lease; false if `token` lost it. */
  finishShard(date: LocalDate, shard: Shard, token: string, status: "COMPLETED" | "FAILED", at: Date, error?: string): Promise<boolean>;
  /** Marks the date completed with the book's portfolio at the date. */
  complete(date: LocalDate, at: Date, portfolio: PortfolioAgg): Promise<void>;
  /** Runs of dates in [from, to]. */
  list(from: LocalDate, to: LocalDate): Promise<DateRun[]>;
  /** Dates whose run has not completed. */
  unfinishedDates(): Promise<LocalDate[]>;
  /** RUNNING shards whose lease expired before `now` or that nobody holds (the supervisor's work). */
  orphaned(now: Date): Promise<{ date: LocalDate; shard: Shard }[]>;
  /** Records (or refreshes) a quarantined account; true when it was not quarantined for that date yet. */
  quarantine(q: QuarantinedAccount): Promise<boolean>;
  /** Clears the quarantine of accounts whose end-of-day went through `date` (entries of dates ≤ `date`). */
  clearQuarantine(accountIds: string[], date: LocalDate): Promise<void>;
  /** Accounts still quarantined for any date up to `date`. */
  quarantinedIds(date: LocalDate): Promise<string[]>;
  /** A date's quarantined accounts (oldest first, at most `limit`) and their count. */
  quarantined(date: LocalDate, limit: number): Promise<{ count: number; accounts: QuarantinedAccount[] }>;
}

/** Test hooks to simulate crashes (never set in production). */
export interface EodHooks {
  /**
   * Called after each page is stored. Throwing is a bug in the run (the shard FAILS); returning "abandon"
   * stops the run at once without a word to anyone — no release, no more heartbeats — as a SIGKILL would.
   */
  afterPage?: (page: number, date: LocalDate, shard: Shard) => void | "abandon" | Promise<void | "abandon">;
  /** Called after a page's account writes, before its counts are stored (a crash here leaves marks no page counted). */
  beforeCount?: (page: number, date: LocalDate, shard: Shard) => void | "abandon" | Promise<void | "abandon">;
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
  /** End-of-day of D may run from the end of D in `timeZone` plus this cutoff (ms). */
  eodCutoffMs: number;
  /** Lease duration of an end-of-day shard (ms); the owner renews it every third of it. */
  eodLeaseMs: number;
  /** Wall clock for leases (never the business clock, which time travel moves); default the system clock. */
  leaseClock?: Clock;
  /** Test hooks. */
  hooks?: EodHooks;
}
