/**
 * Local development: the five services as processes with a seeded portfolio, and the console on CONSOLE_PORT
 * (default 8080). Needs KAFKA_BROKERS and MONGODB_URI (e.g. from `tsx packages/testkit/src/cli.ts up`).
 *   KAFKA_BROKERS=… MONGODB_URI=… tsx services/console/scripts/dev-platform.ts
 */
import { kafkaCredentialsFromEnv } from "@whiteslip/config";
import { startConsole } from "../src/main";
import { seedPortfolio, startPlatform, upsertConsoleAgents } from "../test/support/platform";

const START = process.env.SEED_START_DATE ?? "2026-03-04";
const brokers = process.env.KAFKA_BROKERS;
const mongoUri = process.env.MONGODB_URI;
if (!brokers || !mongoUri) {
  process.stderr.write("set KAFKA_BROKERS and MONGODB_URI\n");
  process.exit(2);
}
let t = Date.now();
const lap = (what: string) => {
  process.stderr.write(`${what} in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
  t = Date.now();
};
const kafkaCredentials = kafkaCredentialsFromEnv();
const platform = await startPlatform({ kafkaBrokers: brokers.split(","), mongoUri, ...(kafkaCredentials ? { kafkaCredentials } : {}) }, START);
lap(`services started (logs in ${platform.logDir})`);
const seeded = await (async () => {
  try {
    await upsertConsoleAgents(platform.clients);
    return await seedPortfolio(platform, START, { count: 3, useDemo: process.env.SEED_DEMO !== "0" });
  } catch (e) {
    await platform.stop();
    throw e;
  }
})();
lap(
  `seeded ${seeded.accounts.length} accounts${seeded.demo ? " + the demo journey" : ""}, ${seeded.cases.length} cases, business date ${seeded.businessDate}`,
);
const ids = seeded.cases;
for (const [i, k] of ids.entries()) {
  await platform.clients.collections.assignCase({
    caseId: k.caseId,
    agentId: i % 2 === 0 ? "agent-m1-1" : "agent-m1-2",
    actor: "dev",
    reassign: true,
  });
}
// plain http on 127.0.0.1: the explicit local-dev exception to Secure cookies
const running = await startConsole({
  env: { CONSOLE_DEV_INSECURE_COOKIE: "true", ...process.env, ...platform.addressEnv },
});
lap(`console on http://127.0.0.1:${running.port} (clock file ${platform.clockFile})`);
const stop = async () => {
  await running.stop();
  await platform.stop();
  process.exit(0);
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
