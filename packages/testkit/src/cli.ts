/**
 * tsx packages/testkit/src/cli.ts up
 *   Starts Kafka + a MongoDB-wire database (env / docker / local processes), prints
 *   KAFKA_BROKERS=... and MONGODB_URI=... (and, for a broker with SASL, KAFKA_SASL_MECHANISM,
 *   KAFKA_SASL_USERNAME and KAFKA_CREDENTIALS_FILE) and stays up until SIGINT/SIGTERM.
 */
import { startInfra } from "./infra";

async function up(): Promise<void> {
  const quiet = process.argv.includes("--quiet");
  const infra = await startInfra({
    log: quiet ? undefined : (line) => process.stderr.write(`[testkit] ${line}\n`),
  });
  process.stdout.write(`KAFKA_BROKERS=${infra.kafkaBrokers.join(",")}\n`);
  process.stdout.write(`MONGODB_URI=${infra.mongoUri}\n`);
  const creds = infra.kafkaCredentials;
  if (creds) {
    // the passwords stay in the credentials file (mode 0600); the environment names it
    process.stdout.write(`KAFKA_SASL_MECHANISM=${creds.mechanism}\n`);
    process.stdout.write(`KAFKA_SASL_USERNAME=${creds.admin}\n`);
    if (creds.file) process.stdout.write(`KAFKA_CREDENTIALS_FILE=${creds.file}\n`);
  }
  process.stdout.write(`# ${infra.describe} (ready in ${(infra.startedInMs / 1000).toFixed(1)} s)\n`);
  if (infra.kind === "env") {
    process.stderr.write("[testkit] endpoints come from the environment; nothing to keep running\n");
  }
  const keepAlive = setInterval(() => {}, 1 << 30);
  let shuttingDown = false;
  const shutdown = (sig: NodeJS.Signals): void => {
    if (shuttingDown) return;
    shuttingDown = true;
    process.stderr.write(`[testkit] ${sig}: stopping infrastructure ...\n`);
    infra
      .stop()
      .then(() => {
        process.stderr.write("[testkit] stopped\n");
        clearInterval(keepAlive);
        process.exit(0);
      })
      .catch((err: unknown) => {
        process.stderr.write(`[testkit] stop failed: ${String(err)}\n`);
        process.exit(1);
      });
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGHUP", () => shutdown("SIGHUP"));
}

const cmd = process.argv[2];
if (cmd === "up") {
  up().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
} else {
  process.stderr.write("usage: tsx packages/testkit/src/cli.ts up [--quiet]\n");
  process.exit(2);
}
