/**
 * CSRF defence of the JSON API, in two layers on every state-changing request (POST, PUT, PATCH, DELETE):
 *
 * 1. Origin check: the request's `Origin` (or, without it, the origin of its `Referer`) must be the console's own
 *    origin — `CONSOLE_PUBLIC_ORIGIN` when set (required in production, behind a proxy that may rewrite Host), else
 *    the origin of the request's own Host. A request with neither header is refused: browsers send Origin on every
 *    POST/PUT/DELETE, so only a non-browser client lacks it, and it can send one.
 * 2. Token: a signed-in request must carry the session's CSRF token in `x-csrf-token` (the page gets it from
 *    /api/session). A page on another origin can make the browser send the cookie, but cannot read the token.
 *
 * Sign-in has no session yet; the origin check alone guards it (against login CSRF). The SameSite=Strict cookie is a
 * third layer.
 */
import type { FastifyRequest } from "fastify";
import { HttpError } from "./errors";

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/** True for methods that change state. */
export function isStateChanging(method: string): boolean {
  return !SAFE.has(method.toUpperCase());
}

function originOf(url: string): string | null {
  try {
    const u = new URL(url);
    return u.origin === "null" ? null : u.origin;
  } catch {
    return null;
  }
}

/** The origins a state-changing request may come from. */
export function allowedOrigins(req: FastifyRequest, publicOrigin: string | undefined): string[] {
  if (publicOrigin) return [publicOrigin];
  const host = req.headers.host;
  return host ? [`${req.protocol}://${host}`] : [];
}

/** Refuses a state-changing request whose Origin (or Referer) is not the console's (403 CSRF_ORIGIN_MISMATCH). */
export function checkOrigin(req: FastifyRequest, publicOrigin: string | undefined): void {
  const origin = typeof req.headers.origin === "string" ? req.headers.origin : undefined;
  const referer = typeof req.headers.referer === "string" ? req.headers.referer : undefined;
  const from =
    origin !== undefined ? (origin === "null" ? null : origin) : referer ? originOf(referer) : null;
  const allowed = allowedOrigins(req, publicOrigin);
  if (from === null || !allowed.includes(from))
    throw new HttpError(403, {
      error: {
        code: "PERMISSION_DENIED",
        reason: "CSRF_ORIGIN_MISMATCH",
        message: `a state-changing request must come from the console's own origin (${allowed.join(", ") || "unknown"}); it came from ${from ?? "no origin"}`,
      },
    });
}

/** 403 for a signed-in state-changing request without the session's CSRF token. */
export function csrfTokenRefused(): HttpError {
  return new HttpError(403, {
    error: {
      code: "PERMISSION_DENIED",
      reason: "CSRF_TOKEN_INVALID",
      message: "missing or wrong x-csrf-token: reload the page (the token comes with /api/session)",
    },
  });
}
