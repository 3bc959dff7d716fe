/**
 * Ports of the credit-reporting use cases: the repositories they need and the
 * events they leave in the outbox. Adapters implement them on MongoDB.
 */
import type { Clock, LocalDate } from "@whiteslip/core";
import type { AccountState, ScoreChange } from "../domain/account";
import type { NegativeReportNotice } from "../domain/apply-fact";
import type { BureauFile } from "../domain/bureau-file";
import type { BureauFormat, Furnisher } from "../domain/bureau-format";
import type { ConsumerIdentity } from "../domain/identity";
import type { ReportingPolicy, ScorePolicy } from "../domain/policy";
import type { KeyedLock } from "./keyed-lock";

/** An event to publish through the outbox, in the same write as the state change. */
export type OutgoingEvent =
  | {
      type: "ScoreChanged";
      id: string;
      key: string;
      time: Date;
      accountId: string;
      customerId: string;
      change: ScoreChange;
    }
  | { type: "NegativeReportPending"; id: string; key: string; time: Date; notice: NegativeReportNotice }
  | { type: "BureauFileGenerated"; id: string; key: string; time: Date; file: Omit<BureauFile, "content"> };

/** An aggregate as stored, with its optimistic-concurrency version. */
export interface StoredAccount {
  /** The aggregate. */
  state: AccountState;
  /** Version read; a save with another version fails. */
  version: number;
  /** Recently processed event ids (idempotency). */
  processedEventIds: readonly string[];
}

/** Persistence of the per-account aggregate (score, history, reporting state, disputes, outbox). */
export interface AccountRepository {
  /** Loads an account, or null. */
  get(accountId: string): Promise<StoredAccount | null>;
  /** Finds the account whose delinquency carries this pre-report notice id. */
  findByNoticeId(noticeId: string): Promise<StoredAccount | null>;
  /** Finds the account that has this dispute. */
  findByDisputeId(disputeId: string): Promise<StoredAccount | null>;
  /**
   * Writes the state if the stored version is still `expectedVersion` (null =
   * create), records `eventId` as processed and appends `events` to the
   * outbox, all in one single-document write. Returns false on a version conflict.
   */
  save(
    state: AccountState,
    expectedVersion: number | null,
    opts: { eventId?: string; events: OutgoingEvent[] },
  ): Promise<boolean>;
  /** Every account, in batches (order does not matter: the file sorts). */
  scan(batchSize?: number): AsyncIterable<AccountState>;
}

/** Persistence of generated bureau files. */
export interface BureauFileRepository {
  /** The stored file of a format and as-of date, or null. */
  get(format: string, asOf: LocalDate): Promise<BureauFile | null>;
  /** Stores the file with its BureauFileGenerated event unless one is stored already; returns the stored file (first writer wins). */
  insertOnce(file: BureauFile, events: OutgoingEvent[]): Promise<BureauFile>;
}

/** The consumers' identities, from credit (which owns them), for the accounts of a file. */
export interface IdentityProvider {
  /** Identities by account id; an account credit does not know is absent from the map. */
  identities(accountIds: readonly string[], purpose: string): Promise<Map<string, ConsumerIdentity>>;
}

/** One download of a bureau file (the file's bytes left the service). */
export interface FileDownload {
  fileId: string;
  format: string;
  asOf: LocalDate;
  sha256: string;
  /** Who asked: the authenticated caller, and the operator they named. */
  caller: string;
  requestedBy: string;
  /** The RPC that returned the bytes. */
  via: "GenerateBureauFile" | "GetBureauFile";
  at: Date;
}

/** The audit of file downloads. */
export interface DownloadAudit {
  /** Records one download; the bytes are returned only after it is stored. */
  record(d: FileDownload): Promise<void>;
}

/** Everything a use case may need. */
export interface Deps {
  /** Account aggregate store. */
  accounts: AccountRepository;
  /** Bureau file store. */
  files: BureauFileRepository;
  /** Time. */
  clock: Clock;
  /** Business time zone. */
  timeZone: string;
  /** Score rules. */
  scorePolicy: ScorePolicy;
  /** Reporting rules. */
  reportingPolicy: ReportingPolicy;
  /** Available file formats, by name; the first is the default. */
  formats: readonly BureauFormat[];
  /** Furnisher identification for file headers. */
  furnisher: Furnisher;
  /** Per-account serialisation of writes in this process. */
  locks: KeyedLock;
  /** Consumers' identities (credit). */
  identities: IdentityProvider;
  /** Audit of file downloads. */
  downloads: DownloadAudit;
}
