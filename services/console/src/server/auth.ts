/**
 * Sign-in: users from a seed file with scrypt-hashed passwords (node:crypto). Sessions are server-side
 * (sessions.ts), failed sign-ins are throttled (throttle.ts), state-changing requests are CSRF-checked (csrf.ts).
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { z } from "@whiteslip/config";
import { ROLES, type Role, type SessionUser } from "./authz";

const scrypt = promisify(scryptCb) as (
  pw: string,
  salt: Buffer,
  len: number,
  o: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

/**
 * Name of the session cookie: `__Host-` prefixed when Secure (the browser then insists on Secure, Path=/ and no
 * Domain), plain under the local-dev exception (http://127.0.0.1).
 */
export function sessionCookieName(secure: boolean): string {
  return secure ? "__Host-ws_console_session" : "ws_console_session";
}

/** scrypt cost parameters of new hashes. */
const COST = { N: 16384, r: 8, p: 1 };
const KEY_LEN = 32;

/** Hashes a password as `scrypt$N$r$p$<salt b64>$<hash b64>`. */
export async function hashPassword(password: string, salt: Buffer = randomBytes(16)): Promise<string> {
  const hash = await scrypt(password, salt, KEY_LEN, { ...COST, maxmem: 64 * 1024 * 1024 });
  return `scrypt$${COST.N}$${COST.r}$${COST.p}$${salt.toString("base64")}$${hash.toString("base64")}`;
}

/** Checks a password against a stored hash in constant time; false for a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0)) return false;
  const salt = Buffer.from(parts[4]!, "base64");
  const expected = Buffer.from(parts[5]!, "base64");
  if (expected.length === 0) return false;
  const actual = await scrypt(password, salt, expected.length, { N, r, p, maxmem: 64 * 1024 * 1024 });
  return timingSafeEqual(actual, expected);
}

/** A user of the seed file. */
export interface UserRecord extends SessionUser {
  /** scrypt hash (see hashPassword). */
  passwordHash: string;
  /** A demo user with a published password (config/users.json): refused in production. */
  demo?: boolean;
}

const usersFile = z.array(
  z
    .object({
      username: z.string().min(1),
      displayName: z.string().min(1),
      role: z.enum(ROLES as [Role, ...Role[]]),
      agentId: z.string().min(1).optional(),
      passwordHash: z.string().startsWith("scrypt$"),
      demo: z.boolean().optional(),
    })
    .refine((u) => u.role !== "agent" || u.agentId, { message: "an agent needs an agentId" }),
);

/**
 * Reads and validates the users file. With `production`, a file holding demo users (published passwords) is
 * refused, naming them.
 */
export async function loadUsers(path: string, opts: { production?: boolean } = {}): Promise<UserRecord[]> {
  const parsed = usersFile.safeParse(JSON.parse(await readFile(path, "utf8")));
  if (!parsed.success) throw new Error(`CONSOLE_USERS_FILE ${path}: ${parsed.error.message}`);
  const demo = parsed.data.filter((u) => u.demo).map((u) => u.username);
  if (opts.production && demo.length > 0)
    throw new Error(
      `CONSOLE_USERS_FILE ${path}: demo users (${demo.join(", ")}) are refused in production; point CONSOLE_USERS_FILE at your own users`,
    );
  return parsed.data;
}

/** Checks a username and password; the session user when they match. Unknown users cost the same as wrong passwords. */
export async function authenticate(
  users: readonly UserRecord[],
  username: string,
  password: string,
): Promise<SessionUser | null> {
  const user = users.find((u) => u.username === username);
  // Verify against a dummy hash for unknown users, so timing does not tell which usernames exist.
  const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
  if (!user || !ok) return null;
  return sessionUserOf(user);
}

const DUMMY_HASH = `scrypt$${COST.N}$${COST.r}$${COST.p}$${Buffer.alloc(16).toString("base64")}$${Buffer.alloc(KEY_LEN).toString("base64")}`;

function sessionUserOf(u: SessionUser): SessionUser {
  return {
    username: u.username,
    role: u.role,
    displayName: u.displayName,
    ...(u.agentId ? { agentId: u.agentId } : {}),
  };
}
