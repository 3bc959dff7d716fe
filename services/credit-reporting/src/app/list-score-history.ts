/** ListScoreHistory: an account's score changes, newest first, paged. */
import { notFound, Violations } from "@whiteslip/core";
import type { ScoreChange } from "../domain/account";
import type { Deps } from "./ports";

/** One page of history. */
export interface ScoreHistoryPage {
  /** Changes, newest first. */
  changes: ScoreChange[];
  /** Token of the next page, empty at the end. */
  nextPageToken: string;
}

const DEFAULT_PAGE = 50;
const MAX_PAGE = 500;

/** Lists the history of `accountId`; the page token is the offset from the newest change. */
export async function listScoreHistory(
  deps: Pick<Deps, "accounts">,
  req: { accountId: string; pageSize: number; pageToken: string },
): Promise<ScoreHistoryPage> {
  const offset = req.pageToken === "" ? 0 : Number(req.pageToken);
  new Violations()
    .check(req.accountId.trim() === "", "account_id", "must not be empty")
    .check(req.pageSize < 0 || req.pageSize > MAX_PAGE, "page_size", `must be between 0 and ${MAX_PAGE}`)
    .check(!Number.isSafeInteger(offset) || offset < 0, "page_token", "is not a token this service issued")
    .throwIfAny();
  const cur = await deps.accounts.get(req.accountId);
  if (!cur) throw notFound("account", req.accountId);
  const newestFirst = [...cur.state.history].reverse();
  const size = req.pageSize === 0 ? DEFAULT_PAGE : req.pageSize;
  const changes = newestFirst.slice(offset, offset + size);
  return { changes, nextPageToken: offset + size < newestFirst.length ? String(offset + size) : "" };
}
