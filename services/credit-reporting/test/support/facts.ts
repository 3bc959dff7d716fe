/** Builders of domain facts for unit tests. */
import { deterministicId, type LocalDate } from "@whiteslip/core";
import type {
  ChargedOffFact,
  CuredFact,
  NoticeDeliveredFact,
  OpenedFact,
  OverdueFact,
  PaymentFact,
} from "../../src/domain/facts";

const at = (d: LocalDate) => new Date(`${d}T12:00:00+08:00`);

/** AccountOpened on `date`. */
export function opened(accountId: string, date: LocalDate): OpenedFact {
  return {
    kind: "opened",
    eventId: deterministicId("opened", accountId),
    at: at(date),
    customerId: `cus-${accountId}`,
    businessDate: date,
  };
}

/** Overdue on `date` at `dpd`, delinquency starting on `start`. */
export function overdue(
  accountId: string,
  date: LocalDate,
  dpd: number,
  start: LocalDate,
  overdueFen = 50_000n,
  balanceFen = 80_000n,
): OverdueFact {
  return {
    kind: "overdue",
    eventId: deterministicId("overdue", accountId, date),
    at: at(date),
    customerId: `cus-${accountId}`,
    businessDate: date,
    dpd,
    overdueFen,
    balanceFen,
    delinquencyStart: start,
  };
}

/** PaymentReceived. */
export function payment(accountId: string, date: LocalDate, opts: Partial<PaymentFact> = {}): PaymentFact {
  return {
    kind: "payment",
    eventId: deterministicId("payment", accountId, date, opts.amountFen ?? 10_000n),
    at: at(date),
    customerId: `cus-${accountId}`,
    businessDate: date,
    amountFen: 10_000n,
    onTime: true,
    dpdBefore: 0,
    dpdAfter: 0,
    overdueAfterFen: 0n,
    balanceAfterFen: 30_000n,
    ...opts,
  };
}

/** AccountCured. */
export function cured(accountId: string, date: LocalDate, start: LocalDate, previousDpd = 35): CuredFact {
  return {
    kind: "cured",
    eventId: deterministicId("cured", accountId, date),
    at: at(date),
    customerId: `cus-${accountId}`,
    businessDate: date,
    previousDpd,
    delinquencyStart: start,
  };
}

/** ChargedOff. */
export function chargedOff(
  accountId: string,
  date: LocalDate,
  start: LocalDate,
  amountFen = 80_000n,
): ChargedOffFact {
  return {
    kind: "chargedOff",
    eventId: deterministicId("charged-off", accountId, date),
    at: at(date),
    customerId: `cus-${accountId}`,
    businessDate: date,
    dpd: 181,
    chargedOffFen: amountFen,
    delinquencyStart: start,
  };
}

/** NotificationDelivered for a notice. */
export function delivered(noticeId: string, date: LocalDate): NoticeDeliveredFact {
  return {
    kind: "noticeDelivered",
    eventId: deterministicId("delivered", noticeId),
    at: at(date),
    noticeId,
    deliveredOn: date,
  };
}
