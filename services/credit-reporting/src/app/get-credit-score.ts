/** GetCreditScore: an account's current score, latest change and bureau reporting state. */
import { dateInZone, notFound, Violations } from "@whiteslip/core";
import type { ScoreChange } from "../domain/account";
import { type ReportingState, reportingState } from "../domain/bureau-view";
import type { Deps } from "./ports";

/** The answer of GetCreditScore. */
export interface CreditScoreView {
  /** The account. */
  accountId: string;
  /** The customer. */
  customerId: string;
  /** Score, 350–950. */
  score: number;
  /** Latest change, if any. */
  latest: ScoreChange | null;
  /** Bureau reporting state today. */
  reportingState: ReportingState;
}

/** Returns the score of `accountId`; NOT_FOUND for an account never seen. */
export async function getCreditScore(
  deps: Pick<Deps, "accounts" | "clock" | "timeZone" | "reportingPolicy">,
  accountId: string,
): Promise<CreditScoreView> {
  new Violations().check(accountId.trim() === "", "account_id", "must not be empty").throwIfAny();
  const cur = await deps.accounts.get(accountId);
  if (!cur) throw notFound("account", accountId);
  const s = cur.state;
  return {
    accountId: s.accountId,
    customerId: s.customerId,
    score: s.score.value,
    latest: s.history.at(-1) ?? null,
    reportingState: reportingState(s, dateInZone(deps.clock.now(), deps.timeZone), deps.reportingPolicy),
  };
}
