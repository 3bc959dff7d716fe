/**
 * Cases in Mongo: one document per case holding its state, attempts, promises, notices, the append-only audit log
 * (only ever `$push`ed) and the outbox (`pendingEvents`). Every change is one conditional single-document update on
 * `version`, so the state, its audit lines and its events commit together (no multi-document transactions).
 */
import { ensureIndexes, isDuplicateKey, outboxFields, pushEvents } from "@whiteslip/store";
import type { Collection, Document, Filter } from "mongodb";

/** A filter on a string `_id` (the driver types `_id` as ObjectId by default). */
function byId(id: string, extra: Document = {}): Filter<Document> {
  return { _id: id, ...extra } as unknown as Filter<Document>;
}

import type { CaseFilter, CasePage, CaseRepository } from "../app/ports";
import { ACTIVE_STATUSES } from "../domain/case";
import type { CaseChange, CollectionCase, ContactAttempt } from "../domain/types";
import { encodeCaseEvent } from "./events";

/** The stored shape: the case with `_id`, plus `nextPromiseDate` (earliest pending promise) for the daily check. */
type CaseDoc = Document;

/** Declares the indexes next to the queries they serve. */
export async function ensureCaseIndexes(coll: Collection<Document>): Promise<void> {
  await ensureIndexes(coll, [
    {
      key: { accountId: 1, status: 1 },
      serves: "findActiveByAccount (every consumed event); ListCases by account",
    },
    {
      key: { status: 1, queue: 1, priority: -1 },
      serves: "ListCases by status/queue, highest priority first",
    },
    {
      key: { agentId: 1, status: 1 },
      serves: "ListCases by agent; activeCountsByAgent (AssignCase load balancing)",
    },
    { key: { nextPromiseDate: 1 }, serves: "withPromisesDueBefore (daily promise check)" },
    { key: { customerId: 1 }, serves: "attemptsOfCustomer (contact-point rules counted across a customer's cases)" },
  ]);
}

function fen(v: unknown): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number") return BigInt(v);
  if (v && typeof v === "object" && "toBigInt" in v) return (v as { toBigInt(): bigint }).toBigInt();
  return 0n;
}

function nextPromiseDate(c: CollectionCase): string | null {
  const dates = c.promises
    .filter((p) => p.status === "PENDING")
    .map((p) => p.promisedDate)
    .sort();
  return dates[0] ?? null;
}

function stateFields(c: CollectionCase): Document {
  const { caseId: _id, audit: _a, version: _v, ...rest } = c;
  return { ...rest, nextPromiseDate: nextPromiseDate(c) };
}

function fromDoc(d: CaseDoc): CollectionCase {
  return {
    caseId: String(d._id),
    accountId: d.accountId,
    customerId: d.customerId,
    productCode: d.productCode ?? "",
    status: d.status,
    dpd: Number(d.dpd ?? 0),
    bucket: d.bucket,
    overdueFen: fen(d.overdueFen),
    totalBalanceFen: fen(d.totalBalanceFen),
    amountDueFen: fen(d.amountDueFen),
    dueDate: d.dueDate ?? "",
    delinquencyStartDate: d.delinquencyStartDate ?? "",
    lastOverdueDate: d.lastOverdueDate ?? "",
    riskTier: d.riskTier ?? "",
    treatment: d.treatment,
    strategyId: d.strategyId,
    agentId: d.agentId ?? "",
    queue: d.queue ?? "",
    priority: Number(d.priority ?? 0),
    jurisdiction: d.jurisdiction,
    timeZone: d.timeZone,
    openedAt: d.openedAt,
    closedAt: d.closedAt ?? null,
    escalationLevel: Number(d.escalationLevel ?? 0),
    collectedFen: fen(d.collectedFen),
    waivedFen: fen(d.waivedFen),
    pauseReason: d.pauseReason ?? "",
    lastReason: d.lastReason ?? "UNSPECIFIED",
    bucketsEntered: d.bucketsEntered ?? [],
    promises: (d.promises ?? []).map((p: Document) => ({
      ...p,
      amountFen: fen(p.amountFen),
      paidFen: fen(p.paidFen),
    })),
    attempts: d.attempts ?? [],
    planIds: d.planIds ?? [],
    requestKeys: d.requestKeys ?? [],
    deferrals: (d.deferrals ?? []).map((x: Document) => ({ ...x, deferredFen: fen(x.deferredFen) })),
    legalNotices: (d.legalNotices ?? []).map((n: Document) => ({
      ...n,
      overdueFen: fen(n.overdueFen),
      totalBalanceFen: fen(n.totalBalanceFen),
    })),
    waivers: (d.waivers ?? []).map((w: Document) => ({ ...w, waivedFen: fen(w.waivedFen) })),
    consents: d.consents ?? [],
    path: (d.path ?? []).map((s: Document) => ({ ...s, dpd: Number(s.dpd) })),
    processedEventIds: d.processedEventIds ?? [],
    audit: (d.audit ?? []).map((a: Document) => ({ ...a, seq: Number(a.seq) })),
    version: Number(d.version ?? 0),
  } as CollectionCase;
}

const READ = { useBigInt64: true } as const;

