/**
 * Notification service entry point: reads config, wires repositories, providers,
 * the fact consumer, the dispatcher loop and the gRPC service into the platform
 * runtime (store, bus, outbox relay, health/readiness, graceful shutdown); nothing else.
 */
import type { Clock } from "@whiteslip/core";
import { every, type Periodic, runMain, startService } from "@whiteslip/runtime";
import type { Collection, Document } from "mongodb";
import { asBatch, BatchGroupConsumer } from "@whiteslip/bus";
import { factSubscriptions } from "./adapters/consumers";
import { attributePayment } from "./app/attribute-payment";
import { withPolicy } from "@whiteslip/grpc";
import { notificationService } from "./adapters/grpc-handlers";
import { notificationPolicy } from "./adapters/grpc-policy";
import { HttpChannelProvider } from "./adapters/http-channel-provider";
import {
  MongoAccountFactsRepository,
  MongoCustomerRepository,
  SEALED,
  MongoEngagementRepository,
  MongoMessageRepository,
  MongoPolicyRepository,
} from "./adapters/mongo-repositories";
import { SmtpEmailProvider } from "./adapters/smtp-email-provider";
import { Dispatcher } from "./app/dispatch-due-messages";
import { CasePathAwareNotify, HandleCaseStep } from "./app/handle-case-step";
import { caseStepSubscriptions } from "./adapters/case-step-consumer";
import { MongoCasePathRepository } from "./adapters/mongo-case-paths";
import { supersedeNotices } from "./app/supersede-notices";
import type { ChannelProvider } from "./app/ports";
import { DEFAULT_SETTINGS, type NotificationSettings } from "./app/settings";
import { type NotificationConfig, notificationShape } from "./config";
import type { Channel } from "./domain/model";

/** A running notification service. */
export interface RunningNotification {
  /** Bound gRPC port. */
  grpcPort: number;
  /** Graceful stop: not serving, consumers stopped, dispatcher finished, outbox flushed, closed. */
  stop(): Promise<void>;
  /** One dispatcher round followed by an outbox flush (tests and demos; with DISPATCH_INTERVAL_MS=0 nothing else dispatches). */
  tick?(): Promise<void>;
}

/** Starts the service with the given environment (default process.env) and clock (default wall clock or CLOCK_FILE). */
export async function startNotification(
  opts: { env?: Record<string, string | undefined>; clock?: Clock } = {},
): Promise<RunningNotification> {
  let dispatcher: Dispatcher | undefined;
  let loop: Periodic | undefined;
  const svc = await startService({
    name: "notification",
    configShape: notificationShape,
    ...opts,
    setup: async ({ config, logger, clock, store, pii, bus }) => {
      const settings = settingsFrom(config);
      const messages = new MongoMessageRepository(store.db);
      const customers = new MongoCustomerRepository(store.db, pii, {
        timeZone: config.BUSINESS_TIME_ZONE,
        locale: config.DEFAULT_LOCALE,
      });
      const engagements = new MongoEngagementRepository(store.db);
      const accounts = new MongoAccountFactsRepository(store.db);
      const policy = new MongoPolicyRepository(store.db, config.POLICY_CACHE_MS, (err) =>
        logger.error({ err: (err as Error).message }, "cadence table invalid; keeping the last good one"),
      );
      await messages.ensureIndexes();
      await engagements.ensureIndexes();
      const migrated = await messages.migrate();
      if (migrated) logger.info(migrated, "due queue and cap counters built from the stored messages (once per database)");
      const added = await policy.seed(clock.now());
      if (added.length > 0) logger.info({ rules: added }, "new default cadence rules added to the stored table");

      const { providers, smtp } = providersFrom(config);
      // collections' treatment-path steps (app/handle-case-step.ts); the cadence leaves accounts with a case path alone
      const casePaths = new MongoCasePathRepository(store.db);
      const notify = new CasePathAwareNotify({ messages, customers, engagements, accounts, policy, clock, settings }, casePaths);
      const caseSteps = new HandleCaseStep({ messages, customers, engagements, accounts, casePaths, clock, settings });
      dispatcher = new Dispatcher({
        messages,
        customers,
        accounts,
        providers,
        clock,
        settings,
        onError: (err, messageId) =>
          logger.error(
            { messageId, err: (err as Error).message },
            "dispatch failed; retried next round, or recovered after its claim expires",
          ),
      });
      const d = dispatcher;
      // one round at a time, the next at once when a round was full (a backlog), else after the interval;
      // DISPATCH_INTERVAL_MS=0: never on its own (tick() drives it)
      loop = every({ name: "dispatcher", intervalMs: Math.max(1, config.DISPATCH_INTERVAL_MS), jitter: 0.1, logger }, async () => {
        const r = await d.tick();
        if (r.due > 0) logger.info({ ...r }, "dispatch round");
        return r.due >= settings.batchSize;
      });
      if (config.DISPATCH_INTERVAL_MS === 0) loop = { ...loop, start() {} };
      // One consumer group (the Kafka ACLs grant the service one) read in batches: the due wave's topics planned a
      // batch at a time (waveSubscriptions, inside factSubscriptions), every other subscription applied event by
      // event inside its batch (asBatch). A new subscription is one more entry in this list.
      const facts = new BatchGroupConsumer(
        bus,
        {
          groupId: config.CONSUMER_GROUP,
          maxBatch: config.CONSUMER_MAX_BATCH,
          subscriptions: [
            ...[
              ...factSubscriptions(
                notify,
                logger,
                (p) => attributePayment({ messages, engagements, customers, clock, settings }, p),
                (e) => supersedeNotices({ messages, accounts, clock }, e),
              ),
              ...caseStepSubscriptions(caseSteps, logger),
            ].map(asBatch),
          ],
        },
        logger,
      );
      await facts.start();
      return {
        grpc: [
          withPolicy(
            notificationService({ messages, customers, engagements, clock, settings, policies: policy }),
            notificationPolicy,
          ),
        ],
        // a partition held back for infrastructure trouble makes the service unready, as the runtime's consumers do
        readiness: [{ name: "consumers", check: async () => facts.healthy }],
        outbox: [messages.messages as unknown as Collection<Document>],
        sealed: [{ collection: customers.customers as unknown as Collection<Document>, fields: SEALED }],
        // stopped in reverse: the consumer first (no new facts), then the dispatcher
        background: [loop, { start() {}, stop: () => facts.stop() }],
        onStop: async () => smtp.close(),
      };
    },
  });
  return {
    grpcPort: svc.grpcPort,
    stop: svc.stop,
    async tick() {
      await loop?.runNow();
      await svc.relay.flush();
    },
  };
}

