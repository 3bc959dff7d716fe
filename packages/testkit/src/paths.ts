import { join } from "node:path";
import { cacheRoot } from "@whiteslip/core";

export const KAFKA_VERSION = "3.9.1";
export const FERRETDB_VERSION = "v1.24.2";
/** Bumped whenever the build-time patch of FerretDB changes, so a cached binary is rebuilt. */
export const FERRETDB_PATCH_LEVEL = "ws7";
export const FERRETDB_MODULE = "github.com/FerretDB/FerretDB";

/** The cache root lives in @whiteslip/core (the local run's keys use it too). */
export { cacheRoot };

export function kafkaHome(root = cacheRoot()): string {
  return join(root, `kafka-${KAFKA_VERSION}`);
}

export function ferretBinaryPath(root = cacheRoot()): string {
  return join(root, "bin", `ferretdb-${FERRETDB_VERSION}-${FERRETDB_PATCH_LEVEL}`);
}
