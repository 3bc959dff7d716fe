/**
 * Consumer disputes (FCRA §611 / 征信业管理条例 第二十五条). While a dispute is
 * open the account carries compliance condition code XB; a dispute resolved in
 * the consumer's favour removes the disputed negative information (the next
 * file is the correction) and reports XH; one verified as accurate reports XC.
 */
import { deterministicId, failedPrecondition, type LocalDate, notFound } from "@whiteslip/core";
import type { AccountState, Dispute } from "./account";
import { clone } from "./apply-fact";

/** The dispute id for an account and a client idempotency key. */
export function disputeIdFor(accountId: string, idempotencyKey: string): string {
  return deterministicId("dispute", accountId, idempotencyKey);
}

/** Result of a dispute command: the dispute and whether the aggregate changed. */
export interface DisputeOutcome {
  /** The aggregate after the command. */
  state: AccountState;
  /** The dispute. */
  dispute: Dispute;
  /** False for a repeated command (same idempotency key / same resolution). */
  changed: boolean;
}

/** Opens a dispute; the same idempotency key returns the same dispute; a second open dispute is refused. */
export function fileDispute(
  prev: AccountState,
  input: { idempotencyKey: string; reason: string; at: Date; today: LocalDate },
): DisputeOutcome {
  const disputeId = disputeIdFor(prev.accountId, input.idempotencyKey);
  const same = prev.disputes.find((d) => d.disputeId === disputeId);
  if (same) return { state: prev, dispute: same, changed: false };
  const open = prev.disputes.find((d) => d.status === "OPEN");
  if (open) {
    throw failedPrecondition(
      "DISPUTE_ALREADY_OPEN",
      `account ${prev.accountId} already has open dispute ${open.disputeId}`,
      {
        accountId: prev.accountId,
        disputeId: open.disputeId,
      },
    );
  }
  const dispute: Dispute = {
    disputeId,
    idempotencyKey: input.idempotencyKey,
    status: "OPEN",
    reason: input.reason,
    filedAt: input.at,
    filedOn: input.today,
    resolvedAt: null,
    resolvedOn: null,
    resolution: "",
  };
  const state = clone(prev);
  state.disputes.push(dispute);
  return { state, dispute, changed: true };
}

/**
 * Resolves an open dispute. `corrected` = the consumer was right: every
 * delinquency that began on or before the resolution is marked corrected and
 * is no longer reported as negative. Repeating the same resolution is a no-op.
 */
export function resolveDispute(
  prev: AccountState,
  input: { disputeId: string; corrected: boolean; resolution: string; at: Date; today: LocalDate },
): DisputeOutcome {
  const found = prev.disputes.find((d) => d.disputeId === input.disputeId);
  if (!found) throw notFound("dispute", input.disputeId);
  const status = input.corrected ? "RESOLVED_CORRECTED" : "RESOLVED_VERIFIED";
  if (found.status !== "OPEN") {
    if (found.status === status) return { state: prev, dispute: found, changed: false };
    throw failedPrecondition(
      "DISPUTE_ALREADY_RESOLVED",
      `dispute ${input.disputeId} was already resolved as ${found.status}`,
      {
        disputeId: input.disputeId,
        status: found.status,
      },
    );
  }
  const state = clone(prev);
  const dispute = state.disputes.find((d) => d.disputeId === input.disputeId)!;
  dispute.status = status;
  dispute.resolvedAt = input.at;
  dispute.resolvedOn = input.today;
  dispute.resolution = input.resolution;
  if (input.corrected) {
    for (const d of state.delinquencies) if (d.start <= input.today) d.corrected = true;
  }
  return { state, dispute, changed: true };
}