/** Cases in the `cases` collection. */
export class MongoCaseRepository implements CaseRepository {
  constructor(readonly coll: Collection<Document>) {}

  async get(caseId: string) {
    const d = await this.coll.findOne(byId(caseId), { ...READ, projection: { pendingEvents: 0 } });
    return d ? fromDoc(d) : null;
  }

  /**
   * The account's active case. There is one, save after a race between a DueSoon's pre-delinquency case and an
   * Overdue's case, which can leave two: then the one opened first, named by the sort (without it the answer was
   * whichever the database read first — insertion order on a scan, status order on the {accountId, status} index).
   */
  async findActiveByAccount(accountId: string) {
    const d = await this.coll.findOne(
      { accountId, status: { $in: [...ACTIVE_STATUSES] } },
      { ...READ, projection: { pendingEvents: 0 }, sort: { openedAt: 1, _id: 1 } },
    );
    return d ? fromDoc(d) : null;
  }

  async findCuredSince(accountId: string, since: Date) {
    const d = await this.coll.findOne(
      { accountId, status: "CLOSED_CURED", closedAt: { $gte: since } },
      { ...READ, projection: { pendingEvents: 0 }, sort: { closedAt: -1 } },
    );
    return d ? fromDoc(d) : null;
  }

  async insert(ch: CaseChange) {
    try {
      await this.coll.insertOne({
        _id: ch.case.caseId,
        ...stateFields(ch.case),
        audit: ch.case.audit,
        version: 1,
        ...outboxFields(ch.events.map(encodeCaseEvent)),
      } as Document);
      return "inserted" as const;
    } catch (e) {
      if (isDuplicateKey(e)) return "duplicate" as const;
      throw e;
    }
  }

  async save(ch: CaseChange, expectedVersion: number) {
    const push: Document = {};
    if (ch.audit.length > 0) push.audit = { $each: ch.audit };
    const update: Document = { $set: { ...stateFields(ch.case), version: expectedVersion + 1 } };
    if (Object.keys(push).length > 0) update.$push = push;
    pushEvents(update, ch.events.map(encodeCaseEvent));
    const r = await this.coll.updateOne(byId(ch.case.caseId, { version: expectedVersion }), update);
    return r.modifiedCount === 1 ? ("saved" as const) : ("conflict" as const);
  }

  async list(f: CaseFilter, pageSize: number, pageToken: string): Promise<CasePage> {
    const q: Document = {};
    if (f.agentId) q.agentId = f.agentId;
    if (f.statuses?.length) q.status = { $in: f.statuses };
    if (f.bucket) q.bucket = f.bucket;
    if (f.queue) q.queue = f.queue;
    if (f.accountId) q.accountId = f.accountId;
    const after = decodeToken(pageToken);
    if (after)
      q.$or = [{ priority: { $lt: after.priority } }, { priority: after.priority, _id: { $gt: after.id } }];
    const docs = await this.coll
      .find(q, { ...READ, projection: { pendingEvents: 0, audit: 0 } })
      .sort({ priority: -1, _id: 1 })
      .limit(pageSize + 1)
      .toArray();
    const cases = docs.slice(0, pageSize).map((d) => fromDoc({ ...d, audit: [] }));
    const last = cases.at(-1);
    return { cases, next: docs.length > pageSize && last ? encodeToken(last.priority, last.caseId) : "" };
  }

  async withPromisesDueBefore(asOf: string) {
    const docs = await this.coll
      .find(
        { status: { $in: [...ACTIVE_STATUSES] }, nextPromiseDate: { $lt: asOf } },
        { projection: { _id: 1 } },
      )
      .toArray();
    return docs.map((d) => String(d._id));
  }

  async activeCountsByAgent() {
    const rows = await this.coll
      .aggregate([
        { $match: { agentId: { $ne: "" }, status: { $in: [...ACTIVE_STATUSES] } } },
        { $group: { _id: "$agentId", n: { $sum: 1 } } },
      ])
      .toArray();
    return new Map(rows.map((r) => [String(r._id), Number(r.n)]));
  }

  async attemptsOfCustomer(customerId: string, exceptCaseId: string) {
    const docs = await this.coll
      .find({ customerId, _id: { $ne: exceptCaseId } } as unknown as Filter<Document>, { projection: { attempts: 1 } })
      .toArray();
    return docs.flatMap((d) => (d.attempts ?? []) as ContactAttempt[]);
  }

  async forStats() {
    const docs = await this.coll.find({}, { ...READ, projection: { pendingEvents: 0, audit: 0 } }).toArray();
    return docs.map((d) => fromDoc({ ...d, audit: [] }));
  }
}

function encodeToken(priority: number, id: string): string {
  return Buffer.from(JSON.stringify([priority, id])).toString("base64url");
}

function decodeToken(t: string): { priority: number; id: string } | null {
  if (!t) return null;
  try {
    const [priority, id] = JSON.parse(Buffer.from(t, "base64url").toString()) as [number, string];
    if (typeof priority === "number" && typeof id === "string") return { priority, id };
  } catch {
    /* fall through */
  }
  return null;
}

/** True when a page token is well formed (empty is fine). */
export function isValidPageToken(t: string): boolean {
  return t === "" || decodeToken(t) !== null;
}
