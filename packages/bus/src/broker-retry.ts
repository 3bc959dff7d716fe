import { isInfrastructureError } from "@whiteslip/core";
import { backoffDelay } from "./failure";

/**
 * True when a broker call failed for a reason that passes: the platform's infrastructure classifier (kafkajs'
 * retriable protocol errors such as a leader that moved, connection errors, timeouts), or an aggregate of such
 * errors — kafkajs' "Topic creation errors" carries one per topic, e.g. REQUEST_TIMED_OUT from a busy controller.
 */
export function isTransientBrokerError(e: unknown): boolean {
  if (isInfrastructureError(e)) return true;
  const errors = (e as { errors?: unknown })?.errors;
  if (Array.isArray(errors) && errors.length > 0)
    return errors.every((x) => isInfrastructureError(x) || /already exists/i.test(String((x as Error)?.message)));
  return false;
}

/**
 * Runs a broker administration call again, with capped jittered backoff, while it fails transiently — for at most
 * `deadlineMs` (default 2 minutes; then the last error is thrown: a service's start-up fails and Kubernetes
 * restarts it, an ops command reports it). A busy broker's REQUEST_TIMED_OUT or a metadata refresh that lags a
 * new topic's leader is not a reason to give up at once.
 */
export async function retryBroker<T>(
  fn: () => Promise<T>,
  opts: { deadlineMs?: number; baseMs?: number; maxMs?: number; onRetry?: (e: unknown, attempt: number, delayMs: number) => void } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.deadlineMs ?? 120_000);
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const delay = backoffDelay(attempt, opts.baseMs ?? 200, opts.maxMs ?? 5_000);
      if (!isTransientBrokerError(e) || Date.now() + delay > deadline) throw e;
      opts.onRetry?.(e, attempt, delay);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
