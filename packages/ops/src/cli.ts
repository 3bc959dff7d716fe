/**
 * whiteslip-ops — the operator's command line. From the repository: `npm run ops -- <command> …`
 * (scripts/ops.sh); in the image: `node --import tsx packages/ops/src/cli.ts <command> …`; `--help` on the
 * program and on every command.
 *
 *   eod [--date YYYY-MM-DD]        run billing's end-of-day (default: every business date that has ended
 *                                  and is not closed yet; none → the last completed run, exit 0)
 *   advance [--days N]             advance N business days: move the clock past the end of the day
 *                                  (and billing's cutoff), close the day that ended, move to 10:00
 *   tail [topic…] [--from-beginning] [--key ACCOUNT]   print events decoded (CloudEvents + payload JSON)
 *   account <accountId>            billing summary, statements, restrictions
 *   case <caseId | --account ID>   collection case with history
 *   score <accountId>              internal credit score and history
 *   bureau-file --as-of D --format METRO2|PBOC --out F [--requested-by NAME]
 *                                  write the bureau file of an as-of date to disk (mode 0600; the download
 *                                  is audited by credit-reporting under the operator's name)
 *   portfolio [--recount]          delinquency, roll rates, charge-offs, inflows; --recount: recount the last
 *                                  completed date from every account and report any difference (exit 1)
 *   pii <keys|add-key|activate|retire> [id] [--index] [--file F]   rotate personal-data keys (pii-keys.ts)
 *   dlq list                       every dead-letter topic of the platform with its message count
 *   dlq show <topic> [--group G] [--limit N]   dead letters decoded (attributes, dlq headers, payload)
 *   dlq replay <topic> --group G [--id CE_ID…] redeliver dead letters to that consumer group only
 *   reconcile list [--operator-only]            notification's messages whose send was lost and is not yet resolved
 *   reconcile resolve <id> --delivered|--resend|--lookup [--note TEXT]  resolve one with the provider's log as evidence
 *
 *   whiteslip-ops kafka-provision [--print]     create the platform's topics and Kafka ACLs (--print: list the ACLs only)
 *
 * Service addresses: CREDIT_ADDR, BILLING_ADDR, NOTIFICATION_ADDR, COLLECTIONS_ADDR,
 * CREDIT_REPORTING_ADDR (default 127.0.0.1:50051…50055); Kafka: KAFKA_BROKERS (and TOPIC_PREFIX when the platform uses one),
 * KAFKA_SASL_MECHANISM + KAFKA_SASL_USERNAME + KAFKA_SASL_PASSWORD or KAFKA_CREDENTIALS_FILE (the admin or an ops principal);
 * CLOCK_FILE: the local run's shared clock (advance moves it). Mutual TLS: TLS_CA_FILE, TLS_CERT_FILE, TLS_KEY_FILE
 * (default: the local run's `ops` certificate in $WHITESLIP_CACHE/pki).
 *
 * Parsing is commander's (docs/architecture.md, "The ops CLI"); the commands' work and output are below.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { toJson } from "@bufbuild/protobuf";
import { kafkaSaslFromEnv } from "@whiteslip/config";
import {
  billing,
  collections,
  credit,
  creditreporting,
  KAFKA_SERVICE_PRINCIPALS,
  notification,
  platformAcls,
} from "@whiteslip/contracts";
import { addDays, type LocalDate, zonedInstant } from "@whiteslip/core";
import { isGrpcError } from "@whiteslip/grpc";
import { setFileClock } from "@whiteslip/runtime";
import { Command } from "commander";
import { addressesFromEnv, clientCredentialsFromEnv, closeClients, type PlatformClients, platformClients } from "./clients";
import {
  listDeadLetterTopics,
  printable,
  readDeadLetters,
  replayDeadLetters,
  resolveDeadLetterTopic,
} from "./dlq";
import { endOfDayNotBefore, nextBusinessDate, progressLine, runEndOfDay, shardFromEnv } from "./end-of-day";
import { provisionKafka } from "./kafka";
import { piiCommand } from "./pii-keys";
import { recountReport } from "./portfolio";
import { resolveTopics, tail } from "./tail";

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
/** Where the platform's Kafka is, its TOPIC_PREFIX, and the principal to act as (KAFKA_SASL_* / KAFKA_CREDENTIALS_FILE). */
const kafkaTarget = () => {
  const sasl = kafkaSaslFromEnv();
  return {
    brokers: (process.env.KAFKA_BROKERS ?? "127.0.0.1:9092").split(","),
    topicPrefix: process.env.TOPIC_PREFIX ?? "",
    ...(sasl ? { sasl } : {}),
  };
};
const collect = (value: string, previous: string[]) => [...previous, value];

