import { type BatchSubscription, type EventEnvelope, type Subscription, subscribe, withBatch } from "@whiteslip/bus";
import { type billing, checkOverdue, Topics } from "@whiteslip/contracts";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { DomainError, invalidArgument } from "@whiteslip/core";
import type { NotifyOnFact } from "../app/notify-on-fact";
import type { AccountEvent } from "../app/supersede-notices";
import type { Fact } from "../domain/model";
import {
  creditLineChangedFact,
  dueSoonFact,
  legalNoticeRequestedFact,
  negativeReportPendingFact,
  overdueFact,
  paymentDeferredFact,
  paymentReceivedFact,
} from "./fact-mapping";

/** Minimal logger surface. */
interface Log {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** Attributes a payment to the message it answers (see attributePayment). */
export type OnPayment = (p: { customerId: string; accountId: string; paidAt: Date }) => Promise<{ messageId: string | null; recorded: boolean }>;

/** A payment or a cure supersedes the account's queued overdue notices (see supersedeNotices). */
export type OnAccountEvent = (e: AccountEvent) => Promise<{ superseded: number }>;

/** Throws invalid_argument (dead-lettered at once) for a fact without customer or account. */
function checkFact(fact: Fact): void {
  const v = [];
  if (!fact.customerId) v.push({ field: "customer_id", description: "is required" });
  if (!fact.accountId) v.push({ field: "account_id", description: "is required" });
  if (v.length > 0) throw invalidArgument(v);
}

/**
 * The due wave's topics, DueSoon and Overdue, consumed in batches (a batch of one partition planned with a handful
 * of queries, `NotifyOnFact.handleBatch`): end-of-day publishes them by the tens of thousands at once. A batch
 * with a fact that breaks its contract fails whole and is retried event by event by the batch consumer, which
 * dead-letters that one and applies the others (the same handler as `handle`).
 */
export function waveSubscriptions(notify: NotifyOnFact, log: Log): BatchSubscription[] {
  const one = async (fact: Fact | undefined) => {
    if (!fact) return;
    checkFact(fact);
    const r = await notify.handle(fact);
    log.info({ eventId: fact.eventId, factType: fact.factType, outcome: r.outcome, messages: r.outcome === "planned" ? r.messageIds.length : 0 }, "fact handled");
  };
  const many = async (facts: (Fact | undefined)[]) => {
    const todo = facts.filter((f): f is Fact => f !== undefined);
    for (const f of todo) checkFact(f);
    const rs = await notify.handleBatch(todo);
    const planned = rs.filter((r) => r.outcome === "planned");
    log.info({ facts: todo.length, planned: planned.length, messages: planned.reduce((n, r) => n + (r.outcome === "planned" ? r.messageIds.length : 0), 0) }, "fact batch handled");
  };
  return [
    withBatch(
      subscribe(Topics.DueSoon, (e) => one(dueSoonFact(e, e.data))),
      (es: EventEnvelope<typeof billing.DueSoonSchema>[]) => many(es.map((e) => dueSoonFact(e, e.data))),
    ),
    withBatch(
      subscribe(Topics.Overdue, (e) => {
        checkOverdue(e.data); // no notice about an Overdue that breaks its contract: dead-lettered at once, as by every consumer
        return one(overdueFact(e, e.data));
      }),
      (es: EventEnvelope<typeof billing.OverdueSchema>[]) =>
        many(
          es.map((e) => {
            checkOverdue(e.data);
            return overdueFact(e, e.data);
          }),
        ),
    ),
  ];
}

/**
 * Subscriptions of the fact consumer (own group, default `notification`) for
 * every other fact that notifies a customer, and for the payments and cures that
 * supersede queued overdue notices, one event at a time. Idempotent by event id
 * (see NotifyOnFact); a fact without customer or account is dead-lettered at once
 * (invalid_argument). DueSoon and Overdue are the batch subscriptions of
 * waveSubscriptions (a BatchSubscription is a Subscription too). main.ts runs them
 * all in one batch consumer (one consumer group, as the Kafka ACLs allow), the
 * one-event ones wrapped by `asBatch`.
 */
export function factSubscriptions(
  notify: NotifyOnFact,
  log: Log,
  onPayment?: OnPayment,
  onAccountEvent?: OnAccountEvent,
): Subscription[] {
  const supersede = async (eventId: string, e: AccountEvent) => {
    if (!onAccountEvent || !e.accountId) return;
    const r = await onAccountEvent(e);
    if (r.superseded > 0) log.info({ eventId, kind: e.kind, superseded: r.superseded }, "queued overdue notices superseded");
  };
  const run = async (fact: Fact | undefined) => {
    if (!fact) return;
    checkFact(fact);
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
    ...waveSubscriptions(notify, log),
    subscribe(Topics.PaymentReceived, async (e) => {
      await run(paymentReceivedFact(e, e.data));
      const paidAt = e.data.receivedAt ? timestampDate(e.data.receivedAt) : e.time;
      await supersede(e.id, { accountId: e.data.accountId, kind: "PAYMENT", at: paidAt });
      if (!onPayment) return;
      try {
        const r = await onPayment({ customerId: e.data.customerId, accountId: e.data.accountId, paidAt });
        if (r.messageId) log.info({ eventId: e.id, messageId: r.messageId, recorded: r.recorded }, "payment attributed to a message");
      } catch (err) {
        // a refusal (not an outage) is logged and skipped: the payment's receipt above must not be dead-lettered
        if (!(err instanceof DomainError)) throw err;
        log.warn({ eventId: e.id, err: err.message }, "payment not attributed");
      }
    }),
    subscribe(Topics.AccountCured, (e) => supersede(e.id, { accountId: e.data.accountId, kind: "CURE", at: e.time })),
    subscribe(Topics.PaymentDeferred, (e) => run(paymentDeferredFact(e, e.data))),
    subscribe(Topics.CreditLineChanged, (e) => run(creditLineChangedFact(e, e.data))),
    subscribe(Topics.NegativeReportPending, (e) => run(negativeReportPendingFact(e, e.data))),
    subscribe(Topics.LegalNoticeRequested, (e) => run(legalNoticeRequestedFact(e, e.data))),
  ];
}
