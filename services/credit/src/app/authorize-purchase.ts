import { randomUUID } from "node:crypto";
import { deterministicId, failedPrecondition, notFound } from "@whiteslip/core";
import { CONFLICT, retryOnConflict } from "@whiteslip/store";
import { type AuthorizationRequest, type CreditLine, availableFen, declineReason, featuresNeeded, validateAuthorizationRequest } from "../domain/credit-line";
import type { CreditDeps } from "./deps";
import type { AuthorizationRecord, IntentItem, Reservation } from "./ports";

const DAY_MS = 86_400_000;

/** The authorization id for (line, idempotency key): the same key always names the same authorization. */
export function authorizationIdFor(creditLineId: string, idempotencyKey: string): string {
  return `au_${deterministicId("authorization", creditLineId, idempotencyKey).replaceAll("-", "")}`;
}

/** How AuthorizePurchase groups its commits. */
export interface GroupCommitOptions {
  /** Most requests in one group commit (default 128). */
  readonly maxBatch?: number;
  /** Group commits in flight at once per process (default 1: the next batch gathers while one commits). */
  readonly inFlight?: number;
  /**
   * Test hook of the crash test only: awaited after the reservations of a batch
   * and before its authorization records (a test makes it never return and kills
   * the process there).
   */
  readonly afterReserve?: () => Promise<void>;
}

type Deps = Pick<CreditDeps, "clock" | "lines" | "authorizations" | "intents" | "policy" | "groupCommit">;

/**
 * Authorizes a checkout purchase through the process's group commit: requests
 * arriving while a batch commits wait for the next one, and each batch costs four
 * round trips whatever its size — the intent (what it is about to reserve), one
 * bulk of conditional reservations, one read of its lines, one insert of its
 * authorization records.
 *
 * Correctness rests, as before, only on the single-document conditional update
 * of each reservation (ACTIVE, not restricted, available ≥ amount, no hold with
 * this id yet): any number of replicas may commit batches on the same lines.
 * The read-back decides each request: its hold is on the line → approved (the
 * record is inserted; if one was there — the key was answered before — that
 * first answer is returned, and a hold re-reserved for a closed authorization is
 * removed again); no hold → the line's reason to decline is recorded, or, when
 * the line has none (it changed between the two: a payment freed credit), the
 * request goes to a later batch through the store's retryOnConflict with jittered
 * backoff (ABORTED CONCURRENT_MODIFICATION when it keeps happening).
 *
 * No leaked hold: the intent is written before the reservations; the sweep
 * (expire-holds.ts) records and releases a reservation whose record never came
 * and removes a hold left on a closed authorization.
 */
export function authorizePurchase(d: Deps, req: AuthorizationRequest): Promise<AuthorizationRecord> {
  validateAuthorizationRequest(req, d.policy);
  const committer = groupCommitFor(d);
  const id = authorizationIdFor(req.creditLineId, req.idempotencyKey);
  return retryOnConflict<AuthorizationRecord>(() => committer.submit(id, req), { what: `credit line ${req.creditLineId}` });
}

/** One request waiting in or committed by a batch. */
interface Pending {
  readonly id: string;
  readonly req: AuthorizationRequest;
  readonly resolve: (r: AuthorizationRecord | typeof CONFLICT) => void;
  readonly reject: (e: unknown) => void;
}

const committers = new WeakMap<object, GroupCommit>();

/** One group commit per line repository (one database connection of a process). */
function groupCommitFor(d: Deps): GroupCommit {
  let c = committers.get(d.lines);
  if (!c) {
    c = new GroupCommit(d);
    committers.set(d.lines, c);
  }
  return c;
}

/**
 * The queue of a process: no timer, no waiting for a batch to fill — a request
 * arriving when nothing commits goes at once (alone); while a batch commits the
 * next gathers. A request whose authorization id is already in a batch in flight
 * (the same key twice at once) waits for the next.
 */
class GroupCommit {
  private queue: Pending[] = [];
  private inFlight = 0;
  private readonly inFlightIds = new Set<string>();
  private readonly maxBatch: number;
  private readonly maxInFlight: number;

  constructor(private readonly d: Deps) {
    this.maxBatch = d.groupCommit?.maxBatch ?? 128;
    this.maxInFlight = d.groupCommit?.inFlight ?? 1;
  }

