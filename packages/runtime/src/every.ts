import { isInfrastructureError } from "@whiteslip/core";
import type { Logger } from "@whiteslip/telemetry";
import type { Background } from "./service";

/** Options of a periodic job. */
export interface EveryOptions {
  /** Name in logs. */
  name: string;
  /** Mean time between the end of one round and the start of the next. */
  intervalMs: number;
  /** Spread of each wait as a fraction of the interval (0.2 = ±20%), so replicas do not run in lockstep. Default 0.2. */
  jitter?: number;
  /** Run a first round at once on start (default: after one interval). */
  runAtStart?: boolean;
  /** Where a failed round is reported (infrastructure trouble at warn, anything else at error). */
  logger?: Pick<Logger, "warn" | "error">;
}

/** A started-or-stoppable periodic job. */
export interface Periodic extends Background {
  /** Runs a round now unless one is in flight (then waits for that one); resolves when it ends. */
  runNow(): Promise<void>;
}

/**
 * The one helper for periodic jobs: at most one round in flight (a slow round
 * delays the next instead of overlapping it), a jittered wait between rounds,
 * a failed round logged and the schedule kept, and a clean stop that aborts the
 * round's signal and waits for it to end. Timers never keep the process alive.
 * A round that resolves `true` says "there is more to do now" (it found a full batch): the next round starts at
 * once instead of after the wait.
 */
export function every(opts: EveryOptions, round: (signal: AbortSignal) => Promise<void | boolean>): Periodic {
  const jitter = Math.min(1, Math.max(0, opts.jitter ?? 0.2));
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  let abort = new AbortController();
  let running = false;

  const wait = () => opts.intervalMs * (1 - jitter + 2 * jitter * Math.random());
  const schedule = (ms: number) => {
    if (!running) return;
    timer = setTimeout(() => void tick(), ms);
    timer.unref();
  };
  const tick = (): Promise<void> => {
    if (inFlight) return inFlight;
    if (timer) clearTimeout(timer);
    timer = undefined;
    const signal = abort.signal;
    inFlight = (async () => {
      let more = false;
      try {
        more = (await round(signal)) === true;
      } catch (e) {
        if (!signal.aborted) {
          const fields = { job: opts.name, err: (e as Error).message };
          if (isInfrastructureError(e)) opts.logger?.warn(fields, `${opts.name}: round failed on infrastructure; retrying next round`);
          else opts.logger?.error({ ...fields, stack: (e as Error).stack }, `${opts.name}: round failed`);
        }
      } finally {
        inFlight = undefined;
        schedule(more && !signal.aborted ? 0 : wait());
      }
    })();
    return inFlight;
  };

  return {
    start() {
      if (running) return;
      running = true;
      abort = new AbortController();
      schedule(opts.runAtStart ? 0 : wait());
    },
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      timer = undefined;
      abort.abort();
      await inFlight;
    },
    runNow: () => tick(),
  };
}
