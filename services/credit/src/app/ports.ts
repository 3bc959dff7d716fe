/**
 * Ports of the credit use cases: repositories of the aggregates and the PII
 * protector. Adapters implement them over MongoDB (src/adapters); unit tests use
 * the in-memory versions in test/support.
 */
import type { Fen, LocalDate } from "@whiteslip/core";
import type { CreditLine, Hold, LineUpdate } from "../domain/credit-line";
import type { CreditEvent } from "../domain/events";
import type { Feature, MerchantScenario } from "../domain/policy";
import type { ApplicationDecision, ApplicationInputs, Contribution, Reason, Tier } from "../domain/scorecard";

/** A registered customer; personal data only as ciphertext and a blind index. */
export interface CustomerRecord {
  readonly id: string;
  /** HMAC blind index of the normalised national id, `<index key id>.<hmac>` (dedupe, equality lookups). */
  readonly nationalIdIndex: string;
  readonly nameEnc: string;
  readonly nationalIdEnc: string;
  readonly phoneEnc: string;
  readonly emailEnc: string;
  /** Mailing address as one sealed JSON value (`PostalAddress`); absent when none was registered. */
  readonly addressEnc?: string;
  /** Masked forms, safe to return and log. */
  readonly nationalIdMasked: string;
  readonly phoneMasked: string;
  readonly createdAt: Date;
}

/** Stores customers. */
export interface CustomerRepository {
  /** Inserts; "duplicate" when the national id index is already registered. */
  insert(c: CustomerRecord): Promise<"inserted" | "duplicate">;
  /** The customer whose national id index is one of `indexes` (the value under each index key), if any. */
  findByNationalIdIndex(indexes: readonly string[]): Promise<CustomerRecord | null>;
  /** The customer by id, if any. */
  get(id: string): Promise<CustomerRecord | null>;
  /** The customers of these ids that exist (any order). */
  getMany(ids: readonly string[]): Promise<CustomerRecord[]>;
}

/** A scored application and its decision, kept for audit. */
export interface ApplicationRecord {
  readonly id: string;
  readonly customerId: string;
  readonly idempotencyKey: string;
  readonly inputs: ApplicationInputs;
  readonly statementDay: number;
  readonly modelVersion: string;
  readonly score: number;
  readonly pd: number;
  readonly tier: Tier;
  readonly reasons: readonly Reason[];
  readonly contributions: readonly Contribution[];
  readonly decision: ApplicationDecision;
  /** The line opened on approval, null otherwise. */
  readonly creditLineId: string | null;
  readonly limitFen: Fen;
  readonly decidedAt: Date;
}

/** Stores applications. */
export interface ApplicationRepository {
  /** The application by id, if any. */
  get(id: string): Promise<ApplicationRecord | null>;
  /** Inserts unless one with the id exists; returns the stored one. */
  insertIfAbsent(a: ApplicationRecord): Promise<ApplicationRecord>;
}

/** Outcome of an optimistic save. */
export type SaveResult = "saved" | "conflict" | "duplicate";

/** Stores credit lines with their pending events (outbox) and audit history. */
export interface CreditLineRepository {
  /** The line, if any. */
  get(id: string): Promise<CreditLine | null>;
  /** The lines of these ids that exist (any order). */
  getMany(ids: readonly string[]): Promise<CreditLine[]>;
  /** The customer's line, if any. */
  findByCustomer(customerId: string): Promise<CreditLine | null>;
  /** Inserts a new line with its events; "exists" when the id or the customer already has one. */
  insert(u: LineUpdate): Promise<"inserted" | "exists">;
  /**
   * Saves `u.line` if the stored version is still `u.line.version` and, when
   * `processedEventId` is given, that event was not applied before; records the
   * event id, appends events to the outbox and changes to the history.
   */
  save(u: LineUpdate, processedEventId: string | null): Promise<SaveResult>;
  /** True when the event id was already applied to the line. */
  hasProcessed(lineId: string, eventId: string): Promise<boolean>;
  /**
   * Reserves each hold of a group commit in one round trip: per reservation one
   * conditional single-document update (ACTIVE, none of `blockedBy` restricted, at
   * least `hold.amountFen` available, no hold with this id yet), applied one after
   * the other on the same line, so racing reservations (from any number of
   * processes) never exceed the available credit. Says nothing about which
   * matched: the caller reads the lines back (a hold under the id is there or not).
   */
  reserveMany(reservations: readonly Reservation[]): Promise<void>;
  /**
   * Places each line's holds of a group commit in one round trip, each line's in
   * one single-document update conditional on the line still being at `version`
   * (the state the holds were decided on, so the decision and the available
   * credit answered are exact). Returns how many lines matched; a line that
   * changed since is left as it was.
   */
  reserveAtVersion(reservations: readonly LineReservation[]): Promise<number>;
  /** Atomically removes an open hold of `amountFen`; returns the available credit after, or null when it was not open. */
  removeHold(lineId: string, authorizationId: string, amountFen: Fen): Promise<Fen | null>;
  /** Lines not rescored on or after `before`, by id after `afterId`, at most `limit`. */
  listDueForRescoring(before: LocalDate, afterId: string | null, limit: number): Promise<CreditLine[]>;
}

