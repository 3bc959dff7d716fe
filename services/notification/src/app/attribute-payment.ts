import type { Clock } from "@whiteslip/core";
import type { Category, Message } from "../domain/model";
import type { CustomerRepository, EngagementRepository, MessageRepository } from "./ports";
import { recordEngagement } from "./record-engagement";
import type { NotificationSettings } from "./settings";

/** How long after a message a payment still counts as its effect. */
export const PAYMENT_ATTRIBUTION_MS = 24 * 3_600_000;

/** Messages whose effect a payment can be: the ones asking for it. */
const ASKS_FOR_PAYMENT: ReadonlySet<Category> = new Set(["REMINDER", "COLLECTION", "LEGAL"]);

/**
 * The message a payment answers: of the account's delivered reminders, collection and legal notices, the latest
 * one delivered within 24 hours before the payment (the outbound copy rather than the inbox one when both arrived
 * together). Null when there is none.
 */
export function messagePaidAfter(messages: readonly Message[], accountId: string, paidAt: Date): Message | null {
  const candidates = messages.filter(
    (m) =>
      m.accountId === accountId &&
      m.status === "DELIVERED" &&
      ASKS_FOR_PAYMENT.has(m.category) &&
      m.deliveredAt !== undefined &&
      m.deliveredAt.getTime() <= paidAt.getTime() &&
      paidAt.getTime() - m.deliveredAt.getTime() <= PAYMENT_ATTRIBUTION_MS,
  );
  // latest first; at the same time an outbound channel (SMS, e-mail, push, voice) before the inbox copy
  const inbox = (m: Message) => (m.channel === "IN_APP" ? 1 : 0);
  candidates.sort(
    (a, b) => b.deliveredAt!.getTime() - a.deliveredAt!.getTime() || inbox(a) - inbox(b) || a.id.localeCompare(b.id),
  );
  return candidates[0] ?? null;
}

/**
 * A payment after a message is the strongest sign the message worked, and of the hour at which this customer acts:
 * records PAID on the message it answers (once per message; a redelivered payment changes nothing), which feeds the
 * best-send-hour model like an open or a click.
 */
export async function attributePayment(
  deps: {
    messages: MessageRepository;
    engagements: EngagementRepository;
    customers: CustomerRepository;
    clock: Clock;
    settings: NotificationSettings;
  },
  payment: { customerId: string; accountId: string; paidAt: Date },
): Promise<{ messageId: string | null; recorded: boolean }> {
  const recent = await deps.messages.listForCustomer(payment.customerId, payment.accountId, { offset: 0, limit: 50 });
  const m = messagePaidAfter(recent, payment.accountId, payment.paidAt);
  if (!m) return { messageId: null, recorded: false };
  const r = await recordEngagement(deps, { notificationId: m.id, kind: "PAID", occurredAt: payment.paidAt });
  return { messageId: m.id, recorded: r.recorded };
}
