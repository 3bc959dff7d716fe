/**
 * Applies one fact from another service's event to its account, once: a
 * redelivered event (same id) changes nothing and publishes nothing again.
 * A command on the account (the store's handleCommand): a concurrent write to
 * the same account makes it re-read and re-decide; ABORTED
 * CONCURRENT_MODIFICATION (the bus retries the event) when it keeps changing.
 */
import { handleCommand, outcome, write } from "@whiteslip/store";
import { applyFact } from "../domain/apply-fact";
import type { AccountFact } from "../domain/facts";
import { type AccountWrite, accountStore } from "./account-store";
import type { Deps, OutgoingEvent, StoredAccount } from "./ports";

/** What happened to the fact. */
export type ApplyResult = "applied" | "duplicate" | "ignored";

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

function applyLocked(
  deps: Pick<Deps, "accounts" | "scorePolicy" | "reportingPolicy">,
  accountId: string,
  fact: AccountFact,
): Promise<ApplyResult> {
  // expected null creates the account (false when another writer created it first: decide again)
  return handleCommand<StoredAccount | null, AccountWrite, ApplyResult>(
    accountStore(deps.accounts, accountId, fact.eventId),
    (cur) => {
      if (cur && seen(cur, fact.eventId)) return outcome("duplicate");
      const out = applyFact(cur?.state ?? null, accountId, fact, deps.scorePolicy, deps.reportingPolicy);
      if (!out?.changed) return outcome("ignored");
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
      return write({ state: out.state, expected: cur?.version ?? null, events }, "applied");
    },
    { what: `account ${accountId}` },
  );
}

/** True when the event was applied before: in the recent-ids window, or it caused a score change in the history. */
function seen(cur: StoredAccount, eventId: string): boolean {
  return cur.processedEventIds.includes(eventId) || cur.state.history.some((c) => c.causeEventId === eventId);
}