/** Consumer groups that differ from the service names: `CREDIT_CONSUMER_GROUP`, `CREDIT_REPORTING_CONSUMER_GROUP`, … */
function consumerGroupsFromEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of KAFKA_SERVICE_PRINCIPALS) {
    const v = env[`${s.toUpperCase().replace("-", "_")}_CONSUMER_GROUP`];
    if (v) out[s] = v;
  }
  return out;
}

/** Runs `work` with the platform's gRPC clients (addresses from the environment) and closes them after. */
async function withClients(work: (clients: PlatformClients) => Promise<void>): Promise<void> {
  const clients = platformClients(addressesFromEnv(), 10_000, clientCredentialsFromEnv("ops"));
  try {
    await work(clients);
  } finally {
    closeClients(clients);
  }
}

const ENVIRONMENT = `
Environment:
  CREDIT_ADDR, BILLING_ADDR, NOTIFICATION_ADDR, COLLECTIONS_ADDR, CREDIT_REPORTING_ADDR
                 service addresses (default 127.0.0.1:50051…50055, the local run's ports)
  KAFKA_BROKERS  Kafka bootstrap servers (default 127.0.0.1:9092); TOPIC_PREFIX when the platform uses one
  KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD or KAFKA_CREDENTIALS_FILE
                 the Kafka principal (the admin) for kafka-provision
  CLOCK_FILE     the local run's shared clock, moved by advance (the start output prints it)

Every command has --help. From the repository: npm run ops -- <command> [options]
(npm run -s ops -- … drops npm's banner when piping the JSON).`;

/**
 * The program: every command, its arguments and options, and its help. Parsing only — each action calls the
 * same helpers as before. Tests parse with it (a `preAction` hook stops before the work) to check that the
 * documented commands are valid.
 */
