import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

/** A message a local provider received. */
export interface SandboxMessage {
  channel: "EMAIL" | "SMS" | "PUSH" | "VOICE";
  to: string;
  subject?: string;
  text: string;
  receivedAt: Date;
  /**
   * Notification's message id: the `Idempotency-Key` of an HTTP request, the `X-Whiteslip-Message-Id` header of an
   * email. What a fault test counts duplicates by.
   */
  messageId?: string;
}

/** One POST the HTTP sandbox answered, first delivery or idempotent replay. */
export interface SandboxRequest {
  channel: "SMS" | "PUSH" | "VOICE";
  idempotencyKey: string;
  /** True when the key was seen before: the stored response was replayed and nothing was delivered again. */
  replayed: boolean;
}

/** One question a client asked a sandbox's lookup API, and its answer. */
export interface SandboxLookup {
  channel: "EMAIL" | "SMS" | "PUSH" | "VOICE";
  /** The Message-ID (email, without brackets) or idempotency key asked for. */
  key: string;
  found: boolean;
}

/**
 * Provider sandboxes for the local run: a real SMTP server for email and an HTTP
 * provider API (`POST /v1/messages`, the shape notification's adapters speak) for
 * SMS, push and voice. Nothing leaves the machine; the demo shows what arrived.
 *
 * The HTTP sandbox behaves like a real provider with idempotency keys (Stripe's and
 * most SMS gateways' contract): the first POST with an `Idempotency-Key` delivers and
 * stores its response; any later POST with the same key (per channel) gets the same
 * response and delivers nothing. `GET <base>/<channel>/v1/messages?idempotency_key=K`
 * answers 200 with the stored response or 404 — how a client asks "did you get it?".
 * SMTP has no such contract: the SMTP sink accepts every DATA, as a real relay does. What it accepted can be asked
 * afterwards, as an email provider's event log is (Mailgun's `GET /v3/<domain>/events?message-id=`, SES event
 * publishing, SendGrid's activity feed): `GET <base>/email/v1/events?message-id=<id>` answers
 * `{items: [{event: "accepted", "message-id", timestamp, id}]}` for each email the SMTP sink accepted (its 250)
 * under that RFC 5322 Message-ID, `{items: []}` when none — a real lookup against what the sink received.
 */
export interface ProviderSandbox {
  smtpPort: number;
  httpBase: string;
  /** Every delivery (an idempotent replay is not one). */
  messages: SandboxMessage[];
  /** Every POST the HTTP sandbox answered, replays included. */
  requests: SandboxRequest[];
  /** Every lookup a client made (email events and idempotency keys). */
  lookups: SandboxLookup[];
  /** True when the HTTP sandbox holds `key` for `channel`. */
  hasKey(channel: "SMS" | "PUSH" | "VOICE", key: string): boolean;
  onMessage?: (m: SandboxMessage) => void;
  /** Environment for the notification service. */
  env(): Record<string, string>;
  stop(): Promise<void>;
}

