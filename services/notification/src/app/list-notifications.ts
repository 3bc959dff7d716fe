import { Violations } from "@whiteslip/core";
import type { Message } from "../domain/model";
import type { MessageRepository } from "./ports";
import { checkCustomerId, decodePageToken, encodePageToken, pageSize } from "./validate";

/** A customer's messages (all channels, all states), newest first, one page. */
export async function listNotifications(
  messages: MessageRepository,
  req: { customerId: string; accountId: string; pageSize: number; pageToken: string },
): Promise<{ items: Message[]; nextPageToken: string }> {
  const v = new Violations();
  checkCustomerId(v, req.customerId);
  const limit = pageSize(v, req.pageSize, 50, 200);
  const offset = decodePageToken(v, req.pageToken);
  v.throwIfAny();
  const rows = await messages.listForCustomer(req.customerId, req.accountId || undefined, {
    offset,
    limit: limit + 1,
  });
  return { items: rows.slice(0, limit), nextPageToken: encodePageToken(offset + limit, rows.length > limit) };
}
