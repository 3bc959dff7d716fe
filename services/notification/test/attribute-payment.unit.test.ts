import { describe, expect, it } from "vitest";
import { messagePaidAfter } from "../src/app/attribute-payment";
import type { Message } from "../src/domain/model";

const at = (local: string) => new Date(`${local}+08:00`);

function msg(id: string, over: Partial<Message> = {}): Message {
  return {
    id,
    customerId: "c1",
    accountId: "a1",
    category: "COLLECTION",
    channel: "SMS",
    template: "overdue-notice@1",
    locale: "en",
    subject: "",
    body: "",
    status: "DELIVERED",
    scheduledAt: at("2026-12-22T10:00"),
    scheduleReason: "",
    createdAt: at("2026-12-22T10:00"),
    deliveredAt: at("2026-12-22T10:00"),
    attempts: 1,
    factEventId: `f-${id}`,
    factId: `f-${id}`,
    factType: "whiteslip.billing.v1.Overdue",
    ruleId: "r",
    engagedKinds: [],
    ...over,
  };
}

describe("which message a payment answers", () => {
  const paidAt = at("2026-12-22T14:00");

  it("the latest reminder, collection or legal notice of the account delivered within the 24 hours before", () => {
    const older = msg("older", { deliveredAt: at("2026-12-21T15:00") });
    const latest = msg("latest", { category: "REMINDER", deliveredAt: at("2026-12-22T09:00") });
    expect(messagePaidAfter([older, latest], "a1", paidAt)?.id).toBe("latest");
    expect(messagePaidAfter([older], "a1", paidAt)?.id).toBe("older");
    expect(messagePaidAfter([msg("legal", { category: "LEGAL" })], "a1", paidAt)?.id).toBe("legal");
  });

  it.each([
    ["more than 24 hours before", { deliveredAt: at("2026-12-21T13:59") }],
    ["delivered after the payment", { deliveredAt: at("2026-12-22T14:01") }],
    ["not delivered", { status: "FAILED" as const, deliveredAt: undefined }],
    ["a receipt (transactional)", { category: "TRANSACTIONAL" as const }],
    ["marketing", { category: "MARKETING" as const }],
    ["another account", { accountId: "a2" }],
  ])("not a message %s", (_what, over) => {
    expect(messagePaidAfter([msg("m", over)], "a1", paidAt)).toBeNull();
  });

  it("of two copies delivered together, the outbound one rather than the inbox one", () => {
    const inApp = msg("0-inbox", { channel: "IN_APP" });
    const sms = msg("1-sms", { channel: "SMS" });
    expect(messagePaidAfter([inApp, sms], "a1", paidAt)?.id).toBe("1-sms");
  });

  it("exactly 24 hours before still counts", () => {
    expect(messagePaidAfter([msg("m", { deliveredAt: at("2026-12-21T14:00") })], "a1", paidAt)?.id).toBe("m");
  });
});
