import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, rmSync, writeFileSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";

/** Resolves with the promise's value, or `null` after `ms`; the timer never outlives the race. */
export async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Process-wide registry: everything we started is killed (and temp dirs removed) on exit.     */
/* ------------------------------------------------------------------------------------------ */

interface Registry {
  children: Set<ChildProcess>;
  tmpDirs: Set<string>;
  /** Async graceful stoppers (Infra.stop) run on SIGINT/SIGTERM/SIGHUP before re-raising. */
  stoppers: Set<() => Promise<void>>;
  installed: boolean;
}

const REGISTRY_KEY = Symbol.for("whiteslip.testkit.process-registry");

function registry(): Registry {
  const g = globalThis as unknown as Record<symbol, Registry | undefined>;
  let r = g[REGISTRY_KEY];
  if (!r) {
    r = { children: new Set(), tmpDirs: new Set(), stoppers: new Set(), installed: false };
    g[REGISTRY_KEY] = r;
  }
  if (!r.installed) installHandlers(r);
  return r;
}

function killAllSync(r: Registry): void {
  for (const child of r.children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill("SIGKILL");
      } catch {
        /* already gone */
      }
    }
  }
  r.children.clear();
  for (const dir of r.tmpDirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    } catch {
      /* best effort */
    }
  }
  r.tmpDirs.clear();
}

function installHandlers(r: Registry): void {
  r.installed = true;
  process.on("exit", () => killAllSync(r));
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const sig of signals) {
    const handler = (): void => {
      const stoppers = [...r.stoppers];
      r.stoppers.clear();
      const graceful = Promise.allSettled(stoppers.map((s) => s()));
      void withTimeout(graceful, 15_000).then(() => {
        killAllSync(r);
        // If nobody else handles this signal, restore the default behaviour (terminate).
        process.removeListener(sig, handler);
        if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
      });
    };
    process.on(sig, handler);
  }
}

export function registerStopper(stop: () => Promise<void>): () => void {
  const r = registry();
  r.stoppers.add(stop);
  return () => r.stoppers.delete(stop);
}

export function registerTmpDir(dir: string): void {
  registry().tmpDirs.add(dir);
}

export async function removeTmpDir(dir: string): Promise<void> {
  registry().tmpDirs.delete(dir);
  await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
}

/* ------------------------------------------------------------------------------------------ */
/* Spawning                                                                                    */
/* ------------------------------------------------------------------------------------------ */

