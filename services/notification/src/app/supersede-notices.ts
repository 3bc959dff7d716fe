import type { Clock } from "@whiteslip/core";
import { supersession } from "../domain/validity";
import type { AccountFactsRepository, MessageRepository } from "./ports";

/** A payment or a cure of an account, as notification hears of it. */
export interface AccountEvent {
  /** The account. */
  accountId: string;
  /** A payment (its `received_at`) or a cure (the event's time). */
  kind: "PAYMENT" | "CURE";
  /** When it happened. */
  at: Date;
}

/**
 * A payment or a cure makes the account's queued overdue notices wrong ("your account is 28 days past due" to a
 * customer who just paid): remembers it for the account (the dispatcher checks it before every send, so a notice
 * planned later from an older Overdue is superseded too) and marks the queued ones SUPERSEDED now, so
 * ListNotifications says so at once. Idempotent: a redelivered event finds nothing left to supersede.
 */
export async function supersedeNotices(
  deps: { messages: MessageRepository; accounts: AccountFactsRepository; clock?: Clock },
  e: AccountEvent,
): Promise<{ superseded: number }> {
  await deps.accounts.record(e.accountId, e.kind === "PAYMENT" ? { paymentAt: e.at } : { curedAt: e.at });
  const s = supersession(e.kind === "PAYMENT" ? "PAYMENT" : "CURE", e.at);
  return { superseded: await deps.messages.supersedeQueued(e.accountId, e.at, s, deps.clock?.now() ?? e.at) };
}