  submit(id: string, req: AuthorizationRequest): Promise<AuthorizationRecord | typeof CONFLICT> {
    return new Promise((resolve, reject) => {
      this.queue.push({ id, req, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch: Pending[] = [];
      const rest: Pending[] = [];
      const ids = new Set<string>();
      for (const p of this.queue) {
        if (batch.length < this.maxBatch && !ids.has(p.id) && !this.inFlightIds.has(p.id)) {
          batch.push(p);
          ids.add(p.id);
        } else rest.push(p);
      }
      if (batch.length === 0) return;
      this.queue = rest;
      this.inFlight++;
      for (const id of ids) this.inFlightIds.add(id);
      void this.commit(batch)
        .catch((e) => {
          for (const p of batch) p.reject(e);
        })
        .finally(() => {
          this.inFlight--;
          for (const id of ids) this.inFlightIds.delete(id);
          this.pump();
        });
    }
  }

  private async commit(batch: readonly Pending[]): Promise<void> {
    const d = this.d;
    const now = d.clock.now();
    const expiresAt = new Date(now.getTime() + d.policy.holdTtlDays * DAY_MS);
    const items: IntentItem[] = batch.map(({ id, req }) => ({
      id,
      creditLineId: req.creditLineId,
      idempotencyKey: req.idempotencyKey,
      amountFen: req.amountFen,
      merchantScenario: req.merchantScenario,
      merchantId: req.merchantId,
      orderId: req.orderId,
      installmentMonths: req.installmentMonths,
      createdAt: now,
    }));
    const reserving = batch.filter((p) => d.policy.allowedScenarios.includes(p.req.merchantScenario));
    if (reserving.length > 0) {
      await d.intents.insert({ id: `ri_${randomUUID().replaceAll("-", "")}`, at: now, items: items.filter((i) => d.policy.allowedScenarios.includes(i.merchantScenario)) });
      const reservations: Reservation[] = reserving.map((p) => ({
        lineId: p.req.creditLineId,
        authorizationId: p.id,
        hold: { amountFen: p.req.amountFen },
        blockedBy: featuresNeeded(p.req.installmentMonths),
      }));
      await d.lines.reserveMany(reservations);
      if (d.groupCommit?.afterReserve) await d.groupCommit.afterReserve();
    }
    const lines = new Map((await d.lines.getMany([...new Set(batch.map((p) => p.req.creditLineId))])).map((l) => [l.id, l]));

    // decide each request from the line as read back
    const records: AuthorizationRecord[] = [];
    const recordOf: Pending[] = [];
    for (const [k, p] of batch.entries()) {
      const line = lines.get(p.req.creditLineId);
      if (!line) {
        p.reject(notFound("credit line", p.req.creditLineId));
        continue;
      }
      const base = items[k]!;
      const held = line.holds[p.id];
      if (held) {
        if (held.amountFen !== p.req.amountFen) {
          p.reject(keyReused(p.id));
          continue;
        }
        records.push({ ...base, decision: "APPROVED", declineReason: "", availableFen: availableFen(line), expiresAt, status: "OPEN" });
      } else {
        const reason = declineReason(line, p.req, d.policy);
        if (!reason) {
          p.resolve(CONFLICT); // the line changed between the reservation and the read: a later batch
          continue;
        }
        records.push({ ...base, decision: "DECLINED", declineReason: reason, availableFen: availableFen(line), expiresAt: null, status: "DECLINED" });
      }
      recordOf.push(p);
    }
    if (records.length === 0) return;
    const stored = await d.authorizations.insertManyIfAbsent(records);
    await Promise.all(
      recordOf.map(async (p, k) => {
        const { stored: first, inserted } = stored[k]!;
        if (inserted) return p.resolve(first);
        // this key was answered before: that answer stands. A hold on the line for an authorization that is not
        // open any more was re-reserved by this batch (or a concurrent retry): remove it again.
        const line = lines.get(p.req.creditLineId) as CreditLine;
        if (line.holds[p.id] && first.status !== "OPEN") await d.lines.removeHold(p.req.creditLineId, p.id, line.holds[p.id]!.amountFen);
        try {
          p.resolve(sameAnswer(first, p.req));
        } catch (e) {
          p.reject(e);
        }
      }),
    );
  }
}

function keyReused(authorizationId: string) {
  return failedPrecondition("IDEMPOTENCY_KEY_REUSED", "idempotency_key was used for a different purchase", { authorization_id: authorizationId });
}

function sameAnswer(previous: AuthorizationRecord, req: AuthorizationRequest): AuthorizationRecord {
  if (previous.amountFen !== req.amountFen || previous.orderId !== req.orderId) throw keyReused(previous.id);
  return previous;
}
