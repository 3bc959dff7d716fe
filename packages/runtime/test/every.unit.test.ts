import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { every } from "../src/index";

// Fake timers: "nothing is scheduled after stop" is proven by moving time 10 s on (2,000 intervals), not by a wait.
beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

it("every: one round in flight at a time, a failing round keeps the schedule, stop aborts and waits", async () => {
  let concurrent = 0;
  let maxConcurrent = 0;
  let rounds = 0;
  let release: (() => void) | undefined;
  const errors: string[] = [];
  const job = every({ name: "t", intervalMs: 5, jitter: 0.5, logger: { warn: () => {}, error: (o: object) => errors.push(JSON.stringify(o)) } as never }, async (signal) => {
    concurrent++;
    maxConcurrent = Math.max(maxConcurrent, concurrent);
    rounds++;
    try {
      if (rounds === 2) throw new Error("boom");
      if (rounds === 4) await new Promise<void>((r) => { release = r; signal.addEventListener("abort", () => r()); });
    } finally {
      concurrent--;
    }
  });
  job.start();
  expect(rounds).toBe(0); // the first round comes after one interval, not at start
  // Round 4 blocks; asking for a round meanwhile joins the one in flight instead of starting another.
  for (let i = 0; i < 100 && !release; i++) await vi.advanceTimersByTimeAsync(5);
  expect(release).toBeDefined();
  // While round 4 blocks, a long stretch of time starts no other round.
  await vi.advanceTimersByTimeAsync(1_000);
  expect(rounds).toBe(4);
  const joined = job.runNow();
  expect(rounds).toBe(4);
  const stopped = job.stop(); // aborts round 4's signal, resolves when it has ended
  await stopped;
  await joined;
  expect(maxConcurrent).toBe(1);
  expect(errors).toHaveLength(1);
  expect(errors[0]).toContain("boom");
  const after = rounds;
  await job.runNow(); // a round can still be run by hand after stop
  expect(rounds).toBe(after + 1);
  await vi.advanceTimersByTimeAsync(10_000); // but nothing is scheduled: 2,000 intervals later, no other round
  expect(rounds).toBe(after + 1);
  expect(vi.getTimerCount()).toBe(0);
});

it("every: a round that reports more work is followed at once, the others after the interval", async () => {
  const startedAt: number[] = [];
  let left = 3; // three full batches, then nothing
  const job = every({ name: "t", intervalMs: 1_000, jitter: 0 }, async () => {
    startedAt.push(Date.now());
    return left-- > 0;
  });
  const t0 = Date.now();
  job.start();
  await vi.advanceTimersByTimeAsync(1_000); // the first round
  await vi.advanceTimersByTimeAsync(3); // then three more at once (a zero delay is Node's 1 ms)
  expect(startedAt.map((t) => t - t0)).toEqual([1_000, 1_001, 1_002, 1_003]);
  await vi.advanceTimersByTimeAsync(999);
  expect(startedAt).toHaveLength(4); // an empty round waits the interval
  await vi.advanceTimersByTimeAsync(1);
  expect(startedAt).toHaveLength(5);
  await job.stop();
});
