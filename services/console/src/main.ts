/**
 * Console entry point: reads config, loads the users, builds the SPA if needed, creates the service clients and
 * starts the HTTP server; nothing else. Run with `tsx services/console/src/main.ts` (CONSOLE_PORT, default 8080).
 */

import { systemClock } from "@whiteslip/core";
import { createLogger } from "@whiteslip/telemetry";
import { buildApp } from "./server/app";
import { loadUsers } from "./server/auth";
import { buildWeb, DIST_DIR, isDistStale } from "./server/build-web";
import { closeClients, serviceClients } from "./server/clients";
import { loadConsoleConfig } from "./server/config";
import { SessionStore } from "./server/sessions";
import { LoginThrottle } from "./server/throttle";
import { consoleTransport } from "./server/service-identity";

/** A running console. */
export interface RunningConsole {
  /** The HTTP port it listens on. */
  port: number;
  /** Stops accepting requests, finishes in-flight ones and closes the service channels. */
  stop(): Promise<void>;
}

/** Starts the console; `port` overrides CONSOLE_PORT (0 picks a free port). */
export async function startConsole(
  opts: { env?: Record<string, string | undefined>; port?: number } = {},
): Promise<RunningConsole> {
  const config = loadConsoleConfig(opts.env ?? process.env);
  const logger = createLogger({ service: "console", level: config.LOG_LEVEL });
  if (config.CONSOLE_BUILD === "always" || (config.CONSOLE_BUILD === "auto" && isDistStale())) {
    const t = Date.now();
    await buildWeb();
    logger.info({ ms: Date.now() - t }, "built the web app");
  }
  const clients = serviceClients(
    {
      credit: config.CREDIT_ADDR,
      billing: config.BILLING_ADDR,
      notification: config.NOTIFICATION_ADDR,
      collections: config.COLLECTIONS_ADDR,
      creditReporting: config.CREDIT_REPORTING_ADDR,
    },
    config.CONSOLE_GRPC_DEADLINE_MS,
    consoleTransport(config),
  );
  const clock = systemClock;
  const window = config.CONSOLE_LOGIN_WINDOW_MINUTES;
  const lock = config.CONSOLE_LOGIN_LOCK_MINUTES;
  const app = await buildApp({
    clients,
    // demo users (published passwords) are refused in production
    users: await loadUsers(config.CONSOLE_USERS_FILE, { production: config.NODE_ENV === "production" }),
    sessions: new SessionStore(clock, config.CONSOLE_SESSION_MINUTES),
    throttle: new LoginThrottle(clock, {
      user: { maxFailures: config.CONSOLE_LOGIN_MAX_FAILURES, windowMinutes: window, lockMinutes: lock },
      address: {
        maxFailures: config.CONSOLE_LOGIN_MAX_FAILURES_PER_ADDRESS,
        windowMinutes: window,
        lockMinutes: lock,
      },
    }),
    logger,
    distDir: DIST_DIR,
    // Secure always, except under the explicit local-dev exception (refused in production by the config)
    secureCookie: config.CONSOLE_DEV_INSECURE_COOKIE !== "true",
    ...(config.CONSOLE_PUBLIC_ORIGIN ? { publicOrigin: config.CONSOLE_PUBLIC_ORIGIN } : {}),
    trustProxyHops: config.CONSOLE_TRUST_PROXY_HOPS,
    clock,
  });
  await app.listen({ port: opts.port ?? config.CONSOLE_PORT, host: config.CONSOLE_HOST });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : (opts.port ?? config.CONSOLE_PORT);
  logger.info({ port }, "console listening");
  return {
    port,
    async stop() {
      await app.close();
      closeClients(clients);
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  startConsole().then(
    (running) => {
      const shutdown = () => void running.stop().then(() => process.exit(0));
      process.once("SIGTERM", shutdown);
      process.once("SIGINT", shutdown);
    },
    (e: Error) => {
      process.stderr.write(`console failed to start: ${e.message}\n`);
      process.exit(1);
    },
  );
}