function settingsFrom(cfg: NotificationConfig): NotificationSettings {
  return {
    ...DEFAULT_SETTINGS,
    window: { startHour: cfg.QUIET_HOURS_END, endHour: cfg.QUIET_HOURS_START },
    maxDeferralHours: cfg.BEST_HOUR_MAX_DEFERRAL_HOURS,
    caps: { ...DEFAULT_SETTINGS.caps, perDay: cfg.CAP_PER_DAY, perWeek: cfg.CAP_PER_WEEK },
    retry: {
      ...DEFAULT_SETTINGS.retry,
      maxAttempts: cfg.RETRY_MAX_ATTEMPTS,
      baseDelayMs: cfg.RETRY_BASE_DELAY_MS,
    },
    defaultTimeZone: cfg.BUSINESS_TIME_ZONE,
    defaultLocale: cfg.DEFAULT_LOCALE,
    batchSize: cfg.DISPATCH_BATCH_SIZE,
    concurrency: cfg.DISPATCH_CONCURRENCY,
    rateLimits: { SMS: cfg.SMS_RATE_PER_S, EMAIL: cfg.EMAIL_RATE_PER_S, PUSH: cfg.PUSH_RATE_PER_S, VOICE: cfg.VOICE_RATE_PER_S },
    claimMs: cfg.DISPATCH_CLAIM_MS,
    maxFactAgeHours: cfg.MAX_FACT_AGE_HOURS,
  };
}

function providersFrom(cfg: NotificationConfig): {
  providers: Partial<Record<Channel, ChannelProvider>>;
  smtp: SmtpEmailProvider;
} {
  const smtp = new SmtpEmailProvider({
    host: cfg.SMTP_HOST,
    port: cfg.SMTP_PORT,
    secure: cfg.SMTP_SECURE,
    ignoreTls: cfg.SMTP_IGNORE_TLS,
    user: cfg.SMTP_USER,
    pass: cfg.SMTP_PASSWORD,
    from: cfg.SMTP_FROM,
    timeoutMs: cfg.SMTP_TIMEOUT_MS,
    ...(cfg.EMAIL_EVENTS_URL
      ? {
          events: {
            url: cfg.EMAIL_EVENTS_URL,
            apiKey: cfg.EMAIL_EVENTS_API_KEY,
            timeoutMs: cfg.PROVIDER_TIMEOUT_MS,
            settleMs: cfg.EMAIL_EVENTS_SETTLE_MS,
          },
        }
      : {}),
  });
  const providers: Partial<Record<Channel, ChannelProvider>> = { EMAIL: smtp };
  const http = (channel: Channel, baseUrl: string | undefined, apiKey: string) => {
    if (baseUrl)
      providers[channel] = new HttpChannelProvider({
        channel,
        baseUrl,
        apiKey,
        timeoutMs: cfg.PROVIDER_TIMEOUT_MS,
      });
  };
  http("SMS", cfg.SMS_PROVIDER_URL, cfg.SMS_PROVIDER_API_KEY);
  http("PUSH", cfg.PUSH_PROVIDER_URL, cfg.PUSH_PROVIDER_API_KEY);
  http("VOICE", cfg.VOICE_PROVIDER_URL, cfg.VOICE_PROVIDER_API_KEY);
  return { providers, smtp };
}

if (import.meta.url === `file://${process.argv[1]}`) runMain(() => startNotification());
