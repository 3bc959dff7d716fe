/**
 * The account aggregate on MongoDB, one document per account:
 * `{ _id: accountId, version, state, noticeIds, disputeIds, processedEventIds, pendingEvents }`.
 * Every change is one single-document write guarded by `version` (optimistic
 * concurrency) that also records the event id and appends the outbox events,
 * so a state change and its events commit together (no multi-document
 * transactions; FerretDB v1 has none). Score history lives in the document:
 * each change id is derived from its event id and the version guard makes the
 * same event move the score once.
 */
import { ensureIndexes, isDuplicateKey, outboxFields, pushEvents } from "@whiteslip/store";
import type { Collection, Db } from "mongodb";
import type { AccountRepository, OutgoingEvent, StoredAccount } from "../app/ports";
import type { AccountState } from "../domain/account";
import { toBusEvent } from "./events";

/** Event ids kept per account for deduplication (score-moving events are also found through the history). */
const RECENT_EVENT_IDS = 500;

/** Amount fields of the state, stored as decimal strings (exact, and the same on MongoDB and FerretDB). */
const FEN_FIELDS = [
  "creditLimitFen",
  "highestBalanceFen",
  "balanceFen",
  "overdueFen",
  "lastPaymentFen",
  "chargedOffFen",
] as const;

/** The stored shape. */
export interface AccountDoc {
  _id: string;
  version: number;
  state: Record<string, unknown>;
  noticeIds: string[];
  disputeIds: string[];
  processedEventIds: string[];
  pendingEvents: unknown[];
}

/** MongoDB implementation of {@link AccountRepository}. */
export class MongoAccountRepository implements AccountRepository {
  readonly collection: Collection<AccountDoc>;
  constructor(db: Db) {
    this.collection = db.collection<AccountDoc>("accounts");
  }

  /** Declares the indexes next to the queries they serve. */
  async ensureIndexes(): Promise<void> {
    await ensureIndexes(this.collection, [
      {
        key: { noticeIds: 1 },
        serves: "findByNoticeId (NotificationDelivered consumer: ref.fact_id → account)",
      },
      { key: { disputeIds: 1 }, serves: "findByDisputeId (ResolveDispute)" },
    ]);
  }

  async get(accountId: string): Promise<StoredAccount | null> {
    return fromDoc(await this.collection.findOne({ _id: accountId }));
  }

  async findByNoticeId(noticeId: string): Promise<StoredAccount | null> {
    return fromDoc(await this.collection.findOne({ noticeIds: noticeId }));
  }

  async findByDisputeId(disputeId: string): Promise<StoredAccount | null> {
    return fromDoc(await this.collection.findOne({ disputeIds: disputeId }));
  }

  async save(
    state: AccountState,
    expectedVersion: number | null,
    opts: { eventId?: string; events: OutgoingEvent[] },
  ): Promise<boolean> {
    const busEvents = opts.events.map(toBusEvent);
    const fields = {
      state: stateToDoc(state),
      noticeIds: state.delinquencies.flatMap((d) => (d.noticeId ? [d.noticeId] : [])),
      disputeIds: state.disputes.map((d) => d.disputeId),
    };
    if (expectedVersion === null) {
      try {
        await this.collection.insertOne({
          _id: state.accountId,
          version: 1,
          ...fields,
          processedEventIds: opts.eventId ? [opts.eventId] : [],
          ...outboxFields(busEvents),
        });
        return true;
      } catch (e) {
        if (isDuplicateKey(e)) return false;
        throw e;
      }
    }
    const current = await this.collection.findOne(
      { _id: state.accountId, version: expectedVersion },
      { projection: { processedEventIds: 1 } },
    );
    if (!current) return false;
    const processed = opts.eventId
      ? [...current.processedEventIds, opts.eventId].slice(-RECENT_EVENT_IDS)
      : current.processedEventIds;
    const r = await this.collection.updateOne(
      { _id: state.accountId, version: expectedVersion },
      pushEvents({ $set: { ...fields, version: expectedVersion + 1, processedEventIds: processed } }, busEvents),
    );
    return r.modifiedCount === 1;
  }

  async *scan(batchSize = 500): AsyncIterable<AccountState> {
    const cursor = this.collection
      .find({}, { projection: { state: 1 } })
      .sort({ _id: 1 })
      .batchSize(batchSize);
    for await (const doc of cursor) yield stateFromDoc(doc.state);
  }
}

function fromDoc(doc: AccountDoc | null): StoredAccount | null {
  if (!doc) return null;
  return {
    state: stateFromDoc(doc.state),
    version: doc.version,
    processedEventIds: doc.processedEventIds ?? [],
  };
}

/** The state as stored: bigint amounts as strings; everything else as is (Dates are BSON dates). */
export function stateToDoc(s: AccountState): Record<string, unknown> {
  const out: Record<string, unknown> = { ...s };
  for (const f of FEN_FIELDS) out[f] = s[f].toString();
  return out;
}

/** The state from its stored form. */
export function stateFromDoc(d: Record<string, unknown>): AccountState {
  const out = { ...d } as Record<string, unknown>;
  for (const f of FEN_FIELDS) out[f] = BigInt((d[f] as string | undefined) ?? "0");
  return out as unknown as AccountState;
}
