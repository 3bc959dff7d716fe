import { randomBytes } from "node:crypto";
import { link, mkdir, open, readFile, rename, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export interface LockOptions {
  /** Give up after this long (default 20 min: a cold FerretDB build can take a while). */
  timeoutMs?: number;
  pollMs?: number;
  log?: (line: string) => void;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function readOrNull(path: string): Promise<string | null> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return null;
  }
}

function ownerIsDead(content: string): boolean {
  // content: "<pid> <hostname> <iso time>"
  const [pidText, host] = content.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return true; // garbage (e.g. crash mid-write)
  if (host !== undefined && host !== hostname()) return false; // other machine (shared FS): never break
  return !pidAlive(pid);
}

/**
 * Cross-process exclusive lock implemented with an O_EXCL lock file holding the owner's pid.
 * Locks whose owner process is gone are broken (atomically renamed away) so a crashed run
 * never blocks later runs forever.
 */
export async function withFileLock<T>(
  lockPath: string,
  fn: () => Promise<T>,
  opts: LockOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 20 * 60_000;
  const pollMs = opts.pollMs ?? 250;
  const deadline = Date.now() + timeoutMs;
  const me = `${process.pid} ${hostname()} ${new Date().toISOString()} ${randomBytes(4).toString("hex")}\n`;
  await mkdir(dirname(lockPath), { recursive: true });
  let announced = false;
  for (;;) {
    try {
      const fh = await open(lockPath, "wx");
      try {
        await fh.writeFile(me);
      } finally {
        await fh.close();
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const content = await readOrNull(lockPath);
    if (content !== null && ownerIsDead(content)) {
      // Break the stale lock: rename is atomic; verify we moved the stale one, not a fresh one.
      const aside = `${lockPath}.stale-${process.pid}-${randomBytes(4).toString("hex")}`;
      try {
        await rename(lockPath, aside);
        const moved = await readOrNull(aside);
        if (moved === content) {
          await unlink(aside).catch(() => {});
        } else {
          // Someone else's fresh lock: put it back if the slot is still free.
          await link(aside, lockPath).catch(() => {});
          await unlink(aside).catch(() => {});
        }
      } catch {
        /* raced with another waiter; just retry */
      }
      continue;
    }
    if (!announced) {
      opts.log?.(`waiting for lock ${lockPath} (held by: ${content?.trim() ?? "?"})`);
      announced = true;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for lock ${lockPath} (held by: ${content?.trim() ?? "?"})`,
      );
    }
    await sleep(pollMs);
  }
  try {
    return await fn();
  } finally {
    // Only remove the lock if it is still ours.
    const content = await readOrNull(lockPath);
    if (content === me) await unlink(lockPath).catch(() => {});
  }
}
