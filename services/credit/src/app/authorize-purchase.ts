import { randomUUID } from "node:crypto";
import { deterministicId, failedPrecondition, notFound } from "@whiteslip/core";
import { CONFLICT, retryOnConflict } from "@whiteslip/store";
import { type AuthorizationRequest, type CreditLine, type DeclineReason, availableFen, declineReason, featuresNeeded, placeHold, validateAuthorizationRequest } from "../domain/credit-line";
import type { CreditPolicy } from "../domain/policy";
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
  /** Lines whose latest state a process keeps to decide on without reading them (default 10,000). */
  readonly linesKnown?: number;
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
 * arriving while a batch commits wait for the next one. A batch costs three round
 * trips whatever its size when the process knows its lines (it remembers the
 * state of the lines it decided on): the intent (what it may reserve), one bulk
 * of one update per line conditional on the version the decisions were made on,
 * one insert of its authorization records. A line it has not seen is read first.
 *
 * Correctness rests only on single-document conditional updates: the versioned
 * update applies to exactly the state the line's requests were decided on (so the
 * decision and the available credit answered are exact), or not at all. When a
 * line changed since (another replica, a capture, a payment, any mutation bumps
 * the version), the batch's lines take the conditional path of before: one
 * update per request conditional on the reservation's conditions (ACTIVE, not
 * restricted, available ≥ amount, no hold with this id yet — contention-free
 * between replicas), then the lines read back: its hold is on the line →
 * approved; no hold → the line's reason to decline, or, when the line has none
 * (a payment freed credit between the two), a later batch through the store's
 * retryOnConflict with jittered backoff (ABORTED CONCURRENT_MODIFICATION when it
 * keeps happening). A decline decided on a remembered state is never answered: it
 * takes the conditional path (the line is read again).
 *
 * Records: a request whose key was answered before gets that first answer; a hold
 * re-reserved for a closed authorization is removed again.
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
  /** The latest state of the lines this process decided on or read, most recently used last (a hint: see commit). */
  private readonly known = new Map<string, CreditLine>();
  private readonly maxKnown: number;

  constructor(private readonly d: Deps) {
    this.maxBatch = d.groupCommit?.maxBatch ?? 128;
    this.maxInFlight = d.groupCommit?.inFlight ?? 1;
    this.maxKnown = d.groupCommit?.linesKnown ?? 10_000;
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

  /** Remembers the latest state of a line this process saw or wrote (most recently used last). */
  private remember(line: CreditLine): void {
    this.known.delete(line.id);
    this.known.set(line.id, line);
    if (this.known.size > this.maxKnown) this.known.delete(this.known.keys().next().value as string);
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
    const itemOf = new Map(batch.map((p, k) => [p, items[k]!]));
    const allowed = (p: Pending) => d.policy.allowedScenarios.includes(p.req.merchantScenario);
    const reserving = batch.filter(allowed);
    // what this batch may reserve, before any reservation (the sweep's way to a hold whose record never came)
    if (reserving.length > 0) await d.intents.insert({ id: `ri_${randomUUID().replaceAll("-", "")}`, at: now, items: reserving.map((p) => itemOf.get(p)!) });

    const byLine = new Map<string, Pending[]>();
    for (const p of batch) byLine.set(p.req.creditLineId, [...(byLine.get(p.req.creditLineId) ?? []), p]);
    // 1. the lines this process has not seen yet are read
    const fresh = new Set<string>();
    const unknown = [...byLine.keys()].filter((id) => !this.known.has(id));
    if (unknown.length > 0) {
      for (const l of await d.lines.getMany(unknown)) {
        this.remember(l);
        fresh.add(l.id);
      }
    }
    // 2. each line's requests decided in order on the state known, and its approvals placed conditional on that
    //    state's version (exact decisions and available credit, no read-back)
    const plans = new Map<string, Plan>();
    for (const [lineId, ps] of byLine) {
      const base = this.known.get(lineId);
      if (!base) {
        for (const p of ps) p.reject(notFound("credit line", lineId));
        continue;
      }
      plans.set(lineId, plan(base, ps, d.policy));
    }
    const conditional = new Set<string>(); // lines that take the conditional reservation and the read-back
    const versioned = [...plans.values()].filter((pl) => pl.approvals.length > 0);
    // a line decided without an approval on a remembered state must be looked at again (it may have more credit now)
    for (const pl of plans.values()) if (pl.approvals.length === 0 && !fresh.has(pl.base.id)) conditional.add(pl.base.id);
    if (versioned.length > 0) {
      const matched = await d.lines.reserveAtVersion(
        versioned.map((pl) => ({ lineId: pl.base.id, version: pl.base.version, holds: pl.approvals.map((p) => ({ authorizationId: p.id, hold: { amountFen: p.req.amountFen } })) })),
      );
      if (matched === versioned.length) for (const pl of versioned) this.remember({ ...pl.after, version: pl.base.version + 1 });
      // some line changed since (another replica, a capture, a payment): which one is not known — all of them take
      // the conditional path (a hold just placed here makes its conditional reservation a no-op)
      else for (const pl of versioned) conditional.add(pl.base.id);
    }
    // 3. the conditional path: one conditional update per request (ACTIVE, not restricted, available ≥ amount, no
    //    hold under its id yet), whatever else changes the line meanwhile, then the lines read back
    if (conditional.size > 0) {
      const again = [...conditional].flatMap((id) => byLine.get(id)!).filter(allowed);
      await d.lines.reserveMany(
        again.map((p) => ({ lineId: p.req.creditLineId, authorizationId: p.id, hold: { amountFen: p.req.amountFen }, blockedBy: featuresNeeded(p.req.installmentMonths) })),
      );
      const back = new Map((await d.lines.getMany([...conditional])).map((l) => [l.id, l]));
      for (const id of conditional) {
        const line = back.get(id);
        if (!line) {
          this.known.delete(id);
          continue;
        }
        this.remember(line);
        plans.set(id, readBack(line, byLine.get(id)!, d.policy));
      }
    }
    if (reserving.length > 0 && d.groupCommit?.afterReserve) await d.groupCommit.afterReserve();

    // 4. the records: the decision of each request, and the first answer of a key answered before
    const records: AuthorizationRecord[] = [];
    const recordOf: Pending[] = [];
    for (const pl of plans.values()) {
      const available = availableFen(pl.after);
      for (const [p, decision] of pl.decisions) {
        const base = itemOf.get(p)!;
        if (decision === "conflict") p.resolve(CONFLICT); // the line changed between the reservation and the read: a later batch
        else if (decision === "key-reused") p.reject(keyReused(p.id));
        else if (decision === "approved") records.push({ ...base, decision: "APPROVED", declineReason: "", availableFen: available, expiresAt, status: "OPEN" });
        else records.push({ ...base, decision: "DECLINED", declineReason: decision, availableFen: available, expiresAt: null, status: "DECLINED" });
        if (decision !== "conflict" && decision !== "key-reused") recordOf.push(p);
      }
    }
    if (records.length === 0) return;
    const stored = await d.authorizations.insertManyIfAbsent(records);
    await Promise.all(
      recordOf.map(async (p, k) => {
        const { stored: first, inserted } = stored[k]!;
        if (inserted) return p.resolve(first);
        // this key was answered before: that answer stands. A hold on the line for an authorization that is not
        // open any more was re-reserved by this batch (or a concurrent retry): remove it again.
        const line = plans.get(p.req.creditLineId)!.after;
        if (line.holds[p.id] && first.status !== "OPEN") {
          this.known.delete(line.id);
          await d.lines.removeHold(p.req.creditLineId, p.id, line.holds[p.id]!.amountFen);
        }
        try {
          p.resolve(sameAnswer(first, p.req));
        } catch (e) {
          p.reject(e);
        }
      }),
    );
  }
}