/** One reservation of a group commit: the hold of `authorizationId` on `lineId`. */
export interface Reservation {
  readonly lineId: string;
  readonly authorizationId: string;
  readonly hold: Hold;
  readonly blockedBy: readonly Feature[];
}

/** The holds a group commit places on one line, decided on the line at `version`. */
export interface LineReservation {
  readonly lineId: string;
  readonly version: number;
  readonly holds: readonly { readonly authorizationId: string; readonly hold: Hold }[];
}

/**
 * What a group commit is about to reserve, written before the reservations: the
 * request of each, so that a reservation whose authorization record never came
 * (the process died between the two) can be found, recorded and released.
 */
export interface ReservationIntent {
  readonly id: string;
  readonly at: Date;
  readonly items: readonly IntentItem[];
}

/** One reservation of an intent, with what its authorization record needs. */
export type IntentItem = Pick<
  AuthorizationRecord,
  "id" | "creditLineId" | "idempotencyKey" | "amountFen" | "merchantScenario" | "merchantId" | "orderId" | "installmentMonths" | "createdAt"
>;

/** Stores reservation intents until the sweep has checked them. */
export interface ReservationIntentRepository {
  /** Stores an intent (before its reservations are made). */
  insert(i: ReservationIntent): Promise<void>;
  /** Intents written at or before `before`, oldest first, at most `limit`. */
  listOlderThan(before: Date, limit: number): Promise<ReservationIntent[]>;
  /** Forgets checked intents. */
  remove(ids: readonly string[]): Promise<void>;
}

/** Status of an authorization. */
export type AuthorizationStatus = "OPEN" | "CAPTURED" | "RELEASED" | "EXPIRED" | "DECLINED" | "CLOSED";

/** An authorization (approved or declined), kept for idempotency and audit. */
export interface AuthorizationRecord {
  readonly id: string;
  readonly creditLineId: string;
  readonly idempotencyKey: string;
  readonly amountFen: Fen;
  readonly merchantScenario: MerchantScenario;
  readonly merchantId: string;
  readonly orderId: string;
  readonly installmentMonths: number;
  readonly decision: "APPROVED" | "DECLINED";
  readonly declineReason: string;
  /** Available credit right after the decision. */
  readonly availableFen: Fen;
  readonly expiresAt: Date | null;
  readonly createdAt: Date;
  readonly status: AuthorizationStatus;
}

/** Stores authorizations. */
export interface AuthorizationRepository {
  /** The authorization, if any. */
  get(id: string): Promise<AuthorizationRecord | null>;
  /** Inserts unless one with the id exists; returns the stored one (the first answer wins) and whether it is `a`. */
  insertIfAbsent(a: AuthorizationRecord): Promise<{ readonly stored: AuthorizationRecord; readonly inserted: boolean }>;
  /** insertIfAbsent for many in one round trip; answers in the order of `as`. */
  insertManyIfAbsent(as: readonly AuthorizationRecord[]): Promise<{ readonly stored: AuthorizationRecord; readonly inserted: boolean }[]>;
  /** The authorizations of these ids that exist (any order). */
  getMany(ids: readonly string[]): Promise<AuthorizationRecord[]>;
  /** Moves an OPEN authorization to `to`; false when it was not OPEN. */
  closeOpen(id: string, to: Exclude<AuthorizationStatus, "OPEN" | "DECLINED">, at: Date): Promise<boolean>;
  /** OPEN authorizations that expired at or before `now`, oldest first, at most `limit`. */
  listExpired(now: Date, limit: number): Promise<AuthorizationRecord[]>;
}

/** Encrypts personal data and computes blind indexes (implemented by @whiteslip/pii's PiiCipher). */
export interface PiiProtector {
  /** Ciphertext of `text`. */
  encrypt(text: string): string;
  /** Plain text of a value sealed by `encrypt` (under any key of the ring). */
  decrypt(sealed: string): string;
  /** Keyed hash of `text` under the active index key, to store. */
  blindIndex(text: string): string;
  /** Keyed hashes of `text` under every index key (the active one first), to look up. */
  blindIndexes(text: string): string[];
}

/** Re-export for use cases that publish (events travel in the line's outbox). */
export type { CreditEvent };
