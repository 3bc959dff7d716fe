/**
 * A small book of accounts driven through the real domain (applyFact) into every state a file reports:
 * current, zero balance, delinquent (reportable), cured, disputed, charged off, in forbearance, and one
 * whose notice was never delivered (withheld). Due date 2026-01-01 missed → DPD 1 on 01-02 (billing's
 * delinquency start), 30 DPD on 01-31.
 */
import { addDays, deterministicId, type LocalDate } from "@whiteslip/core";
import type { AccountState } from "../../src/domain/account";
import { applyFact, noticeIdFor } from "../../src/domain/apply-fact";
import { fileDispute } from "../../src/domain/disputes";
import type { AccountFact, CreditLimitFact } from "../../src/domain/facts";
import { DEFAULT_REPORTING_POLICY as RP, DEFAULT_SCORE_POLICY as SP } from "../../src/domain/policy";
import { chargedOff, cured, delivered, opened, overdue, payment } from "./facts";

/** Billing's delinquency start of the book's delinquencies (first day past due). */
export const START: LocalDate = "2026-01-02";

export function run(facts: AccountFact[], start: AccountState | null, id: string): AccountState {
  let s = start;
  for (const f of facts) {
    const out = applyFact(s, id, f, SP, RP);
    if (out) s = out.state;
  }
  return s!;
}

const limit = (accountId: string, date: LocalDate, limitFen: bigint): CreditLimitFact => ({
  kind: "creditLimit",
  eventId: deterministicId("limit", accountId, date),
  at: new Date(`${date}T02:00:00Z`),
  customerId: `cus-${accountId}`,
  businessDate: date,
  limitFen,
});

/** Daily Overdue facts from `fromDpd` to `toDpd`, from `from`. */
export const daily = (id: string, from: LocalDate, fromDpd: number, toDpd: number, start = START): AccountFact[] =>
  Array.from({ length: toDpd - fromDpd + 1 }, (_, i) => overdue(id, addDays(from, i), fromDpd + i, start));

/** An account opened 2025-11-20 with a ¥5,000 limit and a ¥800 purchase. */
function openedAccount(id: string): AccountState {
  return run(
    [
      opened(id, "2025-11-20"),
      limit(id, "2025-11-20", 500_000n),
      { kind: "purchase", eventId: `${id}-buy`, at: new Date("2025-11-21T02:00:00Z"), customerId: `cus-${id}`, businessDate: "2025-11-21", balanceFen: 80_000n },
    ],
    null,
    id,
  );
}

/** 40 days past due by 2026-02-10, notice delivered 02-01 (reportable from 02-08). */
function delinquent(id: string): AccountState {
  const s = run(daily(id, START, 1, 40), openedAccount(id), id);
  return run([delivered(noticeIdFor(id, START), "2026-02-01")], s, id);
}

/** The book as of 2026-02-28 (and later dates). */
export function book(): AccountState[] {
  const current = openedAccount("acc-current");
  const zero = run([payment("acc-zero", "2025-12-20", { amountFen: 80_000n, balanceAfterFen: 0n })], openedAccount("acc-zero"), "acc-zero");
  const late = delinquent("acc-late");
  const curedAcc = run([cured("acc-cured", "2026-02-15", START, 44)], delinquent("acc-cured"), "acc-cured");
  const disputed = fileDispute(delinquent("acc-dispute"), {
    idempotencyKey: "k1",
    reason: "I paid on time",
    at: new Date("2026-02-20T02:00:00Z"),
    today: "2026-02-20",
  }).state;
  const off = run([...daily("acc-off", "2026-02-11", 41, 58), chargedOff("acc-off", "2026-02-28", START, 80_000n)], delinquent("acc-off"), "acc-off");
  const withheld = run(daily("acc-withheld", START, 1, 40), openedAccount("acc-withheld"), "acc-withheld");
  const forbearance = run(
    [{ kind: "deferred", eventId: "df-1", at: new Date("2026-02-20T02:00:00Z"), customerId: "cus-acc-cp", businessDate: "2026-02-20", dueDate: "2026-03-12" }, cured("acc-cp", "2026-02-20", START)],
    delinquent("acc-cp"),
    "acc-cp",
  );
  return [current, zero, late, curedAcc, disputed, off, withheld, forbearance];
}
