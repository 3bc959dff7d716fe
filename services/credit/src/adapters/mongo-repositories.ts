/**
 * MongoDB (FerretDB-compatible) repositories of the credit service. Money is
 * stored as BSON int64 (the driver writes a `bigint` as Long); reads convert back
 * with `fen()`. Every index is declared next to the queries it serves.
 */
import type { Fen, LocalDate } from "@whiteslip/core";
import { type IndexDecl, ensureIndexes, isDuplicateKey, outboxFields, pushEvents } from "@whiteslip/store";
import { type Collection, type Db, type Document, Long, MongoBulkWriteError } from "mongodb";
import type {
  ApplicationRecord,
  ApplicationRepository,
  AuthorizationRecord,
  AuthorizationRepository,
  CreditLineRepository,
  CustomerRecord,
  CustomerRepository,
  IntentItem,
  LineReservation,
  Reservation,
  ReservationIntent,
  ReservationIntentRepository,
  SaveResult,
} from "../app/ports";
import { type CreditLine, type Hold, type LineUpdate, rawAvailableFen } from "../domain/credit-line";
import type { Feature } from "../domain/policy";
import { encodeCreditEvent } from "./event-encoding";

/** How many consumed event ids a line remembers for deduplication (redeliveries come soon after the first). */
export const APPLIED_EVENTS_KEPT = 1000;

/** Converts a stored int64 (Long, number or bigint) to fen. */
export function fen(v: unknown): Fen {
  if (typeof v === "bigint") return v;
  if (typeof v === "number") return BigInt(v);
  if (v instanceof Long) return v.toBigInt();
  if (v == null) return 0n;
  return BigInt(String(v));
}

/** The collections of the service's database. */
export interface CreditCollections {
  readonly customers: Collection<Document>;
  readonly applications: Collection<Document>;
  readonly lines: Collection<Document>;
  readonly authorizations: Collection<Document>;
  readonly intents: Collection<Document>;
}

/** Opens the collections and ensures their indexes. */
export async function creditCollections(db: Db): Promise<CreditCollections> {
  const c = {
    customers: db.collection("customers"),
    applications: db.collection("applications"),
    lines: db.collection("credit_lines"),
    authorizations: db.collection("authorizations"),
    intents: db.collection("reservation_intents"),
  };
  const customerIdx: IndexDecl[] = [
    { key: { nationalIdIndex: 1 }, serves: "RegisterCustomer dedupe: findByNationalIdIndex ($in the index under each key)", options: { unique: true } },
  ];
  const lineIdx: IndexDecl[] = [
    { key: { customerId: 1 }, serves: "ApplyForCredit: findByCustomer (one line per customer)", options: { unique: true } },
    { key: { lastRescoredOn: 1 }, serves: "run-rescoring: listDueForRescoring" },
  ];
  const authIdx: IndexDecl[] = [{ key: { status: 1, expiresAt: 1 }, serves: "expire-holds: listExpired (OPEN, expiresAt ≤ now)" }];
  const appIdx: IndexDecl[] = [{ key: { customerId: 1 }, serves: "audit: applications of a customer" }];
  await ensureIndexes(c.customers, customerIdx);
  await ensureIndexes(c.lines, lineIdx);
  await ensureIndexes(c.authorizations, authIdx);
  await ensureIndexes(c.applications, appIdx);
  await ensureIndexes(c.intents, [{ key: { at: 1 }, serves: "expire-holds: sweepReservations (intents older than the grace)" }]);
  return c;
}

/**
 * A hold as stored on the line: `holds.<authorization id>: amount` (int64), the
 * smallest form — the line document grows with every open hold, and FerretDB
 * re-reads whole documents on each conditional update (measured: 50 holds of
 * two fields per line made a reservation 2.5× slower than 50 bare amounts).
 */
function holdToDoc(h: Hold): Long {
  return Long.fromBigInt(h.amountFen);
}

function lineFields(l: CreditLine): Document {
  return {
    customerId: l.customerId,
    applicationId: l.applicationId,
    productCode: l.productCode,
    statementDay: l.statementDay,
    openedAt: l.openedAt,
    modelVersion: l.modelVersion,
    monthlyIncomeFen: l.monthlyIncomeFen,
    applicationScore: l.applicationScore,
    score: l.score,
    tier: l.tier,
    limitFen: l.limitFen,
    postedBalanceFen: l.postedBalanceFen,
    openHoldsFen: l.openHoldsFen,
    // denormalised for the atomic reservation filter `availableFen ≥ amount`
    availableFen: rawAvailableFen(l),
    holds: Object.fromEntries(Object.entries(l.holds).map(([k, h]) => [k, holdToDoc(h)])),
    status: l.status,
    frozenBy: l.frozenBy,
    restriction: { ...l.restriction, features: [...l.restriction.features] },
    behaviour: l.behaviour,
    lastRescoredOn: l.lastRescoredOn,
  };
}

