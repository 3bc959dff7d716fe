import { type Clock, Violations } from "@whiteslip/core";
import type { MessageRepository } from "./ports";
import { checkCustomerId } from "./validate";

/** Marks inbox messages read (all when `messageIds` is empty); idempotent: marking twice changes nothing. */
export async function markInboxRead(
  messages: MessageRepository,
  clock: Clock,
  req: { customerId: string; messageIds: string[] },
): Promise<{ marked: number; unreadCount: number }> {
  const v = new Violations();
  checkCustomerId(v, req.customerId);
  v.check(req.messageIds.length > 500, "message_ids", "at most 500 ids per call");
  req.messageIds.forEach((id, i) => {
    v.check(!/^[A-Za-z0-9-]{1,64}$/.test(id), `message_ids[${i}]`, "is not a message id");
  });
  v.throwIfAny();
  const marked = await messages.markRead(
    req.customerId,
    req.messageIds.length > 0 ? req.messageIds : undefined,
    clock.now(),
  );
  return { marked, unreadCount: await messages.countUnread(req.customerId) };
}
