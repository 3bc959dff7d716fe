/** ResolveDispute: closes a dispute; a correction (corrected = true) shows in the next file. */
import { aborted, dateInZone, notFound, Violations } from "@whiteslip/core";
import type { Dispute } from "../domain/account";
import { resolveDispute as decide } from "../domain/disputes";
import type { Deps } from "./ports";

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
  return deps.locks.run(accountId, async () => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const cur = await deps.accounts.get(accountId);
      if (!cur) throw notFound("dispute", req.disputeId);
      const now = deps.clock.now();
      const out = decide(cur.state, {
        disputeId: req.disputeId,
        corrected: req.corrected,
        resolution: req.resolution,
        at: now,
        today: dateInZone(now, deps.timeZone),
      });
      if (!out.changed || (await deps.accounts.save(out.state, cur.version, { events: [] })))
        return { accountId: cur.state.accountId, dispute: out.dispute };
    }
    throw aborted("CONCURRENT_UPDATE", `dispute ${req.disputeId} kept changing; retry`);
  });
}
