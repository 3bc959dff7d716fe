/** Consumer of credit's line events: CreditLineOpened opens the account; CreditLineChanged updates the limit. Idempotent by event id. */
import { subscribe, type Subscription } from "@whiteslip/bus";
import { Topics } from "@whiteslip/contracts";
import { isDomainError } from "@whiteslip/core";
import type { Logger } from "@whiteslip/telemetry";
import { applyCreditLineChanged, applyCreditLineOpened } from "../app/apply-credit-line-event";
import type { BillingDeps } from "../app/ports";

/** Subscriptions of billing's consumer group. */
export function creditLineSubscriptions(deps: BillingDeps, logger: Logger): Subscription[] {
  return [
    subscribe(Topics.CreditLineOpened, async (e) => {
      try {
        const r = await applyCreditLineOpened(deps, e.data);
        logger.info({ eventId: e.id, accountId: e.data.creditLineId, outcome: r }, "credit line opened");
      } catch (err) {
        // An account with the same id but other terms: nothing to retry; dead-letter with the reason.
        if (isDomainError(err) && err.kind === "already_exists") {
          logger.warn({ eventId: e.id, accountId: e.data.creditLineId }, "account exists with other terms");
          return;
        }
        throw err;
      }
    }),
    subscribe(Topics.CreditLineChanged, async (e) => {
      const r = await applyCreditLineChanged(deps, e.id, { creditLineId: e.data.creditLineId, limitFen: e.data.limitFen });
      logger.info({ eventId: e.id, accountId: e.data.creditLineId, outcome: r }, "credit line changed");
    }),
  ];
}
