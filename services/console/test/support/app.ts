import type { Clock } from "@whiteslip/core";
import { createLogger } from "@whiteslip/telemetry";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../src/server/app";
import type { UserRecord } from "../../src/server/auth";
import type { ServiceClients } from "../../src/server/clients";
import type { SessionStore } from "../../src/server/sessions";
import { LoginThrottle } from "../../src/server/throttle";

/**
 * The real console app over recording service clients, for `app.inject` tests: the production throttle limits
 * (5 per user, 20 per address in 15 minutes), a silent logger, no SPA.
 */
export function testApp(opts: {
  clients: ServiceClients;
  sessions: SessionStore;
  clock: Clock;
  users?: UserRecord[];
  secureCookie?: boolean;
  publicOrigin?: string;
}): Promise<FastifyInstance> {
  return buildApp({
    clients: opts.clients,
    users: opts.users ?? [],
    sessions: opts.sessions,
    throttle: new LoginThrottle(opts.clock, {
      user: { maxFailures: 5, windowMinutes: 15, lockMinutes: 15 },
      address: { maxFailures: 20, windowMinutes: 15, lockMinutes: 15 },
    }),
    clock: opts.clock,
    logger: createLogger({ service: "console-test", level: "silent" }),
    distDir: "/nonexistent",
    secureCookie: opts.secureCookie ?? false,
    ...(opts.publicOrigin ? { publicOrigin: opts.publicOrigin } : {}),
  });
}
