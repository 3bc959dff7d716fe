/**
 * One trace for a customer's journey: a checkout (credit AuthorizePurchase, billing PostPurchase), the statement and
 * the reminder end-of-day makes (billing RunEndOfDay → DueSoon through billing's outbox), and notification acting
 * on the reminder — a single trace, with spans from credit, billing and notification and from the MongoDB driver
 * (OpenTelemetry's instrumentation), collected by an in-memory exporter. The services run in this process on the
 * real broker and database; gRPC and MongoDB spans are OpenTelemetry's instrumentations' (grpc-js, mongodb); the
 * trace crosses Kafka by the W3C traceparent each event carries.
 */
// first: the in-memory exporter and the grpc-js and MongoDB instrumentations, before anything loads those libraries
import { captured } from "./support/trace-first";
import { SpanKind, trace } from "@opentelemetry/api";
import { billing, credit, notification } from "@whiteslip/contracts";
import { addDays, type LocalDate, ManualClock, zonedInstant } from "@whiteslip/core";
import { createClient } from "@whiteslip/grpc";
import { eventually, testScope } from "@whiteslip/testkit/vitest";
import { afterAll, beforeAll, expect, it } from "vitest";
import { validNationalId } from "../../../services/credit/test/support/fixtures";

const TZ = "Asia/Shanghai";

const clock = new ManualClock(zonedInstant("2026-03-01", 10, 0, TZ));
const scope = testScope("one-trace");
const stops: (() => Promise<void>)[] = [];
let creditClient: ReturnType<typeof createClient<typeof credit.CreditService>>;
let billingClient: ReturnType<typeof createClient<typeof billing.BillingService>>;
let notificationClient: ReturnType<typeof createClient<typeof notification.NotificationService>>;
const groups = { credit: scope.group("credit"), billing: scope.group("billing"), notification: scope.group("notification") };

beforeAll(async () => {
  const { startCredit } = await import("../../../services/credit/src/main");
  const { startBilling } = await import("../../../services/billing/src/main");
  const { startNotification } = await import("../../../services/notification/src/main");
  const c = await startCredit({ clock, env: scope.serviceEnv("credit", { CONSUMER_GROUP: groups.credit, HOLD_SWEEP_INTERVAL_MS: "0", RESCORING_INTERVAL_MS: "0" }) });
  const b = await startBilling({ clock, env: scope.serviceEnv("billing", { CONSUMER_GROUP: groups.billing }) });
  const n = await startNotification({ clock, env: scope.serviceEnv("notification", { CONSUMER_GROUP: groups.notification, DISPATCH_INTERVAL_MS: "0" }) });
  stops.push(c.stop, b.stop, n.stop);
  creditClient = createClient(credit.CreditService, `127.0.0.1:${c.grpcPort}`, { deadlineMs: 20_000 });
  billingClient = createClient(billing.BillingService, `127.0.0.1:${b.grpcPort}`, { deadlineMs: 60_000 });
  notificationClient = createClient(notification.NotificationService, `127.0.0.1:${n.grpcPort}`, { deadlineMs: 20_000 });
}, 120_000);

afterAll(async () => {
  for (const c of [creditClient, billingClient, notificationClient]) c?.close();
  await Promise.all(stops.map((s) => s()));
  await captured.stop();
});

