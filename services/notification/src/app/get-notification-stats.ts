import { addDays, isLocalDate, type LocalDate, Violations, zonedInstant } from "@whiteslip/core";
import type { ChannelStatusCount, MessageRepository } from "./ports";

/**
 * Portfolio-wide counts by channel and delivery status, of the messages created between two business dates, and the
 * dispatcher's backlog at `now` (messages due and not sent yet, whatever the range).
 */
export async function getNotificationStats(
  messages: Pick<MessageRepository, "countByChannelStatus" | "countDue">,
  timeZone: string,
  req: { fromDate: string; toDate: string },
  now: Date,
): Promise<{ counts: ChannelStatusCount[]; total: number; dueNow: number }> {
  const v = new Violations()
    .check(req.fromDate !== "" && !isLocalDate(req.fromDate), "from_date", `must be a date YYYY-MM-DD, got ${JSON.stringify(req.fromDate)}`)
    .check(req.toDate !== "" && !isLocalDate(req.toDate), "to_date", `must be a date YYYY-MM-DD, got ${JSON.stringify(req.toDate)}`);
  v.check(
    isLocalDate(req.fromDate) && isLocalDate(req.toDate) && req.fromDate > req.toDate,
    "to_date",
    `must not be before from_date (${req.fromDate})`,
  ).throwIfAny();
  const from = req.fromDate ? zonedInstant(req.fromDate as LocalDate, 0, 0, timeZone) : undefined;
  const to = req.toDate ? zonedInstant(addDays(req.toDate as LocalDate, 1), 0, 0, timeZone) : undefined;
  const counts = (await messages.countByChannelStatus({ from, to })).sort(
    (a, b) => a.channel.localeCompare(b.channel) || a.status.localeCompare(b.status),
  );
  return { counts, total: counts.reduce((s, c) => s + c.count, 0), dueNow: await messages.countDue(now) };
}
