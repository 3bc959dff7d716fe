/**
 * A treatment path across two services on the real broker, database and gRPC: billing's Overdue (published here)
 * opens a case whose strategy rule lists DPD 1 SMS; collections hands the step to notification over
 * `treatment-step-requested`; notification sends it through the HTTP SMS provider (preferences, quiet hours, caps
 * applied as for any message) and reports it; the case's path shows the step DELIVERED; the customer got one SMS
 * although notification's own cadence also saw the Overdue. And a step notification will never send (the customer
 * opted out of SMS) ends SUPPRESSED on the case with its rule, reported by NotificationSuppressed, at no cost.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EventBus } from "@whiteslip/bus";
import { collections, notification, Topics } from "@whiteslip/contracts";
import { ManualClock, zonedInstant } from "@whiteslip/core";
import { createClient } from "@whiteslip/grpc";
import { testScope, uniqueName } from "@whiteslip/testkit/vitest";
import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNotification } from "../../notification/src/main";
import { startHttpProvider } from "../../notification/test/local-servers";
import { startCollections } from "../src/main";
import { overdueData, publish, waitFor } from "./helpers";

const SH = "Asia/Shanghai";
const scope = testScope("collections-path");
const clock = new ManualClock(zonedInstant("2026-03-10", 10, 0, SH));
const dir = mkdtempSync(join(tmpdir(), "collections-path-"));
const strategiesFile = join(dir, "strategies.json");
writeFileSync(
  strategiesFile,
  JSON.stringify({
    champion: {
      id: "champion",
      description: "path",
      rules: [
        {
          buckets: ["M1"],
          treatment: "DIGITAL_ONLY",
          path: [
            { dpd: 1, channel: "SMS", template: "overdue-notice@1" },
            { dpd: 7, channel: "CALL" },
          ],
        },
      ],
    },
    challengers: [],
  }),
);

let col: Awaited<ReturnType<typeof startCollections>>;
let noti: Awaited<ReturnType<typeof startNotification>>;
let provider: Awaited<ReturnType<typeof startHttpProvider>>;
let bus: EventBus;
let mongo: MongoClient;
let cases: ReturnType<typeof createClient<typeof collections.CollectionsService>>;
let notes: ReturnType<typeof createClient<typeof notification.NotificationService>>;
const notificationEnv = scope.serviceEnv("notification");

beforeAll(async () => {
  provider = await startHttpProvider();
  col = await startCollections({
    clock,
    env: scope.serviceEnv("collections", {
      BILLING_ADDR: "127.0.0.1:1",
      STRATEGIES_FILE: strategiesFile,
      CHALLENGER_PERCENT: "0",
    }),
  });
  noti = await startNotification({
    clock,
    env: {
      ...notificationEnv,
      DISPATCH_INTERVAL_MS: "0",
      SMS_PROVIDER_URL: provider.url,
      SMS_PROVIDER_API_KEY: "test-key",
    },
  });
  bus = await EventBus.connect(scope.busOptions("collections-path-test"));
  mongo = await MongoClient.connect(scope.mongoUri);
  cases = createClient(collections.CollectionsService, `127.0.0.1:${col.grpcPort}`);
  notes = createClient(notification.NotificationService, `127.0.0.1:${noti.grpcPort}`);
});

afterAll(async () => {
  cases?.close();
  notes?.close();
  await bus?.close();
  await mongo?.close();
  await noti?.stop();
  await col?.stop();
  await provider?.stop();
});

describe("a treatment path through collections and notification", () => {
  it("DPD 1 SMS of the rule's path: sent once by notification, DELIVERED on the case", async () => {
    const accountId = uniqueName("acct");
    const customerId = `cus-${accountId}`;
    await notes.upsertContactPoints({
      customerId,
      phone: "+8613800138000",
      timeZone: SH,
      locale: "zh-CN",
      displayName: "李雷",
    });
    const overdueId = uniqueName("ov");
    await publish(bus, Topics.Overdue, overdueId, accountId, overdueData(accountId, "2026-03-10", 1), clock.now());

    const opened = await waitFor(
      async () => (await cases.listCases({ accountId })).cases[0],
      30_000,
      `case of ${accountId}`,
    );
    const path = (await cases.getCase({ caseId: opened.caseId })).case!.path;
    expect(path.map((s) => [s.dpd, s.channel, s.plannedDate])).toEqual([
      [1, collections.StepChannel.SMS, "2026-03-10"],
      [7, collections.StepChannel.CALL, "2026-03-16"],
    ]);
    const stepId = path[0]!.stepId;

    // notification has taken both the step and its own Overdue before anything is dispatched
    const facts = mongo.db(notificationEnv.MONGODB_DB).collection("facts");
    await waitFor(async () => (await facts.countDocuments({ _id: overdueId as never })) === 1, 30_000, "notification saw the Overdue");
    await waitFor(
      async () => (await notes.listNotifications({ customerId, pageSize: 50 })).notifications.find((n) => n.factId === stepId),
      30_000,
      "the step's message",
    );
    await noti.tick!();

    const delivered = await waitFor(
      async () => {
        await noti.tick!();
        const s = (await cases.getCase({ caseId: opened.caseId })).case!.path[0]!;
        return s.status === collections.StepStatus.DELIVERED && s;
      },
      30_000,
      "step DELIVERED on the case",
    );
    expect(delivered.outcome).toBe("delivered on SMS");
    const sms = (await notes.listNotifications({ customerId, pageSize: 50 })).notifications.filter(
      (n) => n.channel === notification.Channel.SMS && [notification.DeliveryStatus.SENT, notification.DeliveryStatus.DELIVERED].includes(n.status),
    );
    // one SMS went out, the step's; the cadence's own DPD 1 SMS (if it planned one first) was superseded by it
    expect(sms.map((n) => [n.factId, n.factType])).toEqual([[stepId, "whiteslip.collections.v1.TreatmentStepRequested"]]);
    expect(provider.requests.filter((r) => JSON.stringify(r).includes("逾期1天"))).toHaveLength(1);
  });

  it("a step to a customer who opted out of SMS ends SUPPRESSED on the case with the rule, audited, and costs nothing", async () => {
    const accountId = uniqueName("acct");
    const customerId = `cus-${accountId}`;
    await notes.upsertContactPoints({ customerId, phone: "+8613800138001", timeZone: SH, locale: "zh-CN", displayName: "韩梅梅" });
    await notes.setPreferences({
      customerId,
      preferences: [{ category: notification.Category.COLLECTION, channels: [notification.Channel.IN_APP] }],
    });
    const costBefore = (await cases.getCollectionsStats({})).strategies.find((s) => s.strategyId === "champion")?.costFen ?? 0n;
    const sentBefore = provider.requests.length;
    await publish(bus, Topics.Overdue, uniqueName("ov"), accountId, overdueData(accountId, "2026-03-10", 1), clock.now());
    const opened = await waitFor(async () => (await cases.listCases({ accountId })).cases[0], 30_000, `case of ${accountId}`);

    // notification plans the step's SMS SUPPRESSED and says so (NotificationSuppressed) in the same write; no tick needed
    const got = await waitFor(
      async () => {
        const c = await cases.getCase({ caseId: opened.caseId });
        return c.case!.path[0]!.status === collections.StepStatus.SUPPRESSED && c;
      },
      30_000,
      "step SUPPRESSED on the case",
    );
    const step = got.case!.path[0]!;
    expect(step.outcome).toMatch(/^OPTED_OUT on SMS: opted out of SMS for COLLECTION/);
    expect(got.audit.find((a) => a.action === "STEP_SUPPRESSED")?.detail).toContain("OPTED_OUT");
    const msg = (await notes.listNotifications({ customerId, pageSize: 50 })).notifications.find((n) => n.factId === step.stepId);
    expect(msg?.status).toBe(notification.DeliveryStatus.SUPPRESSED);

    // dispatching changes nothing: no SMS, and the suppressed step is no paid contact
    await noti.tick!();
    expect(provider.requests.length).toBe(sentBefore);
    const costAfter = (await cases.getCollectionsStats({})).strategies.find((s) => s.strategyId === "champion")!.costFen;
    expect(costAfter).toBe(costBefore);
    expect((await cases.getCase({ caseId: opened.caseId })).case!.path[0]!.status).toBe(collections.StepStatus.SUPPRESSED);
  });
});