export interface SpawnOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** stdout+stderr are appended to this file (never to the parent's output). */
  logFile: string;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ManagedProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<ExitInfo>;
  private exitInfo: ExitInfo | null = null;
  private stopping: Promise<ExitInfo> | null = null;

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    readonly opts: SpawnOptions,
    onExit?: (p: ManagedProcess) => void,
  ) {
    const fd = openSync(opts.logFile, "a");
    try {
      this.child = spawn(command, args, {
        cwd: opts.cwd,
        env: opts.env ?? process.env,
        stdio: ["ignore", fd, fd],
        detached: false,
      });
    } finally {
      closeSync(fd); // the child holds its own copy
    }
    const r = registry();
    r.children.add(this.child);
    this.exited = new Promise<ExitInfo>((resolve) => {
      this.child.once("error", (err) => {
        // spawn failure (ENOENT etc.): record it in the log so callers see it in the tail
        try {
          writeFileSync(opts.logFile, `\n[testkit] failed to spawn ${command}: ${err.message}\n`, {
            flag: "a",
          });
        } catch {
          /* ignore */
        }
        if (this.exitInfo === null) {
          this.exitInfo = { code: -1, signal: null };
          r.children.delete(this.child);
          onExit?.(this);
          resolve(this.exitInfo);
        }
      });
      this.child.once("exit", (code, signal) => {
        if (this.exitInfo === null) {
          this.exitInfo = { code, signal };
          r.children.delete(this.child);
          onExit?.(this);
          resolve(this.exitInfo);
        }
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get hasExited(): boolean {
    return this.exitInfo !== null;
  }

  get exit(): ExitInfo | null {
    return this.exitInfo;
  }

  /** SIGTERM, wait up to `graceMs`, then SIGKILL. Idempotent. */
  stop(graceMs = 10_000): Promise<ExitInfo> {
    if (this.exitInfo) return Promise.resolve(this.exitInfo);
    this.stopping ??= (async () => {
      try {
        this.child.kill("SIGTERM");
      } catch {
        /* gone */
      }
      const first = await withTimeout(this.exited, graceMs);
      if (first) return first;
      try {
        this.child.kill("SIGKILL");
      } catch {
        /* gone */
      }
      return this.exited;
    })();
    return this.stopping;
  }
}

export async function tailFile(path: string, lines = 40): Promise<string> {
  try {
    const text = await readFile(path, "utf8");
    return text
      .split("\n")
      .slice(-lines - 1)
      .join("\n")
      .trimEnd();
  } catch {
    return `(no ${path})`;
  }
}

/** Runs a command to completion with output to `logFile`; throws (with the log tail) on failure. */
export async function runToCompletion(
  name: string,
  command: string,
  args: string[],
  opts: SpawnOptions & { timeoutMs?: number },
): Promise<void> {
  const p = new ManagedProcess(name, command, args, opts);
  const timeoutMs = opts.timeoutMs ?? 30 * 60_000;
  const res = await withTimeout(p.exited, timeoutMs);
  if (res === null) {
    await p.stop(2_000);
    throw new Error(
      `${name}: timed out after ${timeoutMs} ms\n--- ${opts.logFile} ---\n${await tailFile(opts.logFile)}`,
    );
  }
  if (res.code !== 0) {
    throw new Error(
      `${name}: \`${command} ${args.join(" ")}\` failed (exit ${res.code ?? res.signal})\n--- ${opts.logFile} ---\n${await tailFile(opts.logFile)}`,
    );
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Watchdog: if this Node process dies without running its exit handlers (SIGKILL, OOM),      */
/* a tiny detached shell loop notices and kills the children listed in <dir>/.pids, then       */
/* removes <dir>.                                                                              */
/* ------------------------------------------------------------------------------------------ */

const WATCHDOG_SCRIPT = `
parent="$1"; dir="$2"
while kill -0 "$parent" 2>/dev/null; do sleep 1; done
pids=$(cat "$dir/.pids" 2>/dev/null)
[ -n "$pids" ] && kill -TERM $pids 2>/dev/null
i=0
while [ $i -lt 20 ]; do
  alive=0
  for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
  [ $alive = 0 ] && break
  sleep 0.5; i=$((i+1))
done
[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
rm -rf "$dir"
`;

export class Watchdog {
  private readonly child: ChildProcess | null;
  private readonly pids = new Set<number>();

  constructor(private readonly dir: string) {
    let child: ChildProcess | null = null;
    try {
      child = spawn("sh", ["-c", WATCHDOG_SCRIPT, "whiteslip-watchdog", String(process.pid), dir], {
        detached: true, // survives a Ctrl-C to our process group and outlives a SIGKILLed parent
        stdio: "ignore",
      });
      child.on("error", () => {});
      child.unref();
    } catch {
      child = null; // no sh: the in-process handlers still apply
    }
    this.child = child;
  }

  track(p: ManagedProcess): void {
    if (p.pid === undefined) return;
    this.pids.add(p.pid);
    this.flush();
    void p.exited.then(() => {
      if (p.pid !== undefined) this.pids.delete(p.pid);
      this.flush();
    });
  }

  private flush(): void {
    try {
      writeFileSync(join(this.dir, ".pids"), [...this.pids].join("\n"));
    } catch {
      /* dir already removed */
    }
  }

  dispose(): void {
    if (this.child && this.child.exitCode === null) {
      try {
        this.child.kill("SIGKILL");
      } catch {
        /* gone */
      }
    }
  }
}