export function buildProgram(): Command {
  const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  const program = new Command("whiteslip-ops")
    .description(
      "Operate a running Whiteslip platform: end-of-day, business days, events, dead letters, accounts, keys.",
    )
    .version(version, "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .helpCommand("help [command]", "show help for a command")
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText("after", ENVIRONMENT);

  program
    .command("eod")
    .description(
      "close the business days that have ended and are not closed yet, with progress (or one --date); none left: prints the last completed run, exit 0",
    )
    .option("--date <YYYY-MM-DD>", "business date to run (Asia/Shanghai)")
    .option("--shard-index <n>", "the shard to run, 0-based (default JOB_COMPLETION_INDEX: an Indexed Job's pod runs its own)")
    .option("--shard-count <n>", "shards the book is split into (default EOD_SHARD_COUNT, else 1)")
    .action(async (opts: { date?: string; shardIndex?: string; shardCount?: string }) => {
      const shard = shardFromEnv({
        ...process.env,
        ...(opts.shardIndex !== undefined ? { JOB_COMPLETION_INDEX: opts.shardIndex } : {}),
        ...(opts.shardCount !== undefined ? { EOD_SHARD_COUNT: opts.shardCount } : {}),
      });
      await withClients(async (clients) => {
        const run = await runEndOfDay(clients, {
          ...(opts.date ? { date: opts.date } : {}),
          ...shard,
          onProgress: (r) => process.stderr.write(`\r${progressLine(r)}`),
          onNothingToClose: (m) => process.stderr.write(`\n${m}`),
        });
        process.stderr.write("\n");
        print(toJson(billing.EndOfDayRunSchema, run));
      });
    });

  program
    .command("advance")
    .description(
      "move the platform N business days forward: for each, move the clock (CLOCK_FILE) past the end of the day and billing's cutoff, close the day, move to 10:00",
    )
    .option("--days <N>", "number of business days", "1")
    .action(async (opts: { days: string }) => {
      const days = Number(opts.days);
      if (!Number.isInteger(days) || days < 1)
        throw new Error(`--days must be a positive integer, got ${opts.days}`);
      await withClients((clients) => advance(clients, days, process.env.CLOCK_FILE));
    });

  program
    .command("tail")
    .description(
      "print events decoded (CloudEvents attributes + payload JSON) until Ctrl-C; all topics if none given",
    )
    .argument("[topics...]", "topics: short names (overdue, due-soon, DueSoon) or full names")
    .option("--from-beginning", "read each topic from its first retained event", false)
    .option("--key <accountId>", "only events with this key (an account id)")
    .action(async (topics: string[], opts: { fromBeginning: boolean; key?: string }) => {
      const ac = new AbortController();
      process.on("SIGINT", () => ac.abort());
      process.on("SIGTERM", () => ac.abort());
      const target = kafkaTarget();
      await tail({
        brokers: target.brokers,
        topics: resolveTopics(topics),
        fromBeginning: opts.fromBeginning,
        ...(opts.key ? { filterKey: opts.key } : {}),
        topicPrefix: target.topicPrefix,
        ...(target.sasl ? { sasl: target.sasl } : {}),
        signal: ac.signal,
      });
    });

  const dlq = program
    .command("dlq")
    .description(
      "dead letters (list | show | replay): list the DLQ topics, show them decoded, replay them to one consumer group",
    );
  dlq
    .command("list")
    .description("every dead-letter topic of the platform (under TOPIC_PREFIX) with its message count")
    .action(async () => {
      print(await listDeadLetterTopics(kafkaTarget()));
    });
  dlq
    .command("show")
    .description(
      "dead letters decoded: attributes, dlq headers (error, stack, attempts), payload; one JSON per line",
    )
    .argument(
      "<topic>",
      "source topic (short or full name) with --group, or the full <topic>.<group>.dlq name",
    )
    .option("--group <group>", "consumer group whose dead letters to show")
    .option("--limit <N>", "show only the last N")
    .action(async (topic: string, opts: { group?: string; limit?: string }) => {
      const target = kafkaTarget();
      const dead = resolveDeadLetterTopic(topic, opts.group, target.topicPrefix);
      const limit = opts.limit === undefined ? Number.POSITIVE_INFINITY : Number(opts.limit);
      if (!(limit > 0)) throw new Error(`--limit must be a positive integer, got ${opts.limit}`);
      const records = await readDeadLetters({ ...target, topic: dead.topic });
      for (const r of records.slice(-limit)) process.stdout.write(`${JSON.stringify(printable(r))}\n`);
      process.stderr.write(
        `${records.length} dead letter(s) in ${dead.topic}${records.length > limit ? `, last ${limit} shown` : ""}\n`,
      );
    });
  dlq
    .command("replay")
    .description(
      "redeliver dead letters to that consumer group only (all with a ce_id if no --id); audited on whiteslip.ops.dlq-replays.v1",
    )
    .argument("<topic>", "source topic (short or full name) or the full <topic>.<group>.dlq name")
    .requiredOption("--group <group>", "the one consumer group that receives the replay")
    .option("--id <ce_id>", "replay only this event id (repeatable)", collect, [] as string[])
    .action(async (topic: string, opts: { group: string; id: string[] }) => {
      print(await replayDeadLetters({ ...kafkaTarget(), topic, group: opts.group, ids: opts.id }));
    });

  const reconcile = program
    .command("reconcile")
    .description(
      "notification's sends whose outcome was lost (RECONCILE): list them, resolve one against the provider's log (services/notification/README.md, runbook)",
    );
  reconcile
    .command("list")
    .description("messages in RECONCILE, oldest first, with why and when the dispatcher asks the provider again")
    .option("--operator-only", "only those no automatic lookup will resolve", false)
    .action(async (opts: { operatorOnly: boolean }) => {
      await withClients(async (clients) => {
        const out: unknown[] = [];
        let pageToken = "";
        do {
          const r = await clients.notification.listReconciliations({ operatorOnly: opts.operatorOnly, pageSize: 200, pageToken });
          for (const n of r.notifications) out.push(toJson(notification.NotificationSchema, n));
          pageToken = r.nextPageToken;
        } while (pageToken);
        print(out);
        process.stderr.write(`${out.length} message(s) to reconcile\n`);
      });
    });
  reconcile
    .command("resolve")
    .description(
      "resolve one RECONCILE message: --delivered (the provider's log has it), --resend (it never got it), --lookup (ask the provider again now)",
    )
    .argument("<notificationId>")
    .option("--delivered", "the provider's log shows it accepted: record it delivered and publish its events", false)
    .option("--resend", "the provider never got it: send it now (same Message-ID / key; validity still applies)", false)
    .option("--lookup", "ask the provider again now", false)
    .option("--note <text>", "the evidence (required with --delivered and --resend)", "")
    .action(async (id: string, opts: { delivered: boolean; resend: boolean; lookup: boolean; note: string }) => {
      const chosen = [opts.delivered && "delivered", opts.resend && "resend", opts.lookup && "lookup"].filter(Boolean);
      if (chosen.length !== 1) throw new Error("give exactly one of --delivered, --resend, --lookup");
      const resolution = opts.delivered
        ? notification.Resolution.DELIVERED
        : opts.resend
          ? notification.Resolution.RESEND
          : notification.Resolution.LOOKUP;
      await withClients(async (clients) => {
        const r = await clients.notification.resolveReconciliation({
          notificationId: id,
          resolution,
          note: opts.note,
          actor: process.env.USER ?? "",
        });
        print(r.notification ? toJson(notification.NotificationSchema, r.notification) : null);
      });
    });

  program
    .command("account")
    .description("billing summary, statements and credit restrictions of an account")
    .argument("<accountId>")
    .action(async (id: string) => {
      await withClients(async (clients) => {
        const [summary, statements, restrictions] = await Promise.all([
          clients.billing.getAccountSummary({ accountId: id }),
          clients.billing.listStatements({ accountId: id, pageSize: 12 }),
          clients.credit.getRestrictions({ accountId: id }).catch(() => undefined),
        ]);
        print({
          account: toJson(billing.GetAccountSummaryResponseSchema, summary),
          statements: toJson(billing.ListStatementsResponseSchema, statements),
          restrictions: restrictions ? toJson(credit.GetRestrictionsResponseSchema, restrictions) : null,
        });
      });
    });

  program
    .command("case")
    .description("a collection case with its history, by case id or by account (--account)")
    .argument("[caseId]")
    .option("--account <accountId>", "the account's latest case")
    .action(async (caseIdArg: string | undefined, opts: { account?: string }) => {
      await withClients(async (clients) => {
        let caseId = caseIdArg;
        if (!caseId && opts.account) {
          const list = await clients.collections.listCases({ accountId: opts.account, pageSize: 1 });
          caseId = list.cases[0]?.caseId;
          if (!caseId) throw new Error(`no collection case for account ${opts.account}`);
        }
        if (!caseId) throw new Error("missing <caseId> (or --account <accountId>)");
        const c = await clients.collections.getCase({ caseId });
        print(toJson(collections.GetCaseResponseSchema, c));
      });
    });

  program
    .command("score")
    .description("internal credit score of an account and its history")
    .argument("<accountId>")
    .action(async (id: string) => {
      await withClients(async (clients) => {
        const [score, history] = await Promise.all([
          clients.creditReporting.getCreditScore({ accountId: id }),
          clients.creditReporting.listScoreHistory({ accountId: id, pageSize: 20 }),
        ]);
        print({
          score: toJson(creditreporting.GetCreditScoreResponseSchema, score),
          history: toJson(creditreporting.ListScoreHistoryResponseSchema, history),
        });
      });
    });

  program
    .command("bureau-file")
    .description(
      "write the bureau file (Metro 2 or the PBOC report) of an as-of date to a file: generated if it was not yet, the stored one otherwise; credit-reporting audits the download",
    )
    .requiredOption("--as-of <YYYY-MM-DD>", "as-of (business) date of the file")
    .option("--format <METRO2|PBOC>", "file format", "METRO2")
    .requiredOption("--out <file>", "where to write the bytes (created with mode 0600: the file holds personal data)")
    .option("--requested-by <name>", "operator named in the download audit (default: $USER)")
    .action(async (opts: { asOf: string; format: string; out: string; requestedBy?: string }) => {
      const format = opts.format.toUpperCase();
      if (format !== "METRO2" && format !== "PBOC") throw new Error(`--format must be METRO2 or PBOC, not ${opts.format}`);
      const requestedBy = opts.requestedBy ?? process.env.USER ?? "";
      if (requestedBy.trim() === "") throw new Error("--requested-by is required when $USER is not set (every download is audited)");
      await withClients(async (clients) => {
        const f = await clients.creditReporting.generateBureauFile({ asOfDate: opts.asOf, format, requestedBy });
        writeFileSync(opts.out, f.content, { mode: 0o600 });
        print({ out: opts.out, fileId: f.fileId, format: f.format, asOfDate: f.asOfDate, recordCount: f.recordCount, withheldCount: f.withheldCount, bytes: f.content.length, sha256: f.sha256 });
      });
    });

  const strategies = program
    .command("strategies")
    .description("collections' strategy table (show | history | promote): the table in force, its audit trail, promote a challenger");
  strategies
    .command("show")
    .description("the strategy table in force with its version")
    .action(async () => {
      await withClients(async (clients) => {
        const r = await clients.collections.getStrategies({});
        print(toJson(collections.StrategyTableVersionSchema, r.current!));
      });
    });
  strategies
    .command("history")
    .description("the strategy table's audit trail, newest first: version, kind, actor, time, reason")
    .option("--limit <N>", "at most N versions (default 20, at most 100)")
    .action(async (opts: { limit?: string }) => {
      const limit = opts.limit === undefined ? 20 : Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new Error(`--limit must be 1–100, got ${opts.limit}`);
      await withClients(async (clients) => {
        const r = await clients.collections.listStrategyChanges({ pageSize: limit });
        print(r.changes.map((c) => toJson(collections.StrategyChangeSchema, c)));
      });
    });
  strategies
    .command("promote")
    .description("promote a challenger to champion (a new audited version; the actor is this tool's verified identity)")
    .argument("<challengerId>")
    .requiredOption("--version <N>", "the version you read (strategies show); another stored version refuses")
    .requiredOption("--reason <text>", "why (recorded in the audit trail)")
    .option("--keep-former-champion", "keep the former champion as a challenger (control arm)")
    .action(async (challengerId: string, opts: { version: string; reason: string; keepFormerChampion?: boolean }) => {
      const expectedVersion = Number(opts.version);
      if (!Number.isInteger(expectedVersion) || expectedVersion < 1) throw new Error(`--version must be a version (≥ 1), got ${opts.version}`);
      await withClients(async (clients) => {
        const r = await clients.collections.promoteChallenger({
          challengerId,
          expectedVersion,
          reason: opts.reason,
          keepFormerChampion: opts.keepFormerChampion ?? false,
        });
        print(toJson(collections.StrategyChangeSchema, r.change!));
      });
    });

  program
    .command("portfolio")
    .description("portfolio: delinquency, roll rates, charge-offs, inflows")
    .option("--recount", "recount the last completed date's portfolio from every account (a full scan) and report every figure that differs from the maintained one; exit 1 if any")
    .action(async (opts: { recount?: boolean }) => {
      await withClients(async (clients) => {
        if (!opts.recount) {
          print(toJson(billing.GetPortfolioStatsResponseSchema, await clients.billing.getPortfolioStats({})));
          return;
        }
        const r = await recountReport(clients.billing);
        for (const l of r.lines) process.stderr.write(`${l}\n`);
        print(toJson(billing.RecountPortfolioResponseSchema, r.response));
        if (r.differences > 0) process.exitCode = 1;
      });
    });

  const pii = program
    .command("pii")
    .description(
      "personal-data key rotation (keys | add-key | activate | retire) on a keyring file; prints key ids, never keys",
    );
  const piiStep = (name: string, description: string, withId: boolean) => {
    const step = pii
      .command(name)
      .description(description)
      .option("--index", "the blind-index key instead of the encryption key", false)
      .option(
        "--file <keyring.json>",
        "a keyring file (a copy of the Secret's JSON); default: the local run's keyring",
      );
    if (withId) step.argument("<id>", "key id");
    step.action(async (...args: unknown[]) => {
      const id = withId ? (args[0] as string) : undefined;
      const opts = (withId ? args[1] : args[0]) as { index: boolean; file?: string };
      const code = await piiCommand({ sub: name, id, index: opts.index, file: opts.file }, (l) =>
        process.stdout.write(`${l}\n`),
      );
      if (code !== 0) process.exitCode = code;
    });
  };
  piiStep("keys", "the key ids: active and known, encryption and index", false);
  piiStep("add-key", "step 1: a new random key, not active yet (roll it out to every replica)", false);
  piiStep(
    "activate",
    "step 2: new values are sealed with this key; each service's start-up sweep moves stored values to it",
    true,
  );
  piiStep("retire", "step 3: drop an old key once every service's sweep reported done", true);

  program
    .command("kafka-provision")
    .description("create the platform's topics and Kafka ACLs as the admin (TOPIC_PREFIX; <SERVICE>_CONSUMER_GROUP)")
    .option("--print", "list the ACLs (JSON) instead of applying them", false)
    .action(async (opts: { print: boolean }) => {
      const acl = { topicPrefix: process.env.TOPIC_PREFIX ?? "", groups: consumerGroupsFromEnv(process.env) };
      if (opts.print) {
        print(platformAcls(acl));
        return;
      }
      const { brokers, sasl } = kafkaTarget();
      print(await provisionKafka({ ...acl, brokers, ...(sasl ? { sasl } : {}) }));
    });

  return program;
}

/** Parses `argv` (the arguments after the program name) and runs the command; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  await buildProgram().parseAsync(argv, { from: "user" });
  return typeof process.exitCode === "number" ? process.exitCode : 0;
}

/**
 * Advances the platform `days` business days: for each, moves the shared clock
 * (if any) past the end of the business day — 00:05 Asia/Shanghai of the next day,
 * or billing's earliest end-of-day time if its cutoff is later — runs end-of-day for
 * the day that ended, then moves the clock to 10:00 so daytime work (sending, calls) happens.
 */
export async function advance(
  clients: Parameters<typeof runEndOfDay>[0],
  days: number,
  clockFile: string | undefined,
  onLine: (line: string) => void = (l) => process.stderr.write(l),
): Promise<void> {
  let closed: LocalDate | undefined;
  for (let i = 0; i < days; i++) {
    const date = await nextBusinessDate(clients);
    // Each day closes the one after the last: a date that did not move would close nothing and skip a day.
    if (closed && date !== addDays(closed, 1))
      throw new Error(`billing's business date is ${date} after end-of-day ${closed} completed; expected ${addDays(closed, 1)}`);
    const next = addDays(date, 1);
    // Time travel moves the clock, never the rule: past the end of the day and billing's cutoff, then close
    // the day that ended.
    if (clockFile) {
      const notBefore = await endOfDayNotBefore(clients);
      const fiveAfter = zonedInstant(next, 0, 5, "Asia/Shanghai");
      setFileClock(clockFile, notBefore && notBefore > fiveAfter ? notBefore : fiveAfter);
    }
    const run = await runEndOfDay(clients, { date, onProgress: (r) => onLine(`\r${progressLine(r)}`) });
    onLine(`\r${progressLine(run)}\n`);
    closed = date;
    if (clockFile) setFileClock(clockFile, zonedInstant(next, 10, 0, "Asia/Shanghai"));
  }
}

// cli.ts through tsx, the bin wrapper, or the compiled bundle packages/ops/dist/cli.js (the image's `ops` command)
const isMain = process.argv[1]?.endsWith("cli.ts") || process.argv[1]?.endsWith("whiteslip-ops.mjs") || process.argv[1]?.endsWith("ops/dist/cli.js");
if (isMain) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      if (isGrpcError(e)) {
        process.stderr.write(`${e.codeName}: ${e.message}${e.violations.length ? `\n${e.violations.map((v) => `  ${v.field}: ${v.description}`).join("\n")}` : ""}\n`);
      } else {
        process.stderr.write(`${(e as Error).message}\n`);
        // a SASL-only listener closes the connection of a client that does not authenticate
        if ((e as Error).name === "KafkaJSConnectionClosedError" && !kafkaSaslFromEnv()) {
          process.stderr.write(
            "the broker may require SASL: set KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (or KAFKA_CREDENTIALS_FILE), as npm start prints\n",
          );
        }
      }
      process.exit(1);
    },
  );
}
