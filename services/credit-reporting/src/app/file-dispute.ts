/** FileDispute: a consumer disputes the account's reported information; XB is reported while it is open. */
import { dateInZone, notFound, Violations } from "@whiteslip/core";
import { handleCommand, outcome, write } from "@whiteslip/store";
import type { Dispute } from "../domain/account";
import { fileDispute as decide } from "../domain/disputes";
import { type AccountWrite, accountStore } from "./account-store";
import type { Deps, StoredAccount } from "./ports";

const MAX_REASON = 2000;

/** Opens a dispute (same idempotency key → same dispute). */
export async function fileDispute(
  deps: Pick<Deps, "accounts" | "clock" | "timeZone" | "locks">,
  req: { accountId: string; reason: string; idempotencyKey: string },
): Promise<Dispute> {
  new Violations()
    .check(req.accountId.trim() === "", "account_id", "must not be empty")
    .check(req.reason.trim() === "", "reason", "must not be empty")
    .check(req.reason.length > MAX_REASON, "reason", `must be at most ${MAX_REASON} characters`)
    .check(req.idempotencyKey.trim() === "", "idempotency_key", "must not be empty")
    .throwIfAny();
  return deps.locks.run(req.accountId, () => fileLocked(deps, req));
}

function fileLocked(
  deps: Pick<Deps, "accounts" | "clock" | "timeZone">,
  req: { accountId: string; reason: string; idempotencyKey: string },
): Promise<Dispute> {
  return handleCommand<StoredAccount | null, AccountWrite, Dispute>(
    accountStore(deps.accounts, req.accountId),
    (cur) => {
      if (!cur) throw notFound("account", req.accountId);
      const now = deps.clock.now();
      const out = decide(cur.state, {
        idempotencyKey: req.idempotencyKey,
        reason: req.reason,
        at: now,
        today: dateInZone(now, deps.timeZone),
      });
      return out.changed ? write({ state: out.state, expected: cur.version }, out.dispute) : outcome(out.dispute);
    },
    { what: `account ${req.accountId}` },
  );
}
