/**
 * Scenarios that are not yet green on main, each with what it waits for. They are skipped in `npm test`
 * (main never lands red) and run with `FAULT_ALL=1`; whoever sees one green after their fix deletes its line.
 */
export const WAITING: Readonly<Record<string, string>> = {
  "the Kafka broker stopped for 30 s during end-of-day, then restarted": "#13.1 (infrastructure failures retried, never dead-lettered)",
  "the database stopped for 60 s while payments flow, then restarted": "#13.1 (consumers pause and retry) and #13.6 (UNAVAILABLE to callers)",
  "a second end-of-day call and a Job retry right after a completed run (no early close)": "#13.4 (D closes only after D has ended)",
};

/** True when `scenario` should run in this test run. */
export function runs(scenario: string): boolean {
  return process.env.FAULT_ALL === "1" || WAITING[scenario] === undefined;
}
