import {
  type ChannelProvider,
  type OutboundMessage,
  ProviderError,
  type ProviderReceipt,
} from "../app/ports";
import type { Channel } from "../domain/model";
import { redactContacts } from "./redact";

/** Settings of one HTTP provider. */
export interface HttpProviderOptions {
  /** SMS, PUSH or VOICE. */
  channel: Channel;
  /** Base URL, e.g. `https://sms.example.com`; messages are POSTed to `<base>/v1/messages`. */
  baseUrl: string;
  /** Sent as `X-Api-Key`. */
  apiKey: string;
  /** Request timeout. */
  timeoutMs: number;
}

/**
 * SMS, push and voice through an HTTP provider API of the usual shape: JSON POST
 * to `<base>/v1/messages` with an `X-Api-Key` header and our message id as
 * `Idempotency-Key` (so a retry after a lost response is not a second SMS).
 * 2xx = accepted; the provider's id is read from `id` (or `messageId`), and a
 * `status` of `delivered` is taken as a synchronous delivery receipt. 4xx other
 * than 408/429 is permanent; 5xx, 408, 429, timeouts and network errors are
 * retried.
 *
 * The provider deduplicates by the key: a second POST with the same key answers
 * the first response and delivers nothing, so a send whose outcome was lost (a
 * crash before the record) is simply repeated. `GET <base>/v1/messages?idempotency_key=K`
 * asks whether the provider has a message (200 with its response, 404 when not).
 */
export class HttpChannelProvider implements ChannelProvider {
  readonly deduplicates = true;
  constructor(private readonly opts: HttpProviderOptions) {}

  /** Asks the provider for the message sent under `messageId` (our idempotency key); null when it never got it. */
  async lookup(messageId: string): Promise<ProviderReceipt | null> {
    const url = `${this.opts.baseUrl.replace(/\/+$/, "")}/v1/messages?idempotency_key=${encodeURIComponent(messageId)}`;
    const res = await this.request(url, { headers: { "x-api-key": this.opts.apiKey } });
    const text = await res.text();
    if (res.status === 404) return null;
    if (!res.ok)
      throw new ProviderError(`${this.opts.channel.toLowerCase()} provider lookup HTTP ${res.status}`, false);
    return receiptOf(text);
  }

  /** POSTs one message to the provider. */
  async send(m: OutboundMessage): Promise<ProviderReceipt> {
    const url = `${this.opts.baseUrl.replace(/\/+$/, "")}/v1/messages`;
    const res = await this.request(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-api-key": this.opts.apiKey,
        "idempotency-key": m.messageId,
      },
      body: JSON.stringify(payload(this.opts.channel, m)),
    });
    const text = await res.text();
    if (!res.ok) {
      const permanent = res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429;
      throw new ProviderError(
        `${this.opts.channel.toLowerCase()} provider HTTP ${res.status}: ${redactContacts(text.slice(0, 200))}`,
        permanent,
      );
    }
    return receiptOf(text);
  }

  /** One HTTP call with the timeout; a network failure is a transient ProviderError without addresses in it. */
  private async request(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, { ...init, signal: AbortSignal.timeout(this.opts.timeoutMs) });
    } catch (err) {
      throw new ProviderError(
        `${this.opts.channel.toLowerCase()} provider unreachable: ${redactContacts(err instanceof Error ? err.message : String(err))}`,
        false,
      );
    }
  }
}

/** The receipt in a provider's 2xx answer. */
function receiptOf(text: string): ProviderReceipt {
  let body: { id?: unknown; messageId?: unknown; status?: unknown } = {};
  try {
    body = text ? (JSON.parse(text) as typeof body) : {};
  } catch {
    // A 2xx without JSON is still an acceptance.
  }
  const id = typeof body.id === "string" ? body.id : typeof body.messageId === "string" ? body.messageId : "";
  return { providerMessageId: id, delivered: body.status === "delivered" };
}

function payload(channel: Channel, m: OutboundMessage): Record<string, unknown> {
  const common = { reference: m.messageId, category: m.category, locale: m.locale };
  switch (channel) {
    case "PUSH":
      return { ...common, token: m.to, title: m.subject, body: m.body };
    case "VOICE":
      return { ...common, to: m.to, script: m.body, language: m.locale };
    default:
      return { ...common, to: m.to, text: m.body };
  }
}
