/**
 * Scenarios that are not yet green on main, each with what it waits for. They are skipped in `npm test`
 * (main never lands red) and run with `FAULT_ALL=1`; whoever sees one green after their fix deletes its line.
 */
export const WAITING: Readonly<Record<string, string>> = {
  "kill -9 billing in the middle of end-of-day over 2000 accounts, restart": "#13.4 (lease, resume by the retried Job); not yet seen green",
  "kill -9 credit-reporting while score changes apply": "not yet seen green (the shared machine ran at load 50–110 this session)",
  "kill -9 notification in the middle of dispatching a due wave": "#13.5 (claims with fencing, provider idempotency, Message-ID)",
  "the Kafka broker stopped for 30 s during end-of-day, then restarted": "#13.1 (infrastructure failures retried, never dead-lettered)",
  "the database stopped for 60 s while payments flow, then restarted": "#13.1 (consumers pause and retry) and #13.6 (UNAVAILABLE to callers)",
  "a second end-of-day call and a Job retry right after a completed run (no early close)": "#13.4 (D closes only after D has ended)",
  "poison messages and a handler bug among good messages":
    "collections opens a case from an Overdue with business_date 2027-02-31 and days_past_due −7 (seen 00:11 UTC: the real Overdue's case-opened/closed events then differ for those accounts); undecodable ones are dead-lettered as they should",
};

/** True when `scenario` should run in this test run. */
export function runs(scenario: string): boolean {
  return process.env.FAULT_ALL === "1" || WAITING[scenario] === undefined;
}
