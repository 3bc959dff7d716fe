/** Builds the single-page app with vite when its dist is missing or older than its sources. */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The console's folder (services/console). */
export const CONSOLE_DIR = fileURLToPath(new URL("../..", import.meta.url));
/** Where the SPA is built. */
export const DIST_DIR = join(CONSOLE_DIR, "dist");
const SOURCES = [join(CONSOLE_DIR, "src/web"), join(CONSOLE_DIR, "vite.config.ts")];

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const e of readdirSync(path)) max = Math.max(max, newestMtime(join(path, e)));
  return max;
}

/** True when dist/index.html is missing or older than any source file. */
export function isDistStale(distDir = DIST_DIR): boolean {
  const index = join(distDir, "index.html");
  if (!existsSync(index)) return true;
  const built = statSync(index).mtimeMs;
  return SOURCES.some((s) => newestMtime(s) > built);
}

/** Runs `vite build` with the console's vite.config.ts (programmatically). */
export async function buildWeb(): Promise<void> {
  const { build } = await import("vite");
  await build({ configFile: join(CONSOLE_DIR, "vite.config.ts"), logLevel: "warn" });
}
