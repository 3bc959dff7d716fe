import { create, fromBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  billing,
  collections,
  credit,
  creditreporting,
  notification as pb,
  Topics,
} from "@whiteslip/contracts";
import { deterministicId } from "@whiteslip/core";
import { describe, expect, it } from "vitest";
import {
  creditLineChangedFact,
  dueSoonFact,
  legalNoticeRequestedFact,
  negativeReportPendingFact,
  overdueFact,
  paymentReceivedFact,
} from "../src/adapters/fact-mapping";
import { encodeNotificationEvents } from "../src/adapters/mongo-repositories";
import { redactContacts } from "../src/adapters/redact";
import { loadNotificationConfig } from "../src/config";
import type { Message } from "../src/domain/model";

const meta = (type: string) => ({ id: "ev-1", type, time: new Date("2026-12-01T02:00:00Z") });

describe("fact mapping", () => {
  it("Overdue carries DPD, bucket and amounts", () => {
    const f = overdueFact(
      meta("whiteslip.billing.v1.Overdue"),
      create(billing.OverdueSchema, {
        accountId: "a",
        customerId: "c",
        daysPastDue: 35,
        bucket: billing.DelinquencyBucket.M2,
        overdueFen: 150n,
        totalBalanceFen: 300n,
        businessDate: "2026-12-01",
      }),
    );
    expect(f).toMatchObject({
      trigger: "OVERDUE",
      dpd: 35,
      bucket: "M2",
      factId: "ev-1",
      vars: { overdue: 150n, total: 300n, asOf: "2026-12-01" },
    });
  });
  it("DueSoon and PaymentReceived (paid date in Asia/Shanghai)", () => {
    expect(
      dueSoonFact(
        meta("t"),
        create(billing.DueSoonSchema, {
          accountId: "a",
          customerId: "c",
          amountDueFen: 5n,
          dueDate: "2026-12-05",
        }),
      ).vars,
    ).toMatchObject({ amountDue: 5n, dueDate: "2026-12-05" });
    const p = paymentReceivedFact(
      meta("t"),
      create(billing.PaymentReceivedSchema, {
        accountId: "a",
        customerId: "c",
        amountFen: 9n,
        receivedAt: timestampFromDate(new Date("2026-12-01T17:30:00Z")),
      }),
    );
    expect(p.vars.paidOn).toBe("2026-12-02");
  });
  it("a line change without a limit change is not customer news", () => {
    expect(
      creditLineChangedFact(
        meta("t"),
        create(credit.CreditLineChangedSchema, {
          creditLineId: "a",
          customerId: "c",
          limitFen: 5n,
          previousLimitFen: 5n,
        }),
      ),
    ).toBeUndefined();
    expect(
      creditLineChangedFact(
        meta("t"),
        create(credit.CreditLineChangedSchema, {
          creditLineId: "a",
          customerId: "c",
          limitFen: 6n,
          previousLimitFen: 5n,
        }),
      )?.accountId,
    ).toBe("a");
  });
  it("legal facts publish their notice id as fact id", () => {
    expect(
      negativeReportPendingFact(
        meta("t"),
        create(creditreporting.NegativeReportPendingSchema, {
          noticeId: "n-1",
          accountId: "a",
          customerId: "c",
        }),
      ).factId,
    ).toBe("n-1");
    expect(
      legalNoticeRequestedFact(
        meta("t"),
        create(collections.LegalNoticeRequestedSchema, { noticeId: "n-2", accountId: "a", customerId: "c" }),
      ).factId,
    ).toBe("n-2");
  });
});

describe("notification events", () => {
  const m: Message = {
    id: "m-1",
    customerId: "c",
    accountId: "a",
    category: "LEGAL",
    channel: "EMAIL",
    template: "pre-report-notice@1",
    locale: "en",
    subject: "s",
    body: "b",
    status: "FAILED",
    scheduledAt: new Date(),
    scheduleReason: "",
    createdAt: new Date(),
    attempts: 3,
    factEventId: "ev",
    factId: "n-1",
    factType: "whiteslip.creditreporting.v1.NegativeReportPending",
    ruleId: "r",
    engagedKinds: [],
  };
  it("encode with deterministic ids, account key, and round-trip the payload", () => {
    const at = new Date("2026-12-01T02:00:00Z");
    const [ev] = encodeNotificationEvents(m, [
      { type: "FAILED", at, error: "smtp down", attempts: 3, fallbackChannel: "SMS" },
    ]);
    expect(ev!.topic).toBe(Topics.NotificationFailed.topic);
    expect(ev!.key).toBe("a");
    expect(ev!.headers.ce_id).toBe(deterministicId("NotificationFailed", "m-1"));
    const data = fromBinary(pb.NotificationFailedSchema, ev!.value);
    expect(data).toMatchObject({
      error: "smtp down",
      attempts: 3,
      fallbackChannel: pb.Channel.SMS,
      ref: { notificationId: "m-1", factId: "n-1", category: pb.Category.LEGAL },
    });
  });
  it("a message that will never be sent: NotificationSuppressed with its status, the rule's code and reason, once per message", () => {
    const at = new Date("2026-12-01T02:00:00Z");
    const unsent: Message = { ...m, status: "EXPIRED", reasonCode: "VALIDITY_ENDED", statusReason: "validity window ended 2026-12-01T16:00:00.000Z" };
    const [ev] = encodeNotificationEvents(unsent, [{ type: "UNSENT", at }]);
    expect(ev!.topic).toBe("whiteslip.notification.notification-suppressed.v1");
    expect(ev!.headers.ce_id).toBe(deterministicId("NotificationSuppressed", "m-1"));
    const data = fromBinary(pb.NotificationSuppressedSchema, ev!.value);
    expect(data).toMatchObject({
      status: pb.DeliveryStatus.EXPIRED,
      reasonCode: "VALIDITY_ENDED",
      reason: "validity window ended 2026-12-01T16:00:00.000Z",
      ref: { notificationId: "m-1", factId: "n-1" },
    });
    // the contract refuses a status that is a send, or a code that does not fit the status (encodeEvent checks it)
    expect(() => encodeNotificationEvents({ ...unsent, status: "SENT" }, [{ type: "UNSENT", at }])).toThrow(/status/);
    expect(() => encodeNotificationEvents({ ...unsent, reasonCode: "OPTED_OUT" }, [{ type: "UNSENT", at }])).toThrow(/reason_code/);
  });
});

describe("config and redaction", () => {
  it("names each bad variable", () => {
    expect(() =>
      loadNotificationConfig({
        KAFKA_BROKERS: "k:9092",
        MONGODB_URI: "mongodb://x",
        SMTP_PORT: "0",
        SMS_PROVIDER_URL: "ftp://x",
      }),
    ).toThrow(/SMTP_PORT[\s\S]*SMS_PROVIDER_URL/);
    expect(loadNotificationConfig({ KAFKA_BROKERS: "k:9092", MONGODB_URI: "mongodb://x", GRPC_PLAINTEXT_DEV: "1" })).toMatchObject({
      SERVICE_NAME: "notification",
      CONSUMER_GROUP: "notification",
      QUIET_HOURS_START: 21,
      CAP_PER_DAY: 3,
    });
  });
  it("provider errors lose addresses and numbers", () => {
    expect(redactContacts("550 <li.lei@example.com> rejected; +86 138 0013 8000 unknown")).toBe(
      "550 <[email]> rejected; [number] unknown",
    );
  });
});