function lineFromDoc(d: Document): CreditLine {
  const holds: Record<string, Hold> = {};
  for (const [k, h] of Object.entries((d.holds ?? {}) as Record<string, unknown>)) {
    holds[k] = { amountFen: fen(h) };
  }
  return {
    id: d._id,
    customerId: d.customerId,
    applicationId: d.applicationId,
    productCode: d.productCode,
    statementDay: d.statementDay,
    openedAt: d.openedAt,
    modelVersion: d.modelVersion,
    monthlyIncomeFen: fen(d.monthlyIncomeFen),
    applicationScore: d.applicationScore,
    score: d.score,
    tier: d.tier,
    limitFen: fen(d.limitFen),
    postedBalanceFen: fen(d.postedBalanceFen),
    openHoldsFen: fen(d.openHoldsFen),
    holds,
    status: d.status,
    frozenBy: d.frozenBy ?? null,
    restriction: d.restriction,
    behaviour: d.behaviour,
    lastRescoredOn: d.lastRescoredOn ?? null,
    version: d.version,
  };
}

const LINE_PROJECTION = { pendingEvents: 0, appliedEvents: 0, history: 0 };

/**
 * Credit lines: one document per line holding its holds, outbox, audit history
 * and applied event ids.
 *
 * Every write is a single conditional update (version, event id, or the
 * reservation conditions), atomic per document on MongoDB and on the testkit's
 * FerretDB (which serialises update/findAndModify/delete); correctness rests on
 * that alone, so any number of replicas may write the same line concurrently.
 */
export class MongoCreditLines implements CreditLineRepository {
  constructor(private readonly coll: Collection<Document>) {}

  async get(id: string) {
    const d = await this.coll.findOne({ _id: id as never }, { projection: LINE_PROJECTION });
    return d ? lineFromDoc(d) : null;
  }

  async getMany(ids: readonly string[]) {
    if (ids.length === 0) return [];
    const docs = await this.coll.find({ _id: { $in: [...ids] as never[] } }, { projection: LINE_PROJECTION }).toArray();
    return docs.map(lineFromDoc);
  }

  async findByCustomer(customerId: string) {
    const d = await this.coll.findOne({ customerId }, { projection: LINE_PROJECTION });
    return d ? lineFromDoc(d) : null;
  }

  async insert(u: LineUpdate) {
    try {
      await this.coll.insertOne({
        _id: u.line.id as never,
        ...lineFields(u.line),
        version: u.line.version,
        appliedEvents: [],
        history: [],
        ...outboxFields(u.events.map(encodeCreditEvent)),
      });
      return "inserted" as const;
    } catch (e) {
      if (isDuplicateKey(e)) return "exists" as const;
      throw e;
    }
  }

  async save(u: LineUpdate, eventId: string | null): Promise<SaveResult> {
    const push: Document = {};
    if (u.changes.length > 0) push.history = { $each: u.changes.map((c) => ({ ...c })) };
    if (eventId) push.appliedEvents = { $each: [eventId], $slice: -APPLIED_EVENTS_KEPT };
    const filter: Document = { _id: u.line.id, version: u.line.version };
    if (eventId) filter.appliedEvents = { $ne: eventId };
    const update: Document = { $set: lineFields(u.line), $inc: { version: 1 } };
    if (Object.keys(push).length > 0) update.$push = push;
    pushEvents(update, u.events.map(encodeCreditEvent));
    const r = await this.coll.updateOne(filter, update);
    if (r.matchedCount > 0) return "saved";
    if (eventId && (await this.hasProcessed(u.line.id, eventId))) return "duplicate";
    return "conflict";
  }

  async hasProcessed(lineId: string, eventId: string) {
    return (await this.coll.countDocuments({ _id: lineId as never, appliedEvents: eventId }, { limit: 1 })) > 0;
  }

  async reserveMany(rs: readonly Reservation[]) {
    if (rs.length === 0) return;
    // One conditional atomic update per reservation, all in one round trip (the group commit): every condition of
    // the approval and the reservation itself commit together, so racing requests cannot overspend; the hold id in
    // the filter makes a retry of the same authorization a no-op. Unordered: one failing does not stop the others.
    await this.coll.bulkWrite(
      rs.map((r) => ({
        updateOne: {
          filter: {
            _id: r.lineId as never,
            status: "ACTIVE",
            "restriction.features": { $nin: [...r.blockedBy] },
            availableFen: { $gte: r.hold.amountFen },
            [`holds.${r.authorizationId}`]: { $exists: false },
          },
          update: {
            $set: { [`holds.${r.authorizationId}`]: holdToDoc(r.hold) },
            $inc: { availableFen: -r.hold.amountFen, openHoldsFen: r.hold.amountFen, version: 1 },
          },
        },
      })),
      { ordered: false },
    );
  }

