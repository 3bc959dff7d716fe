/**
 * The fault scenarios of the book script (src/book.ts): one business day of a seeded book — end-of-day, the
 * Overdue burst, the due wave, payments — on the five services as processes and a Kafka broker and database of
 * the file's own. `bookSuite` is called by a test file with the scenarios it plays: the fault-free run of the
 * script is played once per file (beforeAll); each scenario plays the same script with one fault and must show
 * the same effects: nothing lost, nothing twice. The scenarios are spread over two files so that the fault
 * project can run two at a time (each file has its own broker and database, so one file's outage never
 * touches the other's platform).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { billing } from "@whiteslip/contracts";
import { addDays } from "@whiteslip/core";
import { runEndOfDay } from "@whiteslip/ops";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BOOK_DATE, BOOK_SIZE, probes, runBook, touchedOnBookDate } from "./book";
import { runs } from "./pending";
import { type FaultInfra, killWhen, type ScriptRun, whenReached } from "./run";
import { judge, startFaultInfra } from "./scenario";

/** The book's scenarios, by the key a file names them with. */
export const BOOK_SCENARIOS = {
  billing: `kill -9 billing in the middle of end-of-day over ${BOOK_SIZE} accounts, restart`,
  collections: "kill -9 collections while cases open from an Overdue burst",
  reporting: "kill -9 credit-reporting while score changes apply",
  notification: "kill -9 notification in the middle of dispatching a due wave",
  kafka: "the Kafka broker stopped for 30 s during end-of-day, then restarted",
  database: "the database stopped for 60 s while payments flow, then restarted",
  rerun: "a second end-of-day call and a Job retry right after a completed run (no early close)",
} as const;
export type BookScenario = keyof typeof BOOK_SCENARIOS;

/**
 * Declares a file's suite: `accounts` in the book (the billing kill needs at least 2,000; the others prove the same
 * with fewer and take less of the suite's time), `tag` naming its runs, and the scenarios it plays.
 */
