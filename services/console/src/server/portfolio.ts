/**
 * The portfolio dashboard's data: billing's portfolio stats (delinquency by bucket, roll rates, charge-off trend,
 * expected inflows), collections' outcomes per strategy (champion vs challenger), and notifications by channel and
 * status. Notification has no portfolio RPC, so the console counts the messages of the customers that have
 * collection cases (ListCases → ListNotifications per customer), bounded by `maxCustomers`.
 */
import { toJson } from "@bufbuild/protobuf";
import { billing, collections, notification } from "@whiteslip/contracts";
import type { ServiceClients } from "./clients";

/** One cell of the notifications chart. */
export interface ChannelStatusCount {
  /** Channel name without prefix, e.g. `SMS`. */
  channel: string;
  /** Delivery status without prefix, e.g. `DELIVERED`. */
  status: string;
  /** Messages. */
  count: number;
}

/** Short enum name: `CHANNEL_SMS` → `SMS` (protobuf-es enums are numbers; the descriptor gives the name). */
function shortName(
  e: typeof notification.ChannelSchema | typeof notification.DeliveryStatusSchema,
  n: number,
  prefix: string,
): string {
  const v = e.values.find((x) => x.number === n);
  return v ? v.name.replace(prefix, "") : String(n);
}

/** Counts messages by channel and delivery status, sorted by channel then status. */
export function countByChannelAndStatus(
  messages: readonly Pick<notification.Notification, "channel" | "status">[],
): ChannelStatusCount[] {
  const counts = new Map<string, ChannelStatusCount>();
  for (const m of messages) {
    const channel = shortName(notification.ChannelSchema, m.channel, "CHANNEL_");
    const status = shortName(notification.DeliveryStatusSchema, m.status, "DELIVERY_STATUS_");
    const key = `${channel}/${status}`;
    const cell = counts.get(key) ?? { channel, status, count: 0 };
    cell.count++;
    counts.set(key, cell);
  }
  return [...counts.values()].sort(
    (a, b) => a.channel.localeCompare(b.channel) || a.status.localeCompare(b.status),
  );
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (t: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  });
  await Promise.all(workers);
  return out;
}

/** Customer ids of collection cases (all statuses), at most `max`, in first-seen order. */
export async function caseCustomers(
  c: Pick<ServiceClients, "collections">,
  max: number,
): Promise<{ ids: string[]; truncated: boolean }> {
  const ids = new Set<string>();
  let pageToken = "";
  for (let page = 0; page < 20; page++) {
    const res = await c.collections.listCases({ pageSize: 200, pageToken });
    for (const k of res.cases) {
      if (ids.size >= max) return { ids: [...ids], truncated: true };
      ids.add(k.customerId);
    }
    if (!res.nextPageToken) break;
    pageToken = res.nextPageToken;
  }
  return { ids: [...ids], truncated: false };
}

/** Notifications by channel and status over the customers with collection cases. */
export async function notificationCounts(
  c: Pick<ServiceClients, "collections" | "notification">,
  maxCustomers = 300,
): Promise<{ rows: ChannelStatusCount[]; customers: number; truncated: boolean }> {
  const { ids, truncated } = await caseCustomers(c, maxCustomers);
  const lists = await mapLimit(ids, 8, (customerId) =>
    c.notification.listNotifications({ customerId, pageSize: 200 }).then((r) => r.notifications),
  );
  return { rows: countByChannelAndStatus(lists.flat()), customers: ids.length, truncated };
}

/** Everything the dashboard shows; each part is null (with its error in `unavailable`) when its service failed. */
export async function portfolioView(c: ServiceClients) {
  const [stats, outcomes, notes] = await Promise.allSettled([
    c.billing.getPortfolioStats({ inflowDays: 45, trendDays: 60 }),
    c.collections.getCollectionsStats({}),
    notificationCounts(c),
  ]);
  const unavailable: string[] = [];
  if (stats.status === "rejected") unavailable.push("billing");
  if (outcomes.status === "rejected") unavailable.push("collections");
  if (notes.status === "rejected") unavailable.push("notification");
  const opts = { alwaysEmitImplicit: true } as const;
  return {
    portfolio:
      stats.status === "fulfilled"
        ? toJson(billing.GetPortfolioStatsResponseSchema, stats.value, opts)
        : null,
    collections:
      outcomes.status === "fulfilled"
        ? toJson(collections.GetCollectionsStatsResponseSchema, outcomes.value, opts)
        : null,
    notifications: notes.status === "fulfilled" ? notes.value : null,
    unavailable,
  };
}
