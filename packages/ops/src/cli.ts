/**
 * whiteslip-ops — the operator's command line.
 *
 *   whiteslip-ops eod [--date YYYY-MM-DD]        run billing's end-of-day (default: every business date that has ended
 *                                                and is not closed yet; none → the last completed run, exit 0)
 *   whiteslip-ops advance [--days N]             advance N business days: move the clock past the end of the day
 *                                                (and billing's cutoff), close the day that ended, move to 10:00
 *   whiteslip-ops tail [topic…] [--from-beginning] [--key ACCOUNT]   print events decoded (CloudEvents + payload JSON)
 *   whiteslip-ops account <accountId>            billing summary, statements, restrictions
 *   whiteslip-ops case <caseId | --account ID>   collection case with history
 *   whiteslip-ops score <accountId>              internal credit score and history
 *   whiteslip-ops portfolio                      delinquency, roll rates, charge-offs, inflows
 *   whiteslip-ops pii <keys|add-key|activate|retire> [id] [--index] [--file F]   rotate personal-data keys (pii-keys.ts)
 *   whiteslip-ops dlq list                       every dead-letter topic of the platform with its message count
 *   whiteslip-ops dlq show <topic> [--group G] [--limit N]   dead letters decoded (attributes, dlq headers, payload)
 *   whiteslip-ops dlq replay <topic> --group G [--id CE_ID…] redeliver dead letters to that consumer group only
 *
 * Service addresses: CREDIT_ADDR, BILLING_ADDR, NOTIFICATION_ADDR, COLLECTIONS_ADDR,
 * CREDIT_REPORTING_ADDR (default 127.0.0.1:50051…50055); Kafka: KAFKA_BROKERS (and TOPIC_PREFIX when the platform uses one);
 * CLOCK_FILE: the local run's shared clock (advance moves it).
 */
import { parseArgs } from "node:util";
import { toJson } from "@bufbuild/protobuf";
import { billing, collections, credit, creditreporting } from "@whiteslip/contracts";
import { addDays, zonedInstant } from "@whiteslip/core";
import { isGrpcError } from "@whiteslip/grpc";
import { setFileClock } from "@whiteslip/runtime";
import { addressesFromEnv, closeClients, platformClients } from "./clients";
import { listDeadLetterTopics, printable, readDeadLetters, replayDeadLetters, resolveDeadLetterTopic } from "./dlq";
import { endOfDayNotBefore, nextBusinessDate, progressLine, runEndOfDay } from "./end-of-day";
import { piiCommand } from "./pii-keys";
import { resolveTopics, tail } from "./tail";

