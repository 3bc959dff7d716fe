import nodemailer, { type Transporter } from "nodemailer";
import {
  type ChannelProvider,
  type OutboundMessage,
  ProviderError,
  type ProviderReceipt,
} from "../app/ports";
import { redactContacts } from "./redact";

/** The RFC 5322 Message-ID of our message `id` (ids are hex/dash dot-atom text, valid as `id-left`). */
export function emailMessageId(id: string): string {
  return `<${id}@notification.whiteslip>`;
}

/** SMTP settings. */
export interface SmtpOptions {
  /** Server host. */
  host: string;
  /** Server port. */
  port: number;
  /** Implicit TLS (port 465). */
  secure: boolean;
  /** Do not try STARTTLS (local relays and test servers). */
  ignoreTls: boolean;
  /** Auth user (optional). */
  user?: string;
  /** Auth password (optional). */
  pass?: string;
  /** From address. */
  from: string;
  /** Connection and greeting timeout. */
  timeoutMs: number;
  /**
   * The email provider's event log (Mailgun's `GET /v3/<domain>/events?message-id=`, SES's event destination, the
   * local sandbox's `GET <url>/v1/events?message-id=`): when set, a message whose send was lost is looked up there
   * by its Message-ID instead of going to an operator.
   */
  events?: { url: string; apiKey: string; timeoutMs: number; settleMs: number };
}

/**
 * Email over real SMTP (nodemailer). A 250 for the recipient counts as delivered
 * (the receiving server accepted it: the synchronous receipt); a 5xx is permanent
 * (no retry, fall back); anything else — connection refused, timeouts, 4xx — is
 * transient and retried with backoff.
 *
 * SMTP cannot deduplicate: a second DATA is a second email. The Message-ID is
 * deterministic (RFC 5322 `msg-id`, `<message id@notification.whiteslip>`), so the
 * provider's event log can be asked for it: with `events` configured, `lookup`
 * queries `GET <events.url>/v1/events?message-id=<message id@notification.whiteslip>`
 * (the shape of Mailgun's events API: `{items: [{event, "message-id", timestamp}]}`)
 * and a send whose outcome was lost is recorded from the log, or — once the log has
 * had `settleMs` to catch up and still has no record of it — sent for the first
 * time. Without `events` there is no `lookup`, and such a send goes to an operator
 * (RECONCILE), never to a blind resend.
 */
export class SmtpEmailProvider implements ChannelProvider {
  readonly deduplicates = false;
  readonly lookupSettleMs: number;
  readonly lookup?: (messageId: string) => Promise<ProviderReceipt | null>;
  private readonly transport: Transporter;
  constructor(private readonly opts: SmtpOptions) {
    this.transport = nodemailer.createTransport({
      host: opts.host,
      port: opts.port,
      secure: opts.secure,
      ignoreTLS: opts.ignoreTls,
      auth: opts.user ? { user: opts.user, pass: opts.pass ?? "" } : undefined,
      connectionTimeout: opts.timeoutMs,
      greetingTimeout: opts.timeoutMs,
      socketTimeout: opts.timeoutMs * 2,
    });
    this.lookupSettleMs = opts.events?.settleMs ?? 0;
    const events = opts.events;
    if (events) this.lookup = (id) => lookupEvents(events, id);
  }

  /** Sends one email; the Message-ID is derived from our message id so a resend is recognisable. */
  async send(m: OutboundMessage): Promise<ProviderReceipt> {
    try {
      const info = await this.transport.sendMail({
        from: this.opts.from,
        to: m.to,
        subject: m.subject,
        text: m.body,
        messageId: emailMessageId(m.messageId),
        headers: {
          "X-Whiteslip-Message-Id": m.messageId,
          "X-Whiteslip-Category": m.category,
          "Content-Language": m.locale,
        },
      });
      if (info.rejected.length > 0) throw new ProviderError("recipient rejected by SMTP server", true);
      return { providerMessageId: info.messageId, delivered: true };
    } catch (err) {
      if (err instanceof ProviderError) throw err;
      const code = (err as { responseCode?: number }).responseCode;
      const text = redactContacts(err instanceof Error ? err.message : String(err));
      throw new ProviderError(`smtp: ${text}`, code !== undefined && code >= 500 && code < 600);
    }
  }

  /** Closes pooled connections. */
  close(): void {
    this.transport.close();
  }
}

/** Event kinds of an email provider's log that mean it took the message (accepted for delivery, or further). */
const TAKEN = new Set(["accepted", "delivered", "opened", "clicked"]);

/** Asks the provider's event log for the email with our Message-ID; null when the log has no record of it. */
async function lookupEvents(
  events: NonNullable<SmtpOptions["events"]>,
  messageId: string,
): Promise<ProviderReceipt | null> {
  const msgId = emailMessageId(messageId).slice(1, -1);
  const url = `${events.url.replace(/\/+$/, "")}/v1/events?message-id=${encodeURIComponent(msgId)}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: { "x-api-key": events.apiKey }, signal: AbortSignal.timeout(events.timeoutMs) });
  } catch (err) {
    throw new ProviderError(`email events unreachable: ${redactContacts(err instanceof Error ? err.message : String(err))}`, false);
  }
  const text = await res.text();
  if (!res.ok) throw new ProviderError(`email events lookup HTTP ${res.status}`, false);
  let body: { items?: { event?: unknown; timestamp?: unknown; id?: unknown }[] };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new ProviderError("email events lookup answered no JSON", false);
  }
  if (!Array.isArray(body.items)) throw new ProviderError("email events lookup answered no items", false);
  const first = body.items.find((e) => typeof e.event === "string" && TAKEN.has(e.event));
  if (!first) return null;
  const ts = typeof first.timestamp === "number" ? new Date(first.timestamp * 1000) : undefined;
  return {
    providerMessageId: `<${msgId}>`, // what a send answers (nodemailer's messageId), whichever way it was learnt
    delivered: true,
    ...(ts && !Number.isNaN(ts.getTime()) ? { acceptedAt: ts } : {}),
  };
}
