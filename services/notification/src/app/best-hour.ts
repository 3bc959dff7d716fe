import { type BestHour, bestHour } from "../domain/schedule";
import type { EngagementRepository } from "./ports";
import type { NotificationSettings } from "./settings";

/** The customer's current best hour from stored engagement (lookback per settings). */
export async function loadBestHour(
  engagements: EngagementRepository,
  customerId: string,
  now: Date,
  s: NotificationSettings,
): Promise<BestHour> {
  const since = new Date(now.getTime() - s.model.lookbackDays * 86_400_000);
  return bestHour(await engagements.listSince(customerId, since), now, s.model, s.window);
}
