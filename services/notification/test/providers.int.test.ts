/** The channel adapters against real local servers: SMTP (smtp-server) and an HTTP provider (node:http). */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HttpChannelProvider } from "../src/adapters/http-channel-provider";
import { SmtpEmailProvider } from "../src/adapters/smtp-email-provider";
import { type OutboundMessage, ProviderError } from "../src/app/ports";
import { startHttpProvider, startSmtpSink } from "./local-servers";

const msg = (over: Partial<OutboundMessage> = {}): OutboundMessage => ({
  messageId: "m-1",
  channel: "EMAIL",
  to: "zhang.san@example.com",
  subject: "还款提醒：账单将于2026年12月5日到期",
  body: "您的本期账单应还¥1,234.56。",
  locale: "zh-CN",
  category: "REMINDER",
  ...over,
});

let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
let http: Awaited<ReturnType<typeof startHttpProvider>>;
beforeAll(async () => {
  [smtp, http] = await Promise.all([startSmtpSink(), startHttpProvider()]);
});
afterAll(async () => {
  await Promise.all([smtp.stop(), http.stop()]);
});

describe("SmtpEmailProvider", () => {
  const provider = () =>
    new SmtpEmailProvider({
      host: "127.0.0.1",
      port: smtp.port,
      secure: false,
      ignoreTls: true,
      from: "Whiteslip <no-reply@whiteslip.example>",
      timeoutMs: 2000,
    });
  it("delivers a UTF-8 email that reads back intact, with our message id", async () => {
    const r = await provider().send(msg());
    expect(r).toEqual({ providerMessageId: "<m-1@notification.whiteslip>", delivered: true });
    const mail = smtp.mails.at(-1)!;
    expect(mail.to).toEqual(["zhang.san@example.com"]);
    expect(mail.subject).toBe("还款提醒：账单将于2026年12月5日到期");
    expect(mail.body).toBe("您的本期账单应还¥1,234.56。");
    expect(mail.raw).toMatch(/X-Whiteslip-Category: REMINDER/);
  });
  it("a server answering 421 is a transient error whose text has no address in it", async () => {
    smtp.setDown(true);
    try {
      const err = await provider()
        .send(msg())
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProviderError);
      expect((err as ProviderError).permanent).toBe(false);
      expect((err as ProviderError).message).not.toContain("zhang.san");
    } finally {
      smtp.setDown(false);
    }
  });
  it("nothing listening is a transient error", async () => {
    const p = new SmtpEmailProvider({
      host: "127.0.0.1",
      port: 1,
      secure: false,
      ignoreTls: true,
      from: "x@y.z",
      timeoutMs: 1000,
    });
    await expect(p.send(msg())).rejects.toMatchObject({ permanent: false });
  });
});

describe("HttpChannelProvider", () => {
  const sms = () =>
    new HttpChannelProvider({ channel: "SMS", baseUrl: `${http.url}/`, apiKey: "k-1", timeoutMs: 2000 });
  it("POSTs JSON with the API key and idempotency key, and reads the provider id and receipt", async () => {
    const r = await sms().send(msg({ channel: "SMS", to: "+8613800138000" }));
    expect(r.delivered).toBe(true);
    expect(r.providerMessageId).toMatch(/^prov-\d+$/);
    expect(http.requests.at(-1)).toEqual({
      path: "/v1/messages",
      apiKey: "k-1",
      idempotencyKey: "m-1",
      body: {
        reference: "m-1",
        category: "REMINDER",
        locale: "zh-CN",
        to: "+8613800138000",
        text: "您的本期账单应还¥1,234.56。",
      },
    });
  });
  it("push sends token, title and body", async () => {
    await new HttpChannelProvider({ channel: "PUSH", baseUrl: http.url, apiKey: "k", timeoutMs: 2000 }).send(
      msg({ channel: "PUSH", to: "tok" }),
    );
    expect(http.requests.at(-1)!.body).toMatchObject({
      token: "tok",
      title: "还款提醒：账单将于2026年12月5日到期",
    });
  });
  it.each([
    [503, false],
    [429, false],
    [400, true],
    [401, true],
  ])("HTTP %i → ProviderError permanent=%s", async (status, permanent) => {
    http.failWith = status;
    try {
      await expect(sms().send(msg({ channel: "SMS", to: "+8613800138000" }))).rejects.toMatchObject({
        name: "ProviderError",
        permanent,
      });
    } finally {
      http.failWith = undefined;
    }
  });
  it("an unreachable provider is transient", async () => {
    await expect(
      new HttpChannelProvider({
        channel: "SMS",
        baseUrl: "http://127.0.0.1:1",
        apiKey: "k",
        timeoutMs: 500,
      }).send(msg()),
    ).rejects.toMatchObject({ permanent: false });
  });
});