  async reserveAtVersion(rs: readonly LineReservation[]) {
    if (rs.length === 0) return 0;
    // One update per line, conditional on its version only: the caller decided every hold on the line as it was at
    // that version, so the filter needs none of the reservation's conditions (they held at that version, and the
    // update applies only to that version). No read-back: what matched is the state the caller already holds.
    const r = await this.coll.bulkWrite(
      rs.map((l) => {
        let sum = 0n;
        const set: Document = {};
        for (const h of l.holds) {
          set[`holds.${h.authorizationId}`] = holdToDoc(h.hold);
          sum += h.hold.amountFen;
        }
        return { updateOne: { filter: { _id: l.lineId as never, version: l.version }, update: { $set: set, $inc: { availableFen: -sum, openHoldsFen: sum, version: 1 } } } };
      }),
      { ordered: false },
    );
    return r.matchedCount;
  }

  async removeHold(lineId: string, authorizationId: string, amountFen: Fen) {
    const r = await this.coll.updateOne(
      { _id: lineId as never, [`holds.${authorizationId}`]: { $exists: true } },
      { $unset: { [`holds.${authorizationId}`]: "" }, $inc: { availableFen: amountFen, openHoldsFen: -amountFen, version: 1 } },
    );
    return r.matchedCount > 0 ? this.available(lineId) : null;
  }

  /** The stored available credit now (at or after the update just made). */
  private async available(lineId: string): Promise<Fen | null> {
    const d = await this.coll.findOne({ _id: lineId as never }, { projection: { availableFen: 1 } });
    return d ? fen(d.availableFen) : null;
  }

  async listDueForRescoring(before: LocalDate, afterId: string | null, limit: number) {
    const filter: Document = { status: { $ne: "CLOSED" }, $or: [{ lastRescoredOn: null }, { lastRescoredOn: { $lt: before } }] };
    if (afterId) filter._id = { $gt: afterId };
    const docs = await this.coll.find(filter, { projection: LINE_PROJECTION }).sort({ _id: 1 }).limit(limit).toArray();
    return docs.map(lineFromDoc);
  }

  /** The audited change history of a line (oldest first). */
  async history(lineId: string): Promise<Document[]> {
    const d = await this.coll.findOne({ _id: lineId as never }, { projection: { history: 1 } });
    return (d?.history as Document[]) ?? [];
  }
}

function authFromDoc(d: Document): AuthorizationRecord {
  return {
    id: d._id,
    creditLineId: d.creditLineId,
    idempotencyKey: d.idempotencyKey,
    amountFen: fen(d.amountFen),
    merchantScenario: d.merchantScenario,
    merchantId: d.merchantId,
    orderId: d.orderId,
    installmentMonths: d.installmentMonths,
    decision: d.decision,
    declineReason: d.declineReason,
    availableFen: fen(d.availableFen),
    expiresAt: d.expiresAt ?? null,
    createdAt: d.createdAt,
    status: d.status,
  };
}

/** Authorizations (approved and declined), keyed by the id derived from (line, idempotency key). */
export class MongoAuthorizations implements AuthorizationRepository {
  constructor(private readonly coll: Collection<Document>) {}

  async get(id: string) {
    const d = await this.coll.findOne({ _id: id as never });
    return d ? authFromDoc(d) : null;
  }

  async insertIfAbsent(a: AuthorizationRecord) {
    const { id, ...rest } = a;
    try {
      await this.coll.insertOne({ _id: id as never, ...rest });
      return { stored: a, inserted: true };
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
      const existing = await this.get(id);
      if (!existing) throw e;
      return { stored: existing, inserted: false };
    }
  }

  async getMany(ids: readonly string[]) {
    if (ids.length === 0) return [];
    return (await this.coll.find({ _id: { $in: [...ids] as never[] } }).toArray()).map(authFromDoc);
  }

  async insertManyIfAbsent(as: readonly AuthorizationRecord[]) {
    if (as.length === 0) return [];
    const duplicates = new Set<number>();
    try {
      await this.coll.insertMany(
        as.map(({ id, ...rest }) => ({ _id: id as never, ...rest })),
        { ordered: false },
      );
    } catch (e) {
      if (!(e instanceof MongoBulkWriteError)) throw e;
      const errors = Array.isArray(e.writeErrors) ? e.writeErrors : [e.writeErrors];
      for (const w of errors) {
        if (w.code !== 11000) throw e;
        duplicates.add(w.index);
      }
    }
    if (duplicates.size === 0) return as.map((a) => ({ stored: a, inserted: true }));
    const existing = new Map((await this.getMany(as.filter((_, k) => duplicates.has(k)).map((a) => a.id))).map((a) => [a.id, a]));
    return as.map((a, k) => {
      if (!duplicates.has(k)) return { stored: a, inserted: true };
      const stored = existing.get(a.id);
      if (!stored) throw new Error(`authorization ${a.id}: duplicate key but no record`);
      return { stored, inserted: false };
    });
  }

