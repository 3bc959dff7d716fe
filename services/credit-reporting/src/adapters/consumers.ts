/**
 * Kafka consumers (group `credit-reporting`): billing's account facts, credit's
 * limits and notification's deliveries, each turned into a domain fact and
 * applied once per event id. A malformed event is dead-lettered at once
 * (invalid_argument); anything else is retried by the bus.
 */

import type { DescMessage } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { type EventEnvelope, type Subscription, subscribe } from "@whiteslip/bus";
import { checkOverdue, Topics } from "@whiteslip/contracts";
import { dateInZone, isLocalDate, type LocalDate, Violations } from "@whiteslip/core";
import { applyAccountFact } from "../app/apply-account-fact";
import type { Deps } from "../app/ports";
import type { AccountFact } from "../domain/facts";

/** Minimal logger surface. */
interface Log {
  debug(obj: object, msg?: string): void;
}

/** The subscriptions of the service. */
export function subscriptions(
  deps: Pick<Deps, "accounts" | "scorePolicy" | "reportingPolicy" | "timeZone" | "locks">,
  logger: Log,
): Subscription[] {
  const apply = async (e: EventEnvelope<DescMessage>, accountId: string, fact: AccountFact) => {
    const result = await applyAccountFact(deps, accountId, fact);
    logger.debug({ eventId: e.id, topic: e.topic, accountId, result }, "fact applied");
  };
  const base = (e: EventEnvelope<DescMessage>) => ({ eventId: e.id, at: e.time });
  const businessDate = (e: EventEnvelope<DescMessage>) => dateInZone(e.time, deps.timeZone);

  return [
    subscribe(Topics.AccountOpened, async (e) => {
      check(e.data.accountId, e.data.businessDate);
      await apply(e, e.data.accountId, {
        kind: "opened",
        ...base(e),
        customerId: e.data.customerId,
        businessDate: e.data.businessDate,
      });
    }),
    subscribe(Topics.CreditLineOpened, async (e) => {
      check(e.data.creditLineId);
      await apply(e, e.data.creditLineId, {
        kind: "creditLimit",
        ...base(e),
        customerId: e.data.customerId,
        businessDate: businessDate(e),
        limitFen: e.data.limitFen,
      });
    }),
    subscribe(Topics.CreditLineChanged, async (e) => {
      check(e.data.creditLineId);
      if (e.data.limitFen === e.data.previousLimitFen) return;
      await apply(e, e.data.creditLineId, {
        kind: "creditLimit",
        ...base(e),
        customerId: e.data.customerId,
        businessDate: businessDate(e),
        limitFen: e.data.limitFen,
      });
    }),
    subscribe(Topics.PurchasePosted, async (e) => {
      check(e.data.accountId, e.data.businessDate);
      await apply(e, e.data.accountId, {
        kind: "purchase",
        ...base(e),
        customerId: e.data.customerId,
        businessDate: e.data.businessDate,
        balanceFen: e.data.totalBalanceFen,
      });
    }),
    subscribe(Topics.Overdue, async (e) => {
      const d = e.data;
      checkOverdue(d); // the Overdue contract's rules (real dates, DPD ≥ 1), checked by every consumer
      check(d.accountId, d.businessDate, d.delinquencyStartDate || d.oldestDueDate);
      await apply(e, d.accountId, {
        kind: "overdue",
        ...base(e),
        customerId: d.customerId,
        businessDate: d.businessDate,
        dpd: d.daysPastDue,
        overdueFen: d.overdueFen,
        balanceFen: d.totalBalanceFen,
        delinquencyStart: d.delinquencyStartDate || d.oldestDueDate,
      });
    }),
    subscribe(Topics.PaymentReceived, async (e) => {
      const d = e.data;
      check(d.accountId, d.businessDate);
      await apply(e, d.accountId, {
        kind: "payment",
        ...base(e),
        customerId: d.customerId,
        businessDate: d.businessDate,
        amountFen: d.amountFen,
        onTime: d.onTime,
        dpdBefore: d.daysPastDueBefore,
        dpdAfter: d.daysPastDueAfter,
        overdueAfterFen: d.overdueFenAfter,
        balanceAfterFen: d.totalBalanceFenAfter,
      });
    }),
    subscribe(Topics.AccountCured, async (e) => {
      const d = e.data;
      check(d.accountId, d.businessDate, d.delinquencyStartDate);
      await apply(e, d.accountId, {
        kind: "cured",
        ...base(e),
        customerId: d.customerId,
        businessDate: d.businessDate,
        previousDpd: d.previousDaysPastDue,
        delinquencyStart: d.delinquencyStartDate,
      });
    }),
    subscribe(Topics.PaymentDeferred, async (e) => {
      const d = e.data;
      check(d.accountId, d.businessDate, d.dueDate);
      await apply(e, d.accountId, { kind: "deferred", ...base(e), customerId: d.customerId, businessDate: d.businessDate, dueDate: d.dueDate });
    }),
    subscribe(Topics.ChargedOff, async (e) => {
      const d = e.data;
      check(d.accountId, d.businessDate, d.delinquencyStartDate);
      await apply(e, d.accountId, {
        kind: "chargedOff",
        ...base(e),
        customerId: d.customerId,
        businessDate: d.businessDate,
        dpd: d.daysPastDue,
        chargedOffFen: d.chargedOffFen,
        delinquencyStart: d.delinquencyStartDate,
      });
    }),
    subscribe(Topics.NotificationDelivered, async (e) => {
      const factId = e.data.ref?.factId ?? "";
      if (factId === "") return; // not about a fact: never one of our notices
      const deliveredAt = e.data.deliveredAt ? timestampDate(e.data.deliveredAt) : e.time;
      await apply(e, e.data.ref?.accountId ?? "", {
        kind: "noticeDelivered",
        ...base(e),
        noticeId: factId,
        deliveredOn: dateInZone(deliveredAt, deps.timeZone),
      });
    }),
  ];
}

/** Dead-letters (invalid_argument) an event without an account id or with a malformed date. */
function check(accountId: string, ...dates: LocalDate[]): void {
  const v = new Violations().check(accountId === "", "account_id", "must not be empty");
  for (const [i, d] of dates.entries()) {
    v.check(!isLocalDate(d), `date[${i}]`, `must be YYYY-MM-DD, got ${JSON.stringify(d)}`);
  }
  v.throwIfAny();
}
