/**
 * One way to change an aggregate: load it (with its version) → a pure `decide`
 * → one version-checked single-document write holding the new state, its
 * events (the outbox, `pendingEvents`) and any idempotency marks → on a
 * version conflict, load and decide again after a capped, jittered exponential
 * backoff. When the attempts are exhausted the caller gets ABORTED with the one
 * reason the platform uses for this, `CONCURRENT_MODIFICATION`.
 *
 * Modelled on event-driven-io/emmett's command handler (handleCommand with
 * retry on an expected-version conflict), for documents instead of streams.
 *
 * What is NOT a conflict: a DomainError thrown by `decide` (the caller's
 * mistake or a rule; it propagates at once) and infrastructure trouble thrown
 * by `load` or `write` (`isInfrastructureError`: it propagates too, so the bus
 * retries the message and the gRPC edge answers UNAVAILABLE). Only a write that
 * reports that the version moved (or, for a creation, that the document exists
 * now) is retried here.
 */
import type { OutgoingEvent } from "@whiteslip/bus";
import { aborted } from "@whiteslip/core";
import { meter } from "@whiteslip/telemetry";
import type { Collection, Document, Filter, UpdateFilter } from "mongodb";
import { NOT_OUTBOX, outboxFields, pushEvents } from "./outbox";
import { isDuplicateKey } from "./store";

/** The one error reason of an aggregate that kept changing under a command (gRPC ABORTED). */
export const CONCURRENT_MODIFICATION = "CONCURRENT_MODIFICATION";

/** What `decide` answers: a write to make (and the result to return once it applied), or an outcome without a write. */
export type Decision<C, R> = { readonly kind: "write"; readonly write: C; readonly result: R } | Outcome<R>;

/** A result without a write. */
export type Outcome<R> = { readonly kind: "outcome"; readonly result: R };

/** Decides to write `change`; the command returns `result` once the write applied. */
export function write<C, R>(change: C, result: R): Decision<C, R> {
  return { kind: "write", write: change, result };
}

/** Decides that nothing is written (a duplicate, not found, a no-op, a decline): the command returns `result`. */
export function outcome<R>(result: R): Outcome<R> {
  return { kind: "outcome", result };
}

/**
 * Where an aggregate lives. `load` reads its current state (with the version
 * the write will check; absent may be a state too, for a creation); `write`
 * makes one version-checked single-document write and answers true when it
 * applied, false when the version moved or, for a creation, the document
 * exists by now — or an `outcome` when the write's own guard found the change
 * applied already (an idempotency mark kept in the document but not loaded).
 */
export interface AggregateStore<S, C, O = never> {
  /** The current state, with its version. */
  load(): Promise<S>;
  /** Writes `change` if the version it was decided on still holds; false on a conflict. Throws only for real failures. */
  write(change: C): Promise<boolean | Outcome<O>>;
}

/** How conflicts are retried: capped exponential backoff with full jitter. */
export interface RetryPolicy {
  /** Attempts in all, the first included (default 10). */
  readonly maxAttempts: number;
  /** Cap of the first wait, ms (default 10); each later cap doubles. */
  readonly baseDelayMs: number;
  /** Largest wait, ms (default 500). */
  readonly maxDelayMs: number;
  /** Random number in [0, 1) (default Math.random; tests inject one). */
  readonly random?: () => number;
  /** Waits `ms` (default a timer; tests inject one). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Twelve attempts with waits drawn from [0, 10·2^i) ms, capped at 1 s: about
 * 2.6 s of waiting on average, 5.3 s at worst (a caller's 5 s default deadline
 * may pass first: DEADLINE_EXCEEDED, as retryable as ABORTED). With full jitter
 * a burst of N writers on one aggregate spreads out instead of colliding again
 * in lockstep. Sized by measurement (packages/store/test/command.int.test.ts on
 * a 2-core machine at load average ~100): 16 writers from three connections on
 * one document needed at most 7–8 attempts; 24 needed 10–12+, which is where a
 * single document's write rate (one per load+write round trip) runs out — such
 * a hot aggregate gets ABORTED, retryable, never a lost or doubled change.
 */
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 12, baseDelayMs: 10, maxDelayMs: 1_000 };

/** The wait before attempt `attempt + 1` (attempt counts from 0): full jitter under a capped exponential. */
export function backoffMs(attempt: number, policy: Pick<RetryPolicy, "baseDelayMs" | "maxDelayMs">, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.floor(random() * cap);
}

/** Returned by a `retryOnConflict` attempt whose write lost a race: try again on fresh state. */
export const CONFLICT: unique symbol = Symbol("conflict");

/** Options of a command. */
export interface CommandOptions {
  /** What is changed, for the ABORTED message, e.g. `credit line cl-1`. */
  readonly what: string;
  /** Overrides of DEFAULT_RETRY. */
  readonly retry?: Partial<RetryPolicy>;
}

const conflicts = meter("store").createCounter("whiteslip_command_conflicts", {
  description: "Version conflicts met by commands: retried (the write lost a race and was decided again) or exhausted (ABORTED CONCURRENT_MODIFICATION).",
});

