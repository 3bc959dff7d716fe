import { Violations } from "@whiteslip/core";
import type { Message } from "../domain/model";
import type { MessageRepository } from "./ports";
import { checkCustomerId, decodePageToken, encodePageToken, pageSize } from "./validate";

/** The in-app inbox: delivered in-app messages, unread prominent (overdue, legal) first, then newest. */
export async function listInbox(
  messages: MessageRepository,
  req: { customerId: string; unreadOnly: boolean; pageSize: number; pageToken: string },
): Promise<{ items: Message[]; unreadCount: number; nextPageToken: string }> {
  const v = new Violations();
  checkCustomerId(v, req.customerId);
  const limit = pageSize(v, req.pageSize, 50, 200);
  const offset = decodePageToken(v, req.pageToken);
  v.throwIfAny();
  const rows = await messages.listInbox(req.customerId, req.unreadOnly, { offset, limit: limit + 1 });
  return {
    items: rows.slice(0, limit),
    unreadCount: await messages.countUnread(req.customerId),
    nextPageToken: encodePageToken(offset + limit, rows.length > limit),
  };
}
