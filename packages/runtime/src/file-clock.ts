import { readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import type { Clock } from "@whiteslip/core";

/**
 * A clock shared by the processes of a local run, so the demo and the ops CLI
 * can move the platform through business days: every service started with
 * `CLOCK_FILE=<path>` reads `{ "offsetMs": n }` from the file (re-read when it
 * changes) and tells `real now + offset`. Production never sets CLOCK_FILE.
 */
export class FileClock implements Clock {
  private offsetMs = 0;
  private version = "";

  constructor(private readonly path: string) {
    this.refresh();
  }

  now(): Date {
    // A stat per call (microseconds) rather than a cached value: a caller that moved the
    // clock and then sent a request must find the new time here, never the old one.
    this.refresh();
    return new Date(Date.now() + this.offsetMs);
  }

  private refresh(): void {
    try {
      const st = statSync(this.path, { bigint: true });
      const version = `${st.ino}:${st.mtimeNs}`; // the writer renames a new file into place
      if (version === this.version) return;
      this.version = version;
      const parsed = JSON.parse(readFileSync(this.path, "utf8")) as { offsetMs?: unknown };
      if (typeof parsed.offsetMs === "number" && Number.isFinite(parsed.offsetMs)) this.offsetMs = parsed.offsetMs;
    } catch {
      // No file yet (or half-written): keep the last offset.
    }
  }
}

/** Sets the shared clock so that it reads `instant` now (atomic rename, so readers never see half a file). */
export function setFileClock(path: string, instant: Date): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ offsetMs: instant.getTime() - Date.now(), instant: instant.toISOString() }));
  renameSync(tmp, path);
}
