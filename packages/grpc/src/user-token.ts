/**
 * Signs the short-lived token with which a client that has people behind it (the console) tells a service who
 * is acting. It is signed with the client's own TLS private key (ES256), so a service verifies it against the
 * certificate of the very connection it arrives on: no shared secret exists, and a token lifted from one
 * connection is worthless on another client's.
 */
import { createPrivateKey, type KeyObject } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { SignJWT } from "jose";
import { DEFAULT_TRUST_DOMAIN, spiffeUri } from "./authorization";

/** The person a token speaks for. */
export interface TokenUser {
  /** Stable user name. */
  username: string;
  /** Console role. */
  role: string;
  /** Collections agent id, when the user is an agent. */
  agentId?: string;
}

/** Options of `UserTokenSigner`. */
export interface UserTokenSignerOptions {
  /** The signer's identity (the `iss`), e.g. `console`. */
  identity: string;
  /** PEM private key of its TLS certificate (re-read when the file changes, i.e. on rotation). */
  keyFile: string;
  /** Lifetime of a token, seconds (default 60). */
  ttlSec?: number;
  trustDomain?: string;
}

/** Signs user tokens, one audience (service identity) per token. */
export class UserTokenSigner {
  private key: { mtimeMs: number; key: KeyObject } | undefined;
  constructor(private readonly opts: UserTokenSignerOptions) {}

  /** A compact JWS naming `user`, valid for `audience` (a service identity) only. */
  async sign(user: TokenUser, audience: string): Promise<string> {
    const td = this.opts.trustDomain ?? DEFAULT_TRUST_DOMAIN;
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ role: user.role, ...(user.agentId ? { agent_id: user.agentId } : {}) })
      .setProtectedHeader({ alg: "ES256", typ: "JWT" })
      .setIssuer(spiffeUri(this.opts.identity, td))
      .setSubject(user.username)
      .setAudience(spiffeUri(audience, td))
      .setIssuedAt(now)
      .setExpirationTime(now + (this.opts.ttlSec ?? 60))
      .sign(this.privateKey());
  }

  private privateKey(): KeyObject {
    const mtimeMs = statSync(this.opts.keyFile).mtimeMs;
    if (!this.key || this.key.mtimeMs !== mtimeMs)
      this.key = { mtimeMs, key: createPrivateKey(readFileSync(this.opts.keyFile)) };
    return this.key.key;
  }
}
