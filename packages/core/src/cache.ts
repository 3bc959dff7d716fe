import { homedir } from "node:os";
import { join } from "node:path";

/**
 * The machine's Whiteslip cache (downloaded infrastructure, the local run's generated keys):
 * `$WHITESLIP_CACHE`, else `$XDG_CACHE_HOME/whiteslip`, else `~/.cache/whiteslip`.
 */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.WHITESLIP_CACHE?.trim();
  if (explicit) return explicit;
  const xdg = env.XDG_CACHE_HOME?.trim();
  if (xdg) return join(xdg, "whiteslip");
  return join(homedir(), ".cache", "whiteslip");
}
