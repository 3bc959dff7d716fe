/** ResolveDispute: closes a dispute; a correction (corrected = true) shows in the next file. */
import { dateInZone, notFound, Violations } from "@whiteslip/core";
import { handleCommand, outcome, write } from "@whiteslip/store";
import type { Dispute } from "../domain/account";
import { resolveDispute as decide } from "../domain/disputes";
import { type AccountWrite, accountStore } from "./account-store";
import type { Deps, StoredAccount } from "./ports";

/** Resolves `disputeId` (repeating the same resolution returns the same dispute); returns it with its account. */
export async function resolveDispute(
  deps: Pick<Deps, "accounts" | "clock" | "timeZone" | "locks">,
  req: { disputeId: string; corrected: boolean; resolution: string },
): Promise<{ accountId: string; dispute: Dispute }> {
  new Violations()
    .check(req.disputeId.trim() === "", "dispute_id", "must not be empty")
    .check(req.resolution.length > 2000, "resolution", "must be at most 2000 characters")
    .throwIfAny();
  const owner = await deps.accounts.findByDisputeId(req.disputeId);
  if (!owner) throw notFound("dispute", req.disputeId);
  const accountId = owner.state.accountId;
  return deps.locks.run(accountId, () =>
    handleCommand<StoredAccount | null, AccountWrite, { accountId: string; dispute: Dispute }>(
      accountStore(deps.accounts, accountId),
      (cur) => {
        if (!cur) throw notFound("dispute", req.disputeId);
        const now = deps.clock.now();
        const out = decide(cur.state, {
          disputeId: req.disputeId,
          corrected: req.corrected,
          resolution: req.resolution,
          at: now,
          today: dateInZone(now, deps.timeZone),
        });
        const result = { accountId: cur.state.accountId, dispute: out.dispute };
        return out.changed ? write({ state: out.state, expected: cur.version }, result) : outcome(result);
      },
      { what: `account ${accountId}` },
    ),
  );
}
