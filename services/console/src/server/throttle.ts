/**
 * Login throttling with lockout, per username and per source address: after `maxFailures` failed sign-ins within
 * `windowMinutes`, that user (or address) is locked for `lockMinutes` — every sign-in, even with the right password,
 * is refused with 429 and the time the lock ends. A successful sign-in clears the user's failures. Unknown usernames
 * count like known ones (the answer does not tell which exist). Kept in the console process, like the sessions.
 */
import type { Clock } from "@whiteslip/core";

/** Limits of one scope. */
export interface ThrottleLimits {
  maxFailures: number;
  windowMinutes: number;
  lockMinutes: number;
}

/** The outcome of a check: free, or locked (which scope, until when). */
export type ThrottleState = { locked: false } | { locked: true; scope: "user" | "address"; until: Date };

interface Entry {
  failures: number[];
  lockedUntil?: number;
}

/** Failed sign-ins by username and by address. */
export class LoginThrottle {
  private readonly users = new Map<string, Entry>();
  private readonly addresses = new Map<string, Entry>();

  constructor(
    private readonly clock: Clock,
    private readonly limits: { user: ThrottleLimits; address: ThrottleLimits },
  ) {}

  /** Whether a sign-in for this user from this address is refused now. */
  check(username: string, address: string): ThrottleState {
    const now = this.clock.now().getTime();
    const u = this.users.get(norm(username));
    if (u?.lockedUntil && u.lockedUntil > now)
      return { locked: true, scope: "user", until: new Date(u.lockedUntil) };
    const a = this.addresses.get(address);
    if (a?.lockedUntil && a.lockedUntil > now)
      return { locked: true, scope: "address", until: new Date(a.lockedUntil) };
    return { locked: false };
  }

  /** Records a failed sign-in; returns the state after it (locked when this failure reached a limit). */
  failure(username: string, address: string): ThrottleState {
    this.record(this.users, norm(username), this.limits.user);
    this.record(this.addresses, address, this.limits.address);
    return this.check(username, address);
  }

  /** A successful sign-in: the user's failures are forgotten (the address's stay: one address guessing many users). */
  success(username: string): void {
    this.users.delete(norm(username));
  }

  private record(map: Map<string, Entry>, key: string, l: ThrottleLimits): void {
    const now = this.clock.now().getTime();
    const e = map.get(key) ?? { failures: [] };
    if (e.lockedUntil && e.lockedUntil <= now) delete e.lockedUntil;
    e.failures = e.failures.filter((t) => t > now - l.windowMinutes * 60_000);
    e.failures.push(now);
    if (e.failures.length >= l.maxFailures) {
      e.lockedUntil = now + l.lockMinutes * 60_000;
      e.failures = [];
    }
    map.set(key, e);
    if (map.size > 100_000) for (const [k, v] of map) if (!v.lockedUntil) map.delete(k); // bound memory under a flood
  }
}

function norm(username: string): string {
  return username.trim().toLowerCase();
}
