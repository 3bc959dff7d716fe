import { homedir } from "node:os";
import { join } from "node:path";

export const KAFKA_VERSION = "3.9.1";
export const FERRETDB_VERSION = "v1.24.2";
/** Bumped whenever the build-time patch of FerretDB changes, so a cached binary is rebuilt. */
export const FERRETDB_PATCH_LEVEL = "ws5";
export const FERRETDB_MODULE = "github.com/FerretDB/FerretDB";

/**
 * Cache root for downloaded/built infrastructure:
 * `$WHITESLIP_CACHE`, else `$XDG_CACHE_HOME/whiteslip`, else `~/.cache/whiteslip`.
 */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.WHITESLIP_CACHE?.trim();
  if (explicit) return explicit;
  const xdg = env.XDG_CACHE_HOME?.trim();
  if (xdg) return join(xdg, "whiteslip");
  return join(homedir(), ".cache", "whiteslip");
}

export function kafkaHome(root = cacheRoot()): string {
  return join(root, `kafka-${KAFKA_VERSION}`);
}

export function ferretBinaryPath(root = cacheRoot()): string {
  return join(root, "bin", `ferretdb-${FERRETDB_VERSION}-${FERRETDB_PATCH_LEVEL}`);
}
