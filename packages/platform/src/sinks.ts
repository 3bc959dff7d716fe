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
}

/**
 * Provider sandboxes for the local run: a real SMTP server for email and an HTTP
 * provider API (`POST /v1/messages`, the shape notification's adapters speak) for
 * SMS, push and voice. Nothing leaves the machine; the demo shows what arrived.
 */
export interface ProviderSandbox {
  smtpPort: number;
  httpBase: string;
  messages: SandboxMessage[];
  onMessage?: (m: SandboxMessage) => void;
  /** Environment for the notification service. */
  env(): Record<string, string>;
  stop(): Promise<void>;
}

/** Starts the SMTP and HTTP sandboxes on free loopback ports. */
export async function startProviderSandbox(): Promise<ProviderSandbox> {
  const messages: SandboxMessage[] = [];
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
        push({
          channel: "EMAIL",
          to: session.envelope.rcptTo.map((r) => r.address).join(","),
          ...(subject ? { subject } : {}),
          text: raw.split(/\r?\n\r?\n/).slice(1).join("\n\n").slice(0, 2000),
          receivedAt: new Date(),
        });
        callback();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, "127.0.0.1", () => r()));
  const smtpPort = ((smtp as unknown as { server: Server }).server.address() as AddressInfo).port;

  let seq = 0;
  const http = createServer((req, res) => {
    const channel = (req.url ?? "").split("/")[1]?.toUpperCase();
    if (req.method !== "POST" || !["SMS", "PUSH", "VOICE"].includes(channel ?? "")) {
      res.writeHead(404).end();
      return;
    }
    const body: Buffer[] = [];
    req.on("data", (c: Buffer) => body.push(c));
    req.on("end", () => {
      const json = JSON.parse(Buffer.concat(body).toString("utf8") || "{}") as Record<string, string>;
      push({
        channel: channel as SandboxMessage["channel"],
        to: json.to ?? json.token ?? "",
        ...(json.title ? { subject: json.title } : {}),
        text: json.text ?? json.body ?? json.script ?? "",
        receivedAt: new Date(),
      });
      res.writeHead(202, { "content-type": "application/json" });
      res.end(JSON.stringify({ id: `sandbox-${++seq}`, status: "delivered" }));
    });
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", () => r()));
  const httpBase = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

  return Object.assign(sandbox, {
    smtpPort,
    httpBase,
    env: () => ({
      SMTP_HOST: "127.0.0.1",
      SMTP_PORT: String(smtpPort),
      SMTP_IGNORE_TLS: "true",
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
