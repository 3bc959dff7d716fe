/** Kafka subscriptions of the credit service: billing facts and credit-reporting score changes, each idempotent by event id. */
import { checkOverdue, Topics } from "@whiteslip/contracts";
import { type Subscription, subscribe } from "@whiteslip/bus";
import type { Logger } from "@whiteslip/telemetry";
import { applyAccountCured } from "../app/apply-account-cured";
import { applyChargedOffFact as applyChargedOff } from "../app/apply-charged-off";
import { applyOverdueFact } from "../app/apply-overdue";
import { applyScoreChanged } from "../app/apply-score-changed";
import type { CreditDeps } from "../app/deps";
import { flagHighRiskDueSoon } from "../app/flag-due-soon";
import { recordPaymentReceived } from "../app/record-payment-received";
import { recordPurchasePosted } from "../app/record-purchase-posted";

/** The subscriptions; an event for an unknown account is logged and skipped (not every account is credit's). */
export function creditSubscriptions(d: CreditDeps, logger: Logger): Subscription[] {
  const done = (topic: string, eventId: string, accountId: string) => (outcome: string) => {
    if (outcome !== "applied") logger.info({ topic, eventId, accountId, outcome }, "event not applied");
  };
  return [
    subscribe(Topics.PurchasePosted, async (e) =>
      recordPurchasePosted(d, { eventId: e.id, accountId: e.data.accountId, authorizationId: e.data.authorizationId, amountFen: e.data.amountFen }).then(
        done(e.topic, e.id, e.data.accountId),
      ),
    ),
    subscribe(Topics.PaymentReceived, async (e) =>
      recordPaymentReceived(d, { eventId: e.id, accountId: e.data.accountId, amountFen: e.data.amountFen, onTime: e.data.onTime }).then(done(e.topic, e.id, e.data.accountId)),
    ),
    subscribe(Topics.Overdue, async (e) => {
      checkOverdue(e.data); // an Overdue that breaks its contract is refused (dead-lettered at once), as by every consumer
      await applyOverdueFact(d, { eventId: e.id, accountId: e.data.accountId, businessDate: e.data.businessDate, daysPastDue: e.data.daysPastDue }).then(
        done(e.topic, e.id, e.data.accountId),
      );
    }),
    subscribe(Topics.AccountCured, async (e) =>
      applyAccountCured(d, { eventId: e.id, accountId: e.data.accountId, businessDate: e.data.businessDate }).then(done(e.topic, e.id, e.data.accountId)),
    ),
    subscribe(Topics.ChargedOff, async (e) => applyChargedOff(d, { eventId: e.id, accountId: e.data.accountId }).then(done(e.topic, e.id, e.data.accountId))),
    subscribe(Topics.DueSoon, async (e) =>
      flagHighRiskDueSoon(d, { eventId: e.id, accountId: e.data.accountId, dueDate: e.data.dueDate, amountDueFen: e.data.amountDueFen }).then(
        done(e.topic, e.id, e.data.accountId),
      ),
    ),
    subscribe(Topics.ScoreChanged, async (e) => {
      if (!e.data.change) return;
      await applyScoreChanged(d, { eventId: e.id, accountId: e.data.accountId, score: e.data.change.score }).then(done(e.topic, e.id, e.data.accountId));
    }),
  ];
}
