/** Calls to the console's JSON API; errors keep the server's code, reason (the refusing rule) and violations. */

/** The error body the BFF returns. */
export interface ApiErrorBody {
  code: string;
  message: string;
  reason?: string;
  metadata?: Record<string, string>;
  violations?: { field: string; description: string }[];
  service?: string;
}

/** A failed API call. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
  ) {
    super(body.message);
  }
}

/** The session's CSRF token (from /api/session), sent on every state-changing request. */
let csrfToken = "";

/** Keeps the CSRF token of the signed-in session ("" after sign-out). */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token ?? "";
}

/** A fresh idempotency key for one user action (one per form render; a double submit reuses it). */
export function newActionKey(): string {
  return crypto.randomUUID();
}

/** Sends a request; resolves to the JSON body or rejects with ApiError. */
export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = body === undefined ? {} : { "content-type": "application/json" };
  if (method !== "GET" && csrfToken) headers["x-csrf-token"] = csrfToken;
  const res = await fetch(path, {
    method,
    credentials: "same-origin",
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok)
    throw new ApiError(res.status, json.error ?? { code: String(res.status), message: res.statusText });
  return json as T;
}
