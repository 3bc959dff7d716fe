/**
 * In-memory repositories for unit tests of the use cases (pure logic only;
 * integration tests run on the real database).
 */

import type {
  AccountRepository,
  BureauFileRepository,
  OutgoingEvent,
  StoredAccount,
} from "../../src/app/ports";
import type { AccountState } from "../../src/domain/account";
import type { BureauFile } from "../../src/domain/bureau-file";

/** Accounts in a Map, with versions and an outbox list. */
export class InMemoryAccounts implements AccountRepository {
  readonly rows = new Map<string, { state: AccountState; version: number; processed: string[] }>();
  readonly outbox: OutgoingEvent[] = [];
  async get(accountId: string): Promise<StoredAccount | null> {
    const r = this.rows.get(accountId);
    return r
      ? { state: structuredClone(r.state), version: r.version, processedEventIds: [...r.processed] }
      : null;
  }
  async findByNoticeId(noticeId: string): Promise<StoredAccount | null> {
    for (const [id, r] of this.rows)
      if (r.state.delinquencies.some((d) => d.noticeId === noticeId)) return this.get(id);
    return null;
  }
  async findByDisputeId(disputeId: string): Promise<StoredAccount | null> {
    for (const [id, r] of this.rows)
      if (r.state.disputes.some((d) => d.disputeId === disputeId)) return this.get(id);
    return null;
  }
  async save(
    state: AccountState,
    expectedVersion: number | null,
    opts: { eventId?: string; events: OutgoingEvent[] },
  ): Promise<boolean> {
    const r = this.rows.get(state.accountId);
    if ((r?.version ?? null) !== expectedVersion) return false;
    const processed = [...(r?.processed ?? []), ...(opts.eventId ? [opts.eventId] : [])];
    this.rows.set(state.accountId, {
      state: structuredClone(state),
      version: (r?.version ?? 0) + 1,
      processed,
    });
    this.outbox.push(...opts.events);
    return true;
  }
  async *scan(): AsyncIterable<AccountState> {
    for (const r of this.rows.values()) yield structuredClone(r.state);
  }
}

/** Bureau files in a Map. */
export class InMemoryFiles implements BureauFileRepository {
  readonly rows = new Map<string, BureauFile>();
  readonly outbox: OutgoingEvent[] = [];
  async get(format: string, asOf: string): Promise<BureauFile | null> {
    return this.rows.get(`${format}/${asOf}`) ?? null;
  }
  async insertOnce(file: BureauFile, events: OutgoingEvent[]): Promise<BureauFile> {
    const key = `${file.format}/${file.asOf}`;
    const existing = this.rows.get(key);
    if (existing) return existing;
    this.rows.set(key, file);
    this.outbox.push(...events);
    return file;
  }
}
