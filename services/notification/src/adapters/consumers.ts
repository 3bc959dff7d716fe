import { type Subscription, subscribe } from "@whiteslip/bus";
import { Topics } from "@whiteslip/contracts";
import { invalidArgument } from "@whiteslip/core";
import type { NotifyOnFact } from "../app/notify-on-fact";
import type { Fact } from "../domain/model";
import {
  creditLineChangedFact,
  dueSoonFact,
  legalNoticeRequestedFact,
  negativeReportPendingFact,
  overdueFact,
  paymentReceivedFact,
} from "./fact-mapping";

/** Minimal logger surface. */
interface Log {
  info(obj: object, msg?: string): void;
}

/**
 * Subscriptions of the fact consumer (own group, default `notification`) for
 * every fact that notifies a customer. Idempotent by event id (see
 * NotifyOnFact); a fact without customer or account is dead-lettered at once
 * (invalid_argument).
 */
export function factSubscriptions(notify: NotifyOnFact, log: Log): Subscription[] {
  const run = async (fact: Fact | undefined) => {
    if (!fact) return;
    const v = [];
    if (!fact.customerId) v.push({ field: "customer_id", description: "is required" });
    if (!fact.accountId) v.push({ field: "account_id", description: "is required" });
    if (v.length > 0) throw invalidArgument(v);
    const r = await notify.handle(fact);
    log.info(
      {
        eventId: fact.eventId,
        factType: fact.factType,
        outcome: r.outcome,
        messages: r.outcome === "planned" ? r.messageIds.length : 0,
      },
      "fact handled",
    );
  };
  return [
    subscribe(Topics.DueSoon, (e) => run(dueSoonFact(e, e.data))),
    subscribe(Topics.Overdue, (e) => run(overdueFact(e, e.data))),
    subscribe(Topics.PaymentReceived, (e) => run(paymentReceivedFact(e, e.data))),
    subscribe(Topics.CreditLineChanged, (e) => run(creditLineChangedFact(e, e.data))),
    subscribe(Topics.NegativeReportPending, (e) => run(negativeReportPendingFact(e, e.data))),
    subscribe(Topics.LegalNoticeRequested, (e) => run(legalNoticeRequestedFact(e, e.data))),
  ];
}