export function bookSuite(opts: { title: string; tag: string; accounts: number; scenarios: BookScenario[] }): void {
  const { tag, accounts } = opts;
  const wanted = new Set<string>(opts.scenarios.map((k) => BOOK_SCENARIOS[k]));
  if (opts.scenarios.includes("billing") && accounts < BOOK_SIZE) throw new Error(`the billing kill needs a book of at least ${BOOK_SIZE} accounts`);
  describe(opts.title, () => {
    let infra: FaultInfra & { stop(): Promise<void> };
    let baseline: ScriptRun;
    const third = (n: number | undefined) => Math.max(1, Math.ceil((n ?? 0) / 3));

    beforeAll(async () => {
      infra = await startFaultInfra();
      baseline = await runBook(infra, { tag: `${tag}-base`, accounts });
      process.stdout.write(`\nfault-free run of the book: ${JSON.stringify(baseline.figures)}\n${baseline.story.map((l) => `    ${l}`).join("\n")}\n`);
    }, 900_000);
    afterAll(async () => infra?.stop());

    const scenario = (name: string, play: () => Promise<{ run: ScriptRun; conditions: [boolean, string][] }>) =>
      it.runIf(wanted.has(name) && runs(name))(name, async () => {
        const { run, conditions } = await play();
        const r = judge(name, baseline, run, conditions);
        expect(r.failures, r.failures.join("\n")).toEqual([]);
      }, 900_000);

    scenario(BOOK_SCENARIOS.billing, async () => {
      let kill = { at: 0, total: accounts };
      const run = await runBook(infra, {
        tag: `${tag}-billing`,
        accounts,
        baseline: baseline.figures,
        hooks: { eod: async (ctx) => void (kill = await killWhen(ctx, "billing", "accounts closed by end-of-day", () => probes.eodProcessed(ctx), Math.floor(touchedOnBookDate(accounts) * 0.4), touchedOnBookDate(accounts))) },
      });
      return { run, conditions: [[kill.at < kill.total, `billing was killed after ${kill.at} of ${kill.total} accounts`]] };
    });

    scenario(BOOK_SCENARIOS.collections, async () => {
      const total = baseline.figures.cases ?? 0;
      let kill = { at: 0, total };
      const run = await runBook(infra, {
        tag: `${tag}-collections`,
        accounts,
        baseline: baseline.figures,
        hooks: { eod: async (ctx) => void (kill = await killWhen(ctx, "collections", "cases opened", () => probes.cases(ctx), third(total), total)) },
      });
      return { run, conditions: [[kill.at < kill.total, `collections was killed after ${kill.at} of ${kill.total} cases`]] };
    });

    scenario(BOOK_SCENARIOS.reporting, async () => {
      const total = baseline.figures.scoredAccounts ?? 0;
      let kill = { at: 0, total };
      const run = await runBook(infra, {
        tag: `${tag}-reporting`,
        accounts,
        baseline: baseline.figures,
        hooks: { eod: async (ctx) => void (kill = await killWhen(ctx, "credit-reporting", "accounts re-scored", () => probes.scoredAccounts(ctx), third(total), total)) },
      });
      return { run, conditions: [[kill.at < kill.total, `credit-reporting was killed after ${kill.at} of ${kill.total} re-scored accounts`]] };
    });

    scenario(BOOK_SCENARIOS.notification, async () => {
      const total = baseline.figures.wave ?? 0;
      let kill = { at: 0, total };
      let lookups: () => string = () => "";
      const run = await runBook(infra, {
        tag: `${tag}-notification`,
        accounts,
        baseline: baseline.figures,
        hooks: {
          wave: async (ctx) => {
            const before = ctx.p.sandbox.messages.length;
            const k = await killWhen(ctx, "notification", "wave messages at the sinks", async () => ctx.p.sandbox.messages.length - before, third(total), total);
            kill = k;
            // what the restarted notification asked the providers about the sends the kill cut off
            const sandbox = ctx.p.sandbox;
            lookups = () => {
              const by = (ch: string, found: boolean) => sandbox.lookups.filter((l) => (ch === "EMAIL") === (l.channel === "EMAIL") && l.found === found).length;
              return `recovery lookups: email event log ${by("EMAIL", true)} found / ${by("EMAIL", false)} not found (then sent); idempotency keys ${by("HTTP", true)} found / ${by("HTTP", false)} not found; ${sandbox.requests.filter((r) => r.replayed).length} HTTP requests replayed by key`;
            };
          },
        },
      });
      run.story.push(`    ${lookups()}`);
      return { run, conditions: [[kill.at < kill.total, `notification was killed after ${kill.at} of ${kill.total} wave messages`]] };
    });

    scenario(BOOK_SCENARIOS.kafka, async () => {
      let at = 0;
      const run = await runBook(infra, {
        tag: `${tag}-kafka`,
        accounts,
        baseline: baseline.figures,
        hooks: {
          eod: async (ctx) => {
            at = await whenReached("accounts closed by end-of-day", () => probes.eodProcessed(ctx), Math.floor(touchedOnBookDate(accounts) * 0.2));
            await ctx.infra.local.kafka.stop();
            ctx.note(`Kafka stopped at ${at} of ${touchedOnBookDate(accounts)} accounts with work`);
            await sleep(30_000); // the length of the outage is the fault itself
            await ctx.infra.local.kafka.start();
            ctx.note("Kafka started again (same port, same data)");
          },
        },
      });
      return { run, conditions: [[at < touchedOnBookDate(accounts), `Kafka was stopped after ${at} of ${touchedOnBookDate(accounts)} accounts with work`]] };
    });

    scenario(BOOK_SCENARIOS.database, async () => {
      let at = 0;
      const run = await runBook(infra, {
        tag: `${tag}-database`,
        accounts,
        baseline: baseline.figures,
        hooks: {
          payments: async (ctx, flow) => {
            at = await flow.holdAfter(10);
            await ctx.infra.local.database.stop();
            ctx.note(`database stopped after ${at} of ${baseline.figures.payments} payments; the others are sent into the outage`);
            flow.release();
            await sleep(60_000); // the length of the outage is the fault itself
            await ctx.infra.local.database.start();
            ctx.note("database started again (same port, same data)");
          },
        },
      });
      return { run, conditions: [[at < (baseline.figures.payments ?? 0), `the database was stopped after ${at} of ${baseline.figures.payments} payments`]] };
    });

    scenario(BOOK_SCENARIOS.rerun, async () => {
      const next = addDays(BOOK_DATE, 1);
      let second: billing.EndOfDayStatus | undefined;
      let retry = "";
      let early = "";
      let after = "";
      const run = await runBook(infra, {
        tag: `${tag}-rerun`,
        accounts,
        baseline: baseline.figures,
        hooks: {
          afterEod: async (ctx) => {
            // 00:06 the next night is what the issue describes; here: right after the 01:00 run, D+1 has not ended
            second = (await ctx.p.clients.billing.runEndOfDay({ businessDate: BOOK_DATE, async: false })).run?.status;
            ctx.note(`second RunEndOfDay(${BOOK_DATE}): ${second === undefined ? "no run" : billing.EndOfDayStatus[second]}`);
            // the CronJob's retry: whiteslip-ops eod with no date closes the next day only once it has ended
            retry = await runEndOfDay(ctx.p.clients, { pollMs: 50 }).then(
              (r) => `answered ${r.businessDate} ${billing.EndOfDayStatus[r.status]}`,
              (e: Error) => `failed: ${e.message.slice(0, 160)}`,
            );
            ctx.note(`Job retry (whiteslip-ops eod, no date): ${retry}`);
            early = await ctx.p.clients.billing.runEndOfDay({ businessDate: next, async: false }).then(
              (r) => `ran: ${r.run ? billing.EndOfDayStatus[r.run.status] : "no run"}`,
              (e: Error & { reason?: string }) => `refused ${e.reason ?? e.message.slice(0, 120)}`,
            );
            ctx.note(`RunEndOfDay(${next}) before ${next} has ended: ${early}`);
            const bd = await ctx.p.clients.billing.getBusinessDate({});
            after = `business date ${bd.businessDate}, last completed ${bd.lastCompletedDate}`;
            ctx.note(after);
          },
        },
      });
      return {
        run,
        conditions: [
          [second === billing.EndOfDayStatus.COMPLETED, `the second call for ${BOOK_DATE} answers its completed run (got ${second})`],
          [retry === `answered ${BOOK_DATE} COMPLETED`, `the Job retry closes nothing new: it answers ${BOOK_DATE}'s completed run (${retry})`],
          [early === "refused EOD_DAY_NOT_ENDED", `RunEndOfDay(${next}) is refused until ${next} has ended (${early})`],
          [after === `business date ${next}, last completed ${BOOK_DATE}`, `${next} is still open (${after})`],
        ],
      };
    });
  });
}
