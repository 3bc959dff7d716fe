/**
 * credit-reporting: internal credit score with history, pre-report notices,
 * bureau reporting state, Metro 2 files and disputes. Reads config, wires the
 * parts, starts; nothing else.
 */
import { localAddress, z } from "@whiteslip/config";
import type { Clock } from "@whiteslip/core";
import { runMain, startService } from "@whiteslip/runtime";
import { subscriptions } from "./adapters/consumers";
import { withPolicy } from "@whiteslip/grpc";
import { GrpcCreditIdentities } from "./adapters/credit-identities";
import { creditReportingService } from "./adapters/grpc-handlers";
import { creditReportingPolicy } from "./adapters/grpc-policy";
import { MongoAccountRepository } from "./adapters/mongo-accounts";
import { MongoBureauFileRepository, MongoDownloadAudit } from "./adapters/mongo-files";
import { KeyedLock } from "./app/keyed-lock";
import type { Deps } from "./app/ports";
import { metro2Format } from "./domain/metro2/metro2-format";
import { pbocFormat } from "./domain/pboc/pboc-format";
import { DEFAULT_REPORTING_POLICY, DEFAULT_SCORE_POLICY } from "./domain/policy";

/** The service's own configuration, on top of the platform's base variables. */
export const configShape = {
  /** Consumer group (default `credit-reporting`); tests give each file its own. */
  CONSUMER_GROUP: z.string().min(1).default("credit-reporting"),
  /** Days after the pre-report notice was delivered before the negative record is reportable. */
  REPORT_WAITING_DAYS: z.coerce.number().int().min(0).max(90).default(DEFAULT_REPORTING_POLICY.waitingDays),
  /** DPD at which the pre-report notice goes out (default 30, when the first negative record exists; lower sends it earlier). */
  NOTICE_AT_DPD: z.coerce.number().int().min(1).max(180).default(DEFAULT_REPORTING_POLICY.noticeAtDpd),
  /** Years after a delinquency ended when its negative information is purged. */
  PURGE_AFTER_YEARS: z.coerce.number().int().min(1).max(10).default(DEFAULT_REPORTING_POLICY.purgeAfterYears),
  /** Score of a new account (350–950). */
  SCORE_INITIAL: z.coerce.number().int().min(350).max(950).default(DEFAULT_SCORE_POLICY.initial),
  /** credit's gRPC address: the consumers' identities of a file (GetReportingIdentities). */
  CREDIT_ADDR: z.string().min(1).default(localAddress("credit")),
  /** Metro 2 identification number of the furnisher, assigned by the bureaus (5–20, no blanks). */
  FURNISHER_ID: z.string().min(1).max(20).default("WHITESLIP"),
  /** Furnisher name in the header (≤ 40). */
  FURNISHER_NAME: z.string().min(1).max(40).default("WHITESLIP CONSUMER CREDIT"),
  /** Furnisher address in the header (≤ 96); required to generate a Metro 2 file (no default: it is the company's). */
  FURNISHER_ADDRESS: z.string().max(96).default(""),
  /** Furnisher telephone, digits (≤ 10). */
  FURNISHER_PHONE: z
    .string()
    .regex(/^\d{0,10}$/, "digits only, at most 10")
    .default(""),
  /** Program identifier assigned by the bureaus (≤ 5). */
  BUREAU_PROGRAM_ID: z.string().max(5).default(""),
  /** PBOC financial institution code (金融机构代码, 14 characters) assigned by the Credit Reference Center; required for a PBOC file. */
  PBOC_INSTITUTION_CODE: z
    .string()
    .regex(/^([0-9A-Z]{14})?$/, "14 characters, digits and upper-case letters")
    .default(""),
};

/** Starts credit-reporting; the platform runner and the integration tests call this in-process. */
export async function startCreditReporting(
  opts: { env?: Record<string, string | undefined>; clock?: Clock } = {},
): Promise<{ grpcPort: number; stop(): Promise<void> }> {
  const svc = await startService({
    name: "credit-reporting",
    configShape,
    ...opts,
    setup: async ({ config, logger, clock, store, pii, grpcCredentials }) => {
      const accounts = new MongoAccountRepository(store.db);
      const files = new MongoBureauFileRepository(store.db, pii);
      const downloads = new MongoDownloadAudit(store.db);
      await accounts.ensureIndexes();
      await files.ensureIndexes();
      await downloads.ensureIndexes();
      // mutual TLS as credit-reporting: the one identity credit's policy lets read reporting identities
      const identities = new GrpcCreditIdentities(config.CREDIT_ADDR, 10_000, grpcCredentials);
      const deps: Deps = {
        accounts,
        files,
        clock,
        timeZone: config.BUSINESS_TIME_ZONE,
        scorePolicy: { ...DEFAULT_SCORE_POLICY, initial: config.SCORE_INITIAL },
        reportingPolicy: {
          ...DEFAULT_REPORTING_POLICY,
          waitingDays: config.REPORT_WAITING_DAYS,
          noticeAtDpd: config.NOTICE_AT_DPD,
          purgeAfterYears: config.PURGE_AFTER_YEARS,
        },
        formats: [metro2Format, pbocFormat],
        locks: new KeyedLock(),
        identities,
        downloads,
        furnisher: {
          identificationNumber: config.FURNISHER_ID,
          name: config.FURNISHER_NAME,
          address: config.FURNISHER_ADDRESS,
          telephone: config.FURNISHER_PHONE,
          programIdentifier: config.BUREAU_PROGRAM_ID,
          pbocInstitutionCode: config.PBOC_INSTITUTION_CODE,
        },
      };
      return {
        grpc: [withPolicy(creditReportingService(deps), creditReportingPolicy)],
        consumers: [{ groupId: config.CONSUMER_GROUP, subscriptions: subscriptions(deps, logger) }],
        outbox: [accounts.collection as never, files.collection as never],
        sealed: [{ collection: files.collection as never, ...MongoBureauFileRepository.SEALED }],
        onStop: async () => identities.close(),
      };
    },
  });
  return { grpcPort: svc.grpcPort, stop: svc.stop };
}

if (import.meta.url === `file://${process.argv[1]}`) runMain(() => startCreditReporting());
