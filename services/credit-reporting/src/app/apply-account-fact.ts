/**
 * Applies one fact from another service's event to its account, once: a
 * redelivered event (same id) changes nothing and publishes nothing again.
 * Optimistic concurrency: a concurrent write to the same account makes this
 * re-read and re-decide.
 */
import { aborted } from "@whiteslip/core";
import { applyFact } from "../domain/apply-fact";
import type { AccountFact } from "../domain/facts";
import type { Deps, OutgoingEvent, StoredAccount } from "./ports";

/** What happened to the fact. */
export type ApplyResult = "applied" | "duplicate" | "ignored";

const MAX_ATTEMPTS = 8;

/**
 * Applies `fact` to account `accountId`. A NoticeDelivered fact is matched by
 * its notice id (deliveries of other notifications are ignored).
 */
export async function applyAccountFact(
  deps: Pick<Deps, "accounts" | "scorePolicy" | "reportingPolicy" | "locks">,
  accountId: string,
  fact: AccountFact,
): Promise<ApplyResult> {
  let id = accountId;
  if (fact.kind === "noticeDelivered") {
    // Deliveries of other notifications are not about our notices.
    const owner = await deps.accounts.findByNoticeId(fact.noticeId);
    if (!owner) return "ignored";
    id = owner.state.accountId;
  }
  return deps.locks.run(id, () => applyLocked(deps, id, fact));
}

async function applyLocked(
  deps: Pick<Deps, "accounts" | "scorePolicy" | "reportingPolicy">,
  accountId: string,
  fact: AccountFact,
): Promise<ApplyResult> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const cur: StoredAccount | null = await deps.accounts.get(accountId);
    if (cur && seen(cur, fact.eventId)) return "duplicate";
    const out = applyFact(cur?.state ?? null, accountId, fact, deps.scorePolicy, deps.reportingPolicy);
    if (!out?.changed) return "ignored";
    const events: OutgoingEvent[] = [];
    if (out.change) {
      events.push({
        type: "ScoreChanged",
        id: out.change.changeId,
        key: out.state.accountId,
        time: out.change.changedAt,
        accountId: out.state.accountId,
        customerId: out.state.customerId,
        change: out.change,
      });
    }
    if (out.notice) {
      events.push({
        type: "NegativeReportPending",
        id: out.notice.noticeId,
        key: out.state.accountId,
        time: out.notice.at,
        notice: out.notice,
      });
    }
    if (await deps.accounts.save(out.state, cur?.version ?? null, { eventId: fact.eventId, events }))
      return "applied";
  }
  throw aborted(
    "CONCURRENT_UPDATE",
    `account ${accountId} kept changing; event ${fact.eventId} will be retried`,
  );
}

/** True when the event was applied before: in the recent-ids window, or it caused a score change in the history. */
function seen(cur: StoredAccount, eventId: string): boolean {
  return cur.processedEventIds.includes(eventId) || cur.state.history.some((c) => c.causeEventId === eventId);
}
