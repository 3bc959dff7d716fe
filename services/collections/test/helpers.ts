/** Shared helpers of collections' integration tests (real Kafka, database and gRPC). */

import type { DescMessage, MessageInitShape } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import { type EventBus, encodeEvent } from "@whiteslip/bus";
import { billing, type TopicSpec } from "@whiteslip/contracts";

/** Polls `fn` until it returns a truthy value (or throws after `timeoutMs`). */
export async function waitFor<T>(
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs = 20_000,
  what = "condition",
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until)
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Publishes one event as the owning service would (CloudEvents binary mode, key = account id). */
export async function publish<S extends DescMessage>(
  bus: EventBus,
  spec: TopicSpec<S>,
  id: string,
  key: string,
  data: MessageInitShape<S>,
  time = new Date(),
): Promise<void> {
  await bus.publish([encodeEvent(spec, { id, key, time, data })]);
}

/** An Overdue payload. */
export function overdueData(accountId: string, businessDate: string, dpd: number) {
  return create(billing.OverdueSchema, {
    accountId,
    customerId: `cus-${accountId}`,
    businessDate,
    daysPastDue: dpd,
    bucket: dpd <= 30 ? billing.DelinquencyBucket.M1 : billing.DelinquencyBucket.M2,
    overdueFen: 50_000n,
    totalBalanceFen: 80_000n,
    delinquencyStartDate: "2026-03-09",
    oldestDueDate: "2026-03-08",
    productCode: "baitiao-standard",
  });
}