/**
 * The retry loop of every command, for a write path that is not a plain
 * load → decide → write (credit's authorization reserves with one conditional
 * update, then reads): runs `attempt` until it returns something other than
 * CONFLICT, waiting a jittered backoff between tries; throws ABORTED
 * CONCURRENT_MODIFICATION when the attempts are exhausted. Anything `attempt`
 * throws propagates at once.
 */
export async function retryOnConflict<R>(attempt: (n: number) => Promise<R | typeof CONFLICT>, opts: CommandOptions): Promise<R> {
  const policy = { ...DEFAULT_RETRY, ...opts.retry };
  const random = policy.random ?? Math.random;
  const sleep = policy.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let n = 0; n < policy.maxAttempts; n++) {
    if (n > 0) await sleep(backoffMs(n - 1, policy, random));
    const r = await attempt(n);
    if (r !== CONFLICT) return r;
    if (n + 1 < policy.maxAttempts) conflicts.add(1, { outcome: "retried" });
  }
  conflicts.add(1, { outcome: "exhausted" });
  throw aborted(CONCURRENT_MODIFICATION, `${opts.what} kept changing (${policy.maxAttempts} attempts); retry`);
}

/**
 * Runs a command on one aggregate: load → decide → write, again on a version
 * conflict (see the module comment). `decide` must be pure: it may run several
 * times, and only the last run's decision is written. Returns the decision's
 * result.
 */
export function handleCommand<S, C, R>(store: AggregateStore<S, C, R>, decide: (state: S) => Decision<C, R>, opts: CommandOptions): Promise<R> {
  return retryOnConflict(async () => {
    const d = decide(await store.load());
    if (d.kind === "outcome") return d.result;
    const w = await store.write(d.write);
    if (w === true) return d.result;
    return w === false ? CONFLICT : w.result;
  }, opts);
}

// ---------------------------------------------------------------------------
// A document aggregate on MongoDB: the state's fields, `version`, the outbox
// (`pendingEvents`) and the idempotency marks (`appliedEvents`, as applyOnce
// keeps them) in one document.

/** A stored document aggregate as `decide` sees it. */
export interface Versioned<T> {
  readonly id: string;
  /** Incremented by every write; the write is conditional on it. */
  readonly version: number;
  readonly state: T;
  /** Ids (event ids, idempotency keys) already applied to this document. */
  readonly marks: readonly string[];
}

/** A write to a document aggregate: the whole new state, the events for the outbox, marks to record. */
export interface DocumentChange<T> {
  readonly state: T;
  readonly events?: readonly OutgoingEvent[];
  readonly marks?: readonly string[];
}

/** The field of the idempotency marks (shared with applyOnce). */
export const APPLIED_MARKS = "appliedEvents";

/**
 * Runs a command on the document `id` of `coll`: `decide` sees the stored
 * aggregate (null when absent) and may return a DocumentChange to write — an
 * insert when absent (a duplicate key means another writer created it first:
 * reload and decide again), else one update conditional on the version read.
 */
export function commandOnDocument<T extends Document, R>(
  coll: Collection<Document>,
  id: string,
  decide: (current: Versioned<T> | null) => Decision<DocumentChange<T>, R>,
  opts: Partial<CommandOptions> = {},
): Promise<R> {
  return handleCommand(documentStore<T>(coll, id), ({ current }) => {
    const d = decide(current);
    return d.kind === "outcome" ? d : write({ expected: current?.version ?? null, change: d.write }, d.result);
  }, { what: opts.what ?? `${coll.collectionName} ${id}`, ...(opts.retry ? { retry: opts.retry } : {}) });
}

function documentStore<T extends Document>(
  coll: Collection<Document>,
  id: string,
): AggregateStore<{ current: Versioned<T> | null }, { expected: number | null; change: DocumentChange<T> }> {
  const byId = { _id: id } as unknown as Filter<Document>;
  return {
    async load() {
      const doc = await coll.findOne(byId, { projection: NOT_OUTBOX });
      if (!doc) return { current: null };
      const { _id, version, [APPLIED_MARKS]: marks, ...state } = doc;
      return { current: { id, version: version as number, state: state as T, marks: (marks as string[] | undefined) ?? [] } };
    },
    async write({ expected, change }) {
      const events = change.events ?? [];
      const marks = change.marks ?? [];
      if (expected === null) {
        try {
          await coll.insertOne({ ...change.state, _id: id, version: 1, ...outboxFields([...events]), [APPLIED_MARKS]: [...marks] } as Document);
          return true;
        } catch (e) {
          if (isDuplicateKey(e)) return false;
          throw e;
        }
      }
      const update: Document = { $set: { ...change.state, version: expected + 1 } };
      pushEvents(update, [...events]);
      if (marks.length > 0) update.$addToSet = { [APPLIED_MARKS]: { $each: [...marks] } };
      const r = await coll.updateOne({ _id: id, version: expected } as unknown as Filter<Document>, update as UpdateFilter<Document>);
      return r.matchedCount === 1;
    },
  };
}
