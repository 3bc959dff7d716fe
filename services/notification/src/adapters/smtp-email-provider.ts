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
}

/**
 * Email over real SMTP (nodemailer). A 250 for the recipient counts as delivered
 * (the receiving server accepted it: the synchronous receipt); a 5xx is permanent
 * (no retry, fall back); anything else — connection refused, timeouts, 4xx — is
 * transient and retried with backoff.
 *
 * SMTP cannot deduplicate: a second DATA is a second email. The Message-ID is
 * deterministic (RFC 5322 `msg-id`, `<message id@notification.whiteslip>`), so a
 * mail log, the recipient's client or an operator can recognise a copy, but the
 * relay accepts it. Hence `deduplicates = false` and no `lookup`: a send whose
 * outcome was lost goes to reconciliation, never to a blind resend.
 */
export class SmtpEmailProvider implements ChannelProvider {
  readonly deduplicates = false;
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
