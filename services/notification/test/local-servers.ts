/** Real local servers for int tests: an SMTP server (smtp-server) and an HTTP SMS/push/voice provider (node:http). */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

/** An email as received by the SMTP server, decoded. */
export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  body: string;
  raw: string;
}

/** Decodes RFC 2047 encoded words (`=?UTF-8?B?…?=`, `=?UTF-8?Q?…?=`) in an unfolded header value. */
export function decodeHeader(v: string): string {
  return v
    .replace(/\?=\s+=\?/g, "?==?")
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_m, _cs: string, enc: string, text: string) =>
      enc.toUpperCase() === "B"
        ? Buffer.from(text, "base64").toString("utf8")
        : Buffer.from(
            text
              .replace(/_/g, " ")
              .replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16))),
            "latin1",
          ).toString("utf8"),
    );
}

/** Parses a single-part text email as nodemailer writes it. */
export function parseMail(raw: string, from: string, to: string[]): ReceivedMail {
  const split = raw.indexOf("\r\n\r\n");
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, " ");
  const bodyRaw = raw.slice(split + 4);
  const header = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, "im").exec(head)?.[1] ?? "";
  const cte = header("Content-Transfer-Encoding").toLowerCase();
  let body = bodyRaw;
  if (cte === "base64") body = Buffer.from(bodyRaw.replace(/\s+/g, ""), "base64").toString("utf8");
  else if (cte === "quoted-printable")
    body = Buffer.from(
      bodyRaw
        .replace(/=\r\n/g, "")
        .replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16))),
      "latin1",
    ).toString("utf8");
  return { from, to, subject: decodeHeader(header("Subject")), body: body.trim(), raw };
}

/** A real SMTP server on a free port that keeps what it receives; `down` makes it answer 421 to every connection. */
export async function startSmtpSink(): Promise<{
  port: number;
  mails: ReceivedMail[];
  setDown(down: boolean): void;
  connections: number;
  stop(): Promise<void>;
}> {
  const mails: ReceivedMail[] = [];
  let down = false;
  const state = { connections: 0 };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onConnect(_session, cb) {
      state.connections++;
      if (down)
        return cb(Object.assign(new Error("Service not available, try again later"), { responseCode: 421 }));
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : "";
        mails.push(
          parseMail(
            Buffer.concat(chunks).toString("latin1"),
            from,
            session.envelope.rcptTo.map((r) => r.address),
          ),
        );
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    mails,
    setDown: (d) => {
      down = d;
    },
    get connections() {
      return state.connections;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A request the HTTP provider received. */
export interface ProviderRequest {
  path: string;
  apiKey: string;
  idempotencyKey: string;
  body: Record<string, unknown>;
}

/** A local HTTP provider: records JSON POSTs and answers 200 `{id, status: "delivered"}` (or `failWith` status). */
export async function startHttpProvider(): Promise<{
  url: string;
  requests: ProviderRequest[];
  failWith: number | undefined;
  stop(): Promise<void>;
}> {
  const requests: ProviderRequest[] = [];
  const ctl = { failWith: undefined as number | undefined };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (ctl.failWith) {
        res.writeHead(ctl.failWith, { "content-type": "application/json" }).end('{"error":"unavailable"}');
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
      requests.push({
        path: req.url ?? "",
        apiKey: String(req.headers["x-api-key"] ?? ""),
        idempotencyKey: String(req.headers["idempotency-key"] ?? ""),
        body,
      });
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ id: `prov-${requests.length}`, status: "delivered" }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get failWith() {
      return ctl.failWith;
    },
    set failWith(v) {
      ctl.failWith = v;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
