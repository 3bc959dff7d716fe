import { type Clock, notFound, timeInZone, Violations } from "@whiteslip/core";
import type { EngagementKind } from "../domain/model";
import { defaultProfile } from "../domain/model";
import type { BestHour } from "../domain/schedule";
import { loadBestHour } from "./best-hour";
import type { CustomerRepository, EngagementRepository, MessageRepository } from "./ports";
import type { NotificationSettings } from "./settings";

const KINDS: readonly EngagementKind[] = ["OPENED", "CLICKED", "PAID"];

/**
 * Records an open, click or payment after a message, once per (message, kind):
 * publishes NotificationEngaged through the message's outbox, feeds the
 * best-hour model, and returns the customer's current best hour.
 */
export async function recordEngagement(
  deps: {
    messages: MessageRepository;
    engagements: EngagementRepository;
    customers: CustomerRepository;
    clock: Clock;
    settings: NotificationSettings;
  },
  req: { notificationId: string; kind: string; occurredAt?: Date },
): Promise<{ best: BestHour; recorded: boolean }> {
  const now = deps.clock.now();
  const v = new Violations();
  v.check(!/^[A-Za-z0-9-]{1,64}$/.test(req.notificationId), "notification_id", "is not a message id");
  v.check(!KINDS.includes(req.kind as EngagementKind), "kind", `must be one of ${KINDS.join(", ")}`);
  const at = req.occurredAt ?? now;
  v.check(
    Number.isNaN(at.getTime()) || at.getTime() > now.getTime() + 5 * 60_000,
    "occurred_at",
    "must not be in the future",
  );
  v.throwIfAny();
  const kind = req.kind as EngagementKind;
  const message = await deps.messages.get(req.notificationId);
  if (!message) throw notFound("notification", req.notificationId);
  if (message.sentAt && at.getTime() < message.sentAt.getTime() - 60_000) {
    new Violations().add("occurred_at", "is before the message was sent").throwIfAny();
  }
  const outcome = await deps.messages.recordEngagement(message, kind, at);
  const profile =
    (await deps.customers.get(message.customerId)) ??
    defaultProfile(message.customerId, deps.settings.defaultTimeZone);
  // Stored even on a duplicate: the sample write is idempotent and a crash between the two writes heals on retry.
  await deps.engagements.add(message.customerId, message.id, {
    kind,
    occurredAt: at,
    localHour: timeInZone(at, profile.timeZone).hour,
  });
  const best = await loadBestHour(deps.engagements, message.customerId, now, deps.settings);
  return { best, recorded: outcome === "applied" };
}