/** What a batch decided for one request: approved (its hold is on the line), a decline reason, or neither. */
type Decision = "approved" | DeclineReason | "key-reused" | "conflict";

/** One line's part of a batch: the state decided on, the state after, each request's decision, the approvals to place. */
interface Plan {
  readonly base: CreditLine;
  readonly after: CreditLine;
  readonly decisions: readonly (readonly [Pending, Decision])[];
  readonly approvals: readonly Pending[];
}

/**
 * Decides a line's requests in order on a known state of it: a hold already under the id (a retry) is that
 * approval; otherwise the domain's rules, each approval lowering the credit the next one sees.
 */
function plan(base: CreditLine, ps: readonly Pending[], policy: CreditPolicy): Plan {
  let line = base;
  const decisions: [Pending, Decision][] = [];
  const approvals: Pending[] = [];
  for (const p of ps) {
    const held = line.holds[p.id];
    if (held) {
      decisions.push([p, held.amountFen === p.req.amountFen ? "approved" : "key-reused"]);
      continue;
    }
    const reason = declineReason(line, p.req, policy);
    if (reason) {
      decisions.push([p, reason]);
      continue;
    }
    line = placeHold(line, p.id, { amountFen: p.req.amountFen });
    decisions.push([p, "approved"]);
    approvals.push(p);
  }
  return { base, after: line, decisions, approvals };
}

/** Decides a line's requests on the line read back after their conditional reservations. */
function readBack(line: CreditLine, ps: readonly Pending[], policy: CreditPolicy): Plan {
  const decisions = ps.map((p): [Pending, Decision] => {
    const held = line.holds[p.id];
    if (held) return [p, held.amountFen === p.req.amountFen ? "approved" : "key-reused"];
    return [p, declineReason(line, p.req, policy) ?? "conflict"];
  });
  return { base: line, after: line, decisions, approvals: [] };
}

function keyReused(authorizationId: string) {
  return failedPrecondition("IDEMPOTENCY_KEY_REUSED", "idempotency_key was used for a different purchase", { authorization_id: authorizationId });
}

function sameAnswer(previous: AuthorizationRecord, req: AuthorizationRequest): AuthorizationRecord {
  if (previous.amountFen !== req.amountFen || previous.orderId !== req.orderId) throw keyReused(previous.id);
  return previous;
}