  async closeOpen(id: string, to: AuthorizationRecord["status"], at: Date) {
    const r = await this.coll.updateOne({ _id: id as never, status: "OPEN" }, { $set: { status: to, closedAt: at } });
    return r.modifiedCount > 0;
  }

  async listExpired(now: Date, limit: number) {
    const docs = await this.coll.find({ status: "OPEN", expiresAt: { $lte: now } }).sort({ expiresAt: 1 }).limit(limit).toArray();
    return docs.map(authFromDoc);
  }
}

/** Reservation intents of the group commits, one document per batch, until the sweep has checked them. */
export class MongoReservationIntents implements ReservationIntentRepository {
  constructor(private readonly coll: Collection<Document>) {}

  async insert(i: ReservationIntent) {
    await this.coll.insertOne({ _id: i.id as never, at: i.at, items: i.items.map((x) => ({ ...x })) });
  }

  async listOlderThan(before: Date, limit: number) {
    const docs = await this.coll.find({ at: { $lte: before } }).sort({ at: 1 }).limit(limit).toArray();
    return docs.map((d) => ({
      id: String(d._id),
      at: d.at as Date,
      items: (d.items as Document[]).map((x): IntentItem => ({
        id: x.id,
        creditLineId: x.creditLineId,
        idempotencyKey: x.idempotencyKey,
        amountFen: fen(x.amountFen),
        merchantScenario: x.merchantScenario,
        merchantId: x.merchantId,
        orderId: x.orderId,
        installmentMonths: x.installmentMonths,
        createdAt: x.createdAt,
      })),
    }));
  }

  async remove(ids: readonly string[]) {
    if (ids.length > 0) await this.coll.deleteMany({ _id: { $in: [...ids] as never[] } });
  }
}

/** Sealed fields of a customer document (re-encrypted after a key rotation) and its blind index. */
export const CUSTOMER_SEALED = {
  fields: ["nameEnc", "nationalIdEnc", "phoneEnc", "emailEnc", "addressEnc"],
  indexes: [{ field: "nationalIdIndex", of: "nationalIdEnc" }],
} as const;

/** Customers: personal data as ciphertext; the blind index is unique (one customer per national id). */
export class MongoCustomers implements CustomerRepository {
  constructor(private readonly coll: Collection<Document>) {}

  async insert(c: CustomerRecord) {
    const { id, ...rest } = c;
    try {
      await this.coll.insertOne({ _id: id as never, ...rest });
      return "inserted" as const;
    } catch (e) {
      if (isDuplicateKey(e)) return "duplicate" as const;
      throw e;
    }
  }

  async findByNationalIdIndex(indexes: readonly string[]) {
    const d = await this.coll.findOne({ nationalIdIndex: { $in: [...indexes] } });
    return d ? customerFromDoc(d) : null;
  }

  async get(id: string) {
    const d = await this.coll.findOne({ _id: id as never });
    return d ? customerFromDoc(d) : null;
  }

  async getMany(ids: readonly string[]) {
    if (ids.length === 0) return [];
    const docs = await this.coll.find({ _id: { $in: [...ids] as never[] } }).toArray();
    return docs.map(customerFromDoc);
  }
}

function customerFromDoc(d: Document): CustomerRecord {
  const { _id, ...rest } = d;
  return { id: _id, ...(rest as Omit<CustomerRecord, "id">) };
}

/** Applications and their decisions (audit of every decision). */
export class MongoApplications implements ApplicationRepository {
  constructor(private readonly coll: Collection<Document>) {}

  async get(id: string) {
    const d = await this.coll.findOne({ _id: id as never });
    return d ? appFromDoc(d) : null;
  }

  async insertIfAbsent(a: ApplicationRecord) {
    const { id, ...rest } = a;
    try {
      await this.coll.insertOne({ _id: id as never, ...rest, inputs: { ...a.inputs }, reasons: a.reasons.map((r) => ({ ...r })), contributions: a.contributions.map((c) => ({ ...c })) });
      return a;
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
      return (await this.get(id)) ?? a;
    }
  }
}

function appFromDoc(d: Document): ApplicationRecord {
  const { _id, ...rest } = d;
  return {
    ...(rest as Omit<ApplicationRecord, "id">),
    id: _id,
    inputs: { ...d.inputs, monthlyIncomeFen: fen(d.inputs.monthlyIncomeFen), spendLast12mFen: fen(d.inputs.spendLast12mFen) },
    limitFen: fen(d.limitFen),
  };
}