it("one trace: purchase → statement → DueSoon → notification, with spans from credit, billing, notification and MongoDB", { timeout: 240_000 }, async () => {
  const journey = trace.getTracer("one-trace-test");
  const { traceId, customerId } = await journey.startActiveSpan("checkout journey", async (root) => {
    try {
      const nationalId = validNationalId("19880214", "310101", "417");
      const customer = await creditClient.registerCustomer({ name: "周一", nationalId, phone: "+8613911112222", email: "zy@example.cn", idempotencyKey: nationalId });
      const applied = await creditClient.applyForCredit({
        customerId: customer.customerId,
        monthlyIncomeFen: 1_500_000n,
        employment: credit.Employment.SALARIED,
        ordersLast12m: 40,
        spendLast12mFen: 2_500_000n,
        accountAgeMonths: 80,
        returnsLast12m: 1,
        ageYears: 38,
        statementDay: 2,
        idempotencyKey: `apply-${customer.customerId}`,
      });
      const accountId = applied.creditLine!.creditLineId;
      await notificationClient.upsertContactPoints({ customerId: customer.customerId, phone: "+8613911112222", email: "zy@example.cn", timeZone: TZ, locale: "zh-CN", displayName: "周一" });
      // billing opens the account from credit's CreditLineOpened
      await eventually("billing opened the account", async () => (await billingClient.getAccountSummary({ accountId }).catch(() => undefined))?.account);
      const auth = await creditClient.authorizePurchase({ creditLineId: accountId, amountFen: 300_00n, merchantScenario: credit.MerchantScenario.PLATFORM_RETAIL, merchantId: "m-1", orderId: "o-1", idempotencyKey: "buy-1" });
      expect(auth.decision).toBe(credit.AuthorizationDecision.APPROVED);
      await billingClient.postPurchase({ accountId, authorizationId: auth.authorizationId, amountFen: 300_00n, idempotencyKey: "buy-1" });
      // statement on 2 March, due 31 March, reminder 5 days before: close each day up to the reminder's
      for (let d: LocalDate = "2026-03-01"; d <= "2026-03-26"; d = addDays(d, 1)) {
        clock.set(zonedInstant(addDays(d, 1), 0, 30, TZ));
        await billingClient.runEndOfDay({ businessDate: d });
      }
      return { traceId: root.spanContext().traceId, customerId: customer.customerId };
    } finally {
      root.end();
    }
  });

  // notification made the reminder (what a customer would get), acting on billing's DueSoon
  await eventually("the reminder", async () => {
    const ms = (await notificationClient.listNotifications({ customerId, pageSize: 50 })).notifications;
    return ms.some((m) => m.factType.includes("DueSoon")) ? ms : undefined;
  }, 60_000);
  const inTrace = () => captured.spans().filter((s) => s.spanContext().traceId === traceId);
  const dueSoonHandled = await eventually("notification's DueSoon span in the journey's trace", async () =>
    inTrace().find((s) => s.kind === SpanKind.CONSUMER && s.attributes["messaging.consumer.group.name"] === groups.notification && String(s.attributes["messaging.destination.name"]).endsWith("due-soon.v1")),
  );

  const spans = inTrace();
  const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
  const parentOf = (s: (typeof spans)[number]) => byId.get(s.parentSpanContext?.spanId ?? "");
  const services = new Set(spans.filter((s) => s.kind === SpanKind.SERVER).map((s) => String(s.attributes["rpc.service"])));
  // gRPC spans are OpenTelemetry's grpc-js instrumentation's, none hand-made
  const rpcScopes = new Set(spans.filter((s) => s.attributes["rpc.system"] === "grpc").map((s) => s.instrumentationScope.name));
  expect([...rpcScopes]).toEqual(["@opentelemetry/instrumentation-grpc"]);
  const groupsSeen = new Set(spans.filter((s) => s.kind === SpanKind.CONSUMER).map((s) => String(s.attributes["messaging.consumer.group.name"])));
  expect([...services].sort()).toEqual(expect.arrayContaining(["whiteslip.billing.v1.BillingService", "whiteslip.credit.v1.CreditService"]));
  // credit captured the hold from billing's PurchasePosted, notification acted on DueSoon: three services in one trace
  expect([...groupsSeen]).toEqual(expect.arrayContaining([groups.credit, groups.notification]));
  // the DueSoon came from the end-of-day call that made it, through billing's outbox
  let cause = parentOf(dueSoonHandled);
  while (cause && cause.kind !== SpanKind.SERVER) cause = parentOf(cause);
  expect(cause?.name).toBe("grpc.whiteslip.billing.v1.BillingService/RunEndOfDay");
  // MongoDB spans from OpenTelemetry's instrumentation, in the trace, under notification's handling of the reminder
  const mongo = spans.filter((s) => s.attributes["db.system"] === "mongodb" || s.attributes["db.system.name"] === "mongodb");
  expect(mongo.length).toBeGreaterThan(0);
  expect(new Set(mongo.map((s) => s.instrumentationScope.name))).toEqual(new Set(["@opentelemetry/instrumentation-mongodb"]));
  const under = (s: (typeof spans)[number], ancestor: (typeof spans)[number]) => {
    for (let p = parentOf(s); p; p = parentOf(p)) if (p === ancestor) return true;
    return false;
  };
  expect(mongo.some((s) => under(s, dueSoonHandled))).toBe(true);
  // every span of the trace hangs from the journey's root: nothing was cut off on the way
  const roots = spans.filter((s) => !parentOf(s));
  expect(roots.map((s) => s.name)).toEqual(["checkout journey"]);
});
