/**
 * The portfolio dashboard's data: billing's portfolio stats (delinquency by bucket, roll rates, charge-off trend,
 * expected inflows), collections' outcomes per strategy (champion vs challenger), and notifications by channel and
 * status over the whole portfolio (notification's GetNotificationStats).
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

/** The chart's rows from notification's portfolio counts, sorted by channel then status. */
export function chartRows(counts: readonly Pick<notification.ChannelStatusCount, "channel" | "status" | "count">[]): ChannelStatusCount[] {
  return counts
    .map((c) => ({
      channel: shortName(notification.ChannelSchema, c.channel, "CHANNEL_"),
      status: shortName(notification.DeliveryStatusSchema, c.status, "DELIVERY_STATUS_"),
      count: Number(c.count),
    }))
    .filter((r) => r.count > 0)
    .sort((a, b) => a.channel.localeCompare(b.channel) || a.status.localeCompare(b.status));
}

/** Notifications by channel and status over the whole portfolio (notification's GetNotificationStats). */
export async function notificationCounts(
  c: Pick<ServiceClients, "notification">,
): Promise<{ rows: ChannelStatusCount[]; total: number }> {
  const r = await c.notification.getNotificationStats({});
  return { rows: chartRows(r.counts), total: Number(r.total) };
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