/** Starts the SMTP and HTTP sandboxes on free loopback ports. */
export async function startProviderSandbox(): Promise<ProviderSandbox> {
  const messages: SandboxMessage[] = [];
  const requests: SandboxRequest[] = [];
  const lookups: SandboxLookup[] = [];
  /** Emails the SMTP sink accepted, by Message-ID (without brackets): the event log. */
  const accepted = new Map<string, { id: string; timestamp: number }[]>();
  let emailSeq = 0;
  const sandbox: Partial<ProviderSandbox> & { messages: SandboxMessage[] } = { messages };
  const push = (m: SandboxMessage) => {
    messages.push(m);
    sandbox.onMessage?.(m);
  };

  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        const subject = decodeMimeWords(/^Subject: (.*(?:\r?\n[ \t].*)*)$/im.exec(raw)?.[1]?.replace(/\r?\n[ \t]/g, " ").trim());
        const head = raw.split(/\r?\n\r?\n/)[0] ?? "";
        const messageId = /^X-Whiteslip-Message-Id:\s*(\S+)/im.exec(head)?.[1];
        const rfcId = /^Message-ID:\s*<([^>\s]+)>/im.exec(head)?.[1];
        // logged before the 250 (callback below): once the client may have its answer, the log has the email
        if (rfcId) accepted.set(rfcId, [...(accepted.get(rfcId) ?? []), { id: `sandbox-email-${++emailSeq}`, timestamp: Date.now() / 1000 }]);
        push({
          channel: "EMAIL",
          ...(messageId ? { messageId } : {}),
          to: session.envelope.rcptTo.map((r) => r.address).join(","),
          ...(subject ? { subject } : {}),
          text: raw.split(/\r?\n\r?\n/).slice(1).join("\n\n").slice(0, 2000),
          receivedAt: new Date(),
        });
        callback();
      });
    },
  });
  // A client that dies mid-transaction (the fault suite's kill -9 of notification) resets its connection: a relay
  // drops that session (nothing was accepted: the message is logged only at the end of DATA) and keeps serving.
  // Without a listener smtp-server's "error" event would be an uncaught exception of the process hosting the sink.
  smtp.on("error", () => {});
  await new Promise<void>((r) => smtp.listen(0, "127.0.0.1", () => r()));
  const smtpPort = ((smtp as unknown as { server: Server }).server.address() as AddressInfo).port;

  let seq = 0;
  type Channel = SandboxRequest["channel"];
  /** Stored responses by `${channel}:${idempotency key}`. */
  const byKey = new Map<string, { status: number; body: string }>();
  const http = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://sandbox");
    const [, channelPart, version, resource] = url.pathname.split("/");
    if (channelPart === "email" && version === "v1" && resource === "events" && req.method === "GET") {
      const key = url.searchParams.get("message-id") ?? "";
      const items = (accepted.get(key) ?? []).map((e) => ({ event: "accepted", "message-id": key, ...e }));
      lookups.push({ channel: "EMAIL", key, found: items.length > 0 });
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ items }));
      return;
    }
    const channel = channelPart?.toUpperCase() as Channel | undefined;
    if (!channel || !["SMS", "PUSH", "VOICE"].includes(channel) || version !== "v1" || resource !== "messages") {
      res.writeHead(404).end();
      return;
    }
    if (req.method === "GET") {
      const key = url.searchParams.get("idempotency_key") ?? "";
      const stored = byKey.get(`${channel}:${key}`);
      lookups.push({ channel, key, found: stored !== undefined });
      if (!stored) res.writeHead(404, { "content-type": "application/json" }).end('{"error":"unknown idempotency key"}');
      else res.writeHead(200, { "content-type": "application/json" }).end(stored.body);
      return;
    }
    if (req.method !== "POST") {
      res.writeHead(405).end();
      return;
    }
    const body: Buffer[] = [];
    req.on("data", (c: Buffer) => body.push(c));
    req.on("end", () => {
      const key = String(req.headers["idempotency-key"] ?? "");
      const stored = key ? byKey.get(`${channel}:${key}`) : undefined;
      requests.push({ channel, idempotencyKey: key, replayed: stored !== undefined });
      if (stored) {
        // A retry of a request already handled: the same answer, no second delivery.
        res.writeHead(stored.status, { "content-type": "application/json", "idempotent-replayed": "true" });
        res.end(stored.body);
        return;
      }
      const json = JSON.parse(Buffer.concat(body).toString("utf8") || "{}") as Record<string, string>;
      push({
        channel,
        to: json.to ?? json.token ?? "",
        ...(json.title ? { subject: json.title } : {}),
        text: json.text ?? json.body ?? json.script ?? "",
        receivedAt: new Date(),
        ...(key ? { messageId: key } : {}),
      });
      const answer = { status: 202, body: JSON.stringify({ id: `sandbox-${++seq}`, status: "delivered" }) };
      if (key) byKey.set(`${channel}:${key}`, answer);
      res.writeHead(answer.status, { "content-type": "application/json" });
      res.end(answer.body);
    });
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", () => r()));
  const httpBase = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

  return Object.assign(sandbox, {
    smtpPort,
    httpBase,
    requests,
    lookups,
    hasKey: (channel: Channel, key: string) => byKey.has(`${channel}:${key}`),
    env: () => ({
      SMTP_HOST: "127.0.0.1",
      SMTP_PORT: String(smtpPort),
      SMTP_IGNORE_TLS: "true",
      EMAIL_EVENTS_URL: `${httpBase}/email`,
      EMAIL_EVENTS_API_KEY: "sandbox",
      // the sink logs an email before its 250: its log never lags
      EMAIL_EVENTS_SETTLE_MS: "0",
      SMS_PROVIDER_URL: `${httpBase}/sms`,
      PUSH_PROVIDER_URL: `${httpBase}/push`,
      VOICE_PROVIDER_URL: `${httpBase}/voice`,
      SMS_PROVIDER_API_KEY: "sandbox",
      PUSH_PROVIDER_API_KEY: "sandbox",
      VOICE_PROVIDER_API_KEY: "sandbox",
    }),
    stop: async () => {
      await new Promise<void>((r) => smtp.close(() => r()));
      await new Promise<void>((r) => http.close(() => r()));
    },
  }) as ProviderSandbox;
}

/** Decodes RFC 2047 encoded words (`=?UTF-8?B?…?=`, `=?UTF-8?Q?…?=`) in a header value. */
export function decodeMimeWords(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return value
    .replace(/\?=\s+=\?/g, "?==?")
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, _charset: string, enc: string, text: string) =>
      enc.toUpperCase() === "B"
        ? Buffer.from(text, "base64").toString("utf8")
        : Buffer.from(text.replace(/_/g, " ").replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), "latin1").toString("utf8"),
    );
}
