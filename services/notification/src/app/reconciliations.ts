/**
 * The operator's side of reconciliation: messages in RECONCILE — a provider call whose outcome was lost, which the
 * provider could not (yet) confirm or deny — listed oldest first, and resolved one by one with the evidence found in
 * the provider's log (README, "Side effects", runbook). Automatic lookups (the dispatcher's `recover`) resolve what
 * they can; what is left waits here, never re-sent blindly.
 */
import { aborted, type Clock, dateInZone, failedPrecondition, notFound, Violations } from "@whiteslip/core";
import { countsTowardCap } from "../domain/delivery-rules";
import type { Message } from "../domain/model";
import type { CustomerRepository, MessageRepository, NotificationEvent } from "./ports";
import type { NotificationSettings } from "./settings";
import { decodePageToken, encodePageToken, pageSize } from "./validate";

/** What an operator found. */
export type Resolution = "DELIVERED" | "RESEND" | "LOOKUP";

/** Messages in RECONCILE, oldest first (optionally only those no automatic lookup will resolve). */
export async function listReconciliations(
  messages: MessageRepository,
  req: { operatorOnly: boolean; pageSize: number; pageToken: string },
): Promise<{ items: Message[]; nextPageToken: string }> {
  const v = new Violations();
  const limit = pageSize(v, req.pageSize, 50, 200);
  const offset = decodePageToken(v, req.pageToken);
  v.throwIfAny();
  const rows = await messages.listReconcile(req.operatorOnly, { offset, limit: limit + 1 });
  return { items: rows.slice(0, limit), nextPageToken: encodePageToken(offset + limit, rows.length > limit) };
}

/**
 * Resolves one RECONCILE message (a conditional update on the state read; a concurrent change → ABORTED):
 * DELIVERED → recorded as delivered now with NotificationSent and NotificationDelivered (what the lost record would
 * have published; counted toward the caps); RESEND → SCHEDULED now, the dispatcher sends it with the same Message-ID
 * and key, its validity and quiet hours still apply; LOOKUP → the dispatcher asks the provider again at once, with a
 * fresh lookup budget. The actor and the note are kept in the status or schedule reason.
 */
export async function resolveReconciliation(
  d: { messages: MessageRepository; customers: CustomerRepository; clock: Clock; settings: NotificationSettings },
  req: { notificationId: string; resolution: Resolution | undefined; note: string; actor: string },
): Promise<Message> {
  const v = new Violations();
  v.check(!req.notificationId, "notification_id", "is required");
  v.check(req.resolution === undefined, "resolution", "must be DELIVERED, RESEND or LOOKUP");
  v.check(req.resolution !== "LOOKUP" && !req.note.trim(), "note", "must say what the provider's log showed");
  v.check(req.note.length > 500, "note", "must be at most 500 characters");
  v.check(!req.actor.trim(), "actor", "must name who resolves it");
  v.throwIfAny();
  const m = await d.messages.get(req.notificationId);
  if (!m) throw notFound("notification", req.notificationId);
  if (m.status !== "RECONCILE")
    throw failedPrecondition("NOT_IN_RECONCILE", `notification ${m.id} is ${m.status}, not RECONCILE: nothing to resolve`);
  const now = d.clock.now();
  const base: Message = { ...m, claimToken: undefined, claimExpiresAt: undefined, inDoubtSince: undefined, reconcileAt: undefined, reconcileLooks: undefined };
  let next: Message;
  const events: NotificationEvent[] = [];
  switch (req.resolution!) {
    case "DELIVERED": {
      const tz = (await d.customers.get(m.customerId))?.timeZone ?? d.settings.defaultTimeZone;
      next = {
        ...base,
        status: "DELIVERED",
        sentAt: now,
        deliveredAt: now,
        lastError: undefined,
        capDay: countsTowardCap(m.category, m.channel, d.settings.caps) ? dateInZone(now, tz) : undefined,
        statusReason: `reconciled by ${req.actor}: the provider has it (${req.note.trim()})`,
      };
      events.push({ type: "SENT", at: now }, { type: "DELIVERED", at: now });
      break;
    }
    case "RESEND":
      next = {
        ...base,
        status: "SCHEDULED",
        scheduledAt: now,
        statusReason: undefined,
        scheduleReason: `${m.scheduleReason}; re-sent after reconciliation by ${req.actor}: the provider never got it (${req.note.trim()})`,
      };
      break;
    case "LOOKUP":
      next = {
        ...m,
        reconcileAt: now,
        reconcileLooks: 0,
        statusReason: `${m.statusReason ?? ""}; lookup requested by ${req.actor}${req.note.trim() ? ` (${req.note.trim()})` : ""}`.replace(/^; /, ""),
      };
      break;
  }
  if (!(await d.messages.transition(next, events, m)))
    throw aborted("CONCURRENT_MODIFICATION", `notification ${m.id} changed while being resolved; read it again`);
  return next;
}