const USAGE = `usage: whiteslip-ops <eod|advance|tail|dlq|account|case|score|portfolio|pii> [options]
  eod [--date YYYY-MM-DD]                 close the business days that have ended (or one date)
  advance [--days N]                      move the platform N business days forward
  tail [topic...] [--from-beginning] [--key ID]
  dlq list                                dead-letter topics with message counts
  dlq show <topic> [--group G] [--limit N]
  dlq replay <topic> --group G [--id CE_ID]...   redeliver to that group only (all with a ce_id if no --id)
  account <accountId> | case <caseId> | case --account <accountId> | score <accountId> | portfolio
  pii <keys|add-key|activate|retire> [id] [--index] [--file keyring.json]   personal-data key rotation`;

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      date: { type: "string" },
      days: { type: "string", default: "1" },
      "from-beginning": { type: "boolean", default: false },
      key: { type: "string" },
      account: { type: "string" },
      index: { type: "boolean", default: false },
      file: { type: "string" },
      group: { type: "string" },
      limit: { type: "string" },
      id: { type: "string", multiple: true },
      help: { type: "boolean", short: "h" },
    },
  });
  if (!command || values.help) {
    process.stdout.write(`${USAGE}\n`);
    return command ? 0 : 2;
  }
  if (command === "pii")
    return piiCommand({ sub: positionals[0], id: positionals[1], index: values.index, file: values.file }, (l) =>
      process.stdout.write(`${l}\n`),
    );
  if (command === "tail") {
    const brokers = (process.env.KAFKA_BROKERS ?? "127.0.0.1:9092").split(",");
    const ac = new AbortController();
    process.on("SIGINT", () => ac.abort());
    process.on("SIGTERM", () => ac.abort());
    await tail({
      brokers,
      topics: resolveTopics(positionals),
      fromBeginning: values["from-beginning"],
      ...(values.key ? { filterKey: values.key } : {}),
      topicPrefix: process.env.TOPIC_PREFIX ?? "",
      signal: ac.signal,
    });
    return 0;
  }
  if (command === "dlq") {
    const target = { brokers: (process.env.KAFKA_BROKERS ?? "127.0.0.1:9092").split(","), topicPrefix: process.env.TOPIC_PREFIX ?? "" };
    const [sub, topic] = positionals;
    if (sub === "list") {
      print(await listDeadLetterTopics(target));
      return 0;
    }
    if (sub === "show") {
      const dlq = resolveDeadLetterTopic(need(topic, "topic"), values.group, target.topicPrefix);
      const limit = values.limit === undefined ? Number.POSITIVE_INFINITY : Number(values.limit);
      if (!(limit > 0)) throw new Error(`--limit must be a positive integer, got ${values.limit}`);
      const records = await readDeadLetters({ ...target, topic: dlq.topic });
      for (const r of records.slice(-limit)) process.stdout.write(`${JSON.stringify(printable(r))}\n`);
      process.stderr.write(`${records.length} dead letter(s) in ${dlq.topic}${records.length > limit ? `, last ${limit} shown` : ""}\n`);
      return 0;
    }
    if (sub === "replay") {
      if (!values.group) throw new Error(`dlq replay needs --group: a replay reaches one consumer group\n${USAGE}`);
      const audit = await replayDeadLetters({ ...target, topic: need(topic, "topic"), group: values.group, ids: values.id ?? [] });
      print(audit);
      return 0;
    }
    process.stderr.write(`unknown dlq command ${JSON.stringify(sub ?? "")}\n${USAGE}\n`);
    return 2;
  }
  const clients = platformClients(addressesFromEnv());
  try {
    switch (command) {
      case "eod": {
        const run = await runEndOfDay(clients, {
          ...(values.date ? { date: values.date } : {}),
          onProgress: (r) => process.stderr.write(`\r${progressLine(r)}`),
          onNothingToClose: (m) => process.stderr.write(`\n${m}`),
        });
        process.stderr.write("\n");
        print(toJson(billing.EndOfDayRunSchema, run));
        return 0;
      }
      case "advance": {
        const days = Number(values.days);
        if (!Number.isInteger(days) || days < 1) throw new Error(`--days must be a positive integer, got ${values.days}`);
        await advance(clients, days, process.env.CLOCK_FILE);
        return 0;
      }
      case "account": {
        const id = need(positionals[0], "accountId");
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
        return 0;
      }
      case "case": {
        let caseId = positionals[0];
        if (!caseId && values.account) {
          const list = await clients.collections.listCases({ accountId: values.account, pageSize: 1 });
          caseId = list.cases[0]?.caseId;
          if (!caseId) throw new Error(`no collection case for account ${values.account}`);
        }
        const c = await clients.collections.getCase({ caseId: need(caseId, "caseId") });
        print(toJson(collections.GetCaseResponseSchema, c));
        return 0;
      }
      case "score": {
        const id = need(positionals[0], "accountId");
        const [score, history] = await Promise.all([
          clients.creditReporting.getCreditScore({ accountId: id }),
          clients.creditReporting.listScoreHistory({ accountId: id, pageSize: 20 }),
        ]);
        print({
          score: toJson(creditreporting.GetCreditScoreResponseSchema, score),
          history: toJson(creditreporting.ListScoreHistoryResponseSchema, history),
        });
        return 0;
      }
      case "portfolio": {
        print(toJson(billing.GetPortfolioStatsResponseSchema, await clients.billing.getPortfolioStats({})));
        return 0;
      }
      default:
        process.stderr.write(`unknown command ${JSON.stringify(command)}\n${USAGE}\n`);
        return 2;
    }
  } finally {
    closeClients(clients);
  }
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
  for (let i = 0; i < days; i++) {
    const date = await nextBusinessDate(clients);
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
    if (clockFile) setFileClock(clockFile, zonedInstant(next, 10, 0, "Asia/Shanghai"));
  }
}

function need(v: string | undefined, name: string): string {
  if (!v) throw new Error(`missing <${name}>\n${USAGE}`);
  return v;
}

const isMain = process.argv[1]?.endsWith("cli.ts") || process.argv[1]?.endsWith("whiteslip-ops.mjs");
if (isMain) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      if (isGrpcError(e)) {
        process.stderr.write(`${e.codeName}: ${e.message}${e.violations.length ? `\n${e.violations.map((v) => `  ${v.field}: ${v.description}`).join("\n")}` : ""}\n`);
      } else {
        process.stderr.write(`${(e as Error).message}\n`);
      }
      process.exit(1);
    },
  );
}
