/**
 * Server-side sessions: the cookie carries only a random token; the session (user, CSRF token, expiry) lives here,
 * so signing out or an administrator's revocation ends it at once — a copied cookie replayed afterwards is refused.
 * Sessions live in the console process (one replica; a restart signs everyone out). The map is keyed by the SHA-256
 * of the token, so what the process holds cannot be replayed as a cookie.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Clock } from "@whiteslip/core";
import type { SessionUser } from "./authz";

/** A signed-in session. */
export interface ConsoleSession {
  /** Short id for logs and the administrator's list (not the cookie's token). */
  readonly id: string;
  readonly user: SessionUser;
  /** Sent back by the page in `x-csrf-token` on every state-changing request. */
  readonly csrfToken: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
}

const digest = (token: string) => createHash("sha256").update(token).digest("base64url");

/** Sessions of the console, by token. */
export class SessionStore {
  private readonly byDigest = new Map<string, ConsoleSession>();

  constructor(
    private readonly clock: Clock,
    private readonly minutes: number,
  ) {}

  /** Lifetime of a session in seconds (the cookie's Max-Age). */
  get maxAgeSeconds(): number {
    return this.minutes * 60;
  }

  /** Starts a session for the user; returns the cookie token and the session. */
  create(user: SessionUser): { token: string; session: ConsoleSession } {
    this.prune();
    const token = randomBytes(32).toString("base64url");
    const now = this.clock.now();
    const session: ConsoleSession = {
      id: randomBytes(6).toString("hex"),
      user,
      csrfToken: randomBytes(32).toString("base64url"),
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.minutes * 60_000),
    };
    this.byDigest.set(digest(token), session);
    return { token, session };
  }

  /** The live session of a cookie token; null when unknown, revoked or expired. */
  get(token: string | undefined): ConsoleSession | null {
    if (!token) return null;
    const key = digest(token);
    const s = this.byDigest.get(key);
    if (!s) return null;
    if (s.expiresAt <= this.clock.now()) {
      this.byDigest.delete(key);
      return null;
    }
    return s;
  }

  /** Ends the session of a token (sign-out); false when there was none. */
  revoke(token: string | undefined): boolean {
    return token ? this.byDigest.delete(digest(token)) : false;
  }

  /** Ends every session of a user (an administrator's revocation); returns how many. */
  revokeUser(username: string): number {
    let n = 0;
    for (const [k, s] of this.byDigest)
      if (s.user.username === username) {
        this.byDigest.delete(k);
        n++;
      }
    return n;
  }

  /** Live sessions per username. */
  countByUser(): Map<string, number> {
    this.prune();
    const out = new Map<string, number>();
    for (const s of this.byDigest.values()) out.set(s.user.username, (out.get(s.user.username) ?? 0) + 1);
    return out;
  }

  private prune(): void {
    const now = this.clock.now();
    for (const [k, s] of this.byDigest) if (s.expiresAt <= now) this.byDigest.delete(k);
  }
}

/** Constant-time comparison of the CSRF token a request carries with the session's. */
export function csrfTokenMatches(session: ConsoleSession, sent: string | string[] | undefined): boolean {
  if (typeof sent !== "string" || sent.length === 0) return false;
  const a = Buffer.from(sent);
  const b = Buffer.from(session.csrfToken);
  return a.length === b.length && timingSafeEqual(a, b);
}
