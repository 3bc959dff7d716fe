/** The store's command port over the account repository, for handleCommand. */
import type { AggregateStore } from "@whiteslip/store";
import type { AccountState } from "../domain/account";
import type { AccountRepository, OutgoingEvent, StoredAccount } from "./ports";

/** A write of the account: the new state, the version it was decided on (null: create), its events. */
export interface AccountWrite {
  readonly state: AccountState;
  readonly expected: number | null;
  readonly events?: OutgoingEvent[];
}

/**
 * Account `accountId` as a command's aggregate: loads it, saves conditionally on the version read
 * (recording `eventId` as processed when given); false when another writer got there first.
 */
export function accountStore(accounts: AccountRepository, accountId: string, eventId?: string): AggregateStore<StoredAccount | null, AccountWrite> {
  return {
    load: () => accounts.get(accountId),
    write: ({ state, expected, events }) => accounts.save(state, expected, { ...(eventId ? { eventId } : {}), events: events ?? [] }),
  };
}
