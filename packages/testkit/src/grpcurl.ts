import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { goFlagsWithModMod } from "./ferret-local";
import { withFileLock } from "./lock";
import { cacheRoot } from "./paths";
import { runToCompletion } from "./process";

/** The grpcurl a newcomer would use against a running platform (fullstorydev/grpcurl, from the Go module proxy). */
export const GRPCURL_VERSION = "v1.9.4";

/** Where the cached grpcurl binary lives. */
export function grpcurlPath(root = cacheRoot()): string {
  return join(root, "bin", `grpcurl-${GRPCURL_VERSION}`);
}

/**
 * Ensures `<cache>/bin/grpcurl-v1.9.4` exists, building it once with `go install` (about a minute).
 * Tests use it as the strict, independent client it is: it resolves every reflected descriptor with Go's
 * protodesc, so a malformed descriptor fails there as it fails for a user.
 */
export async function ensureGrpcurl(log: (line: string) => void = () => {}): Promise<string> {
  const bin = grpcurlPath();
  if (existsSync(bin)) return bin;
  const root = cacheRoot();
  await mkdir(join(root, "bin"), { recursive: true });
  await withFileLock(
    join(root, `grpcurl-${GRPCURL_VERSION}.lock`),
    async () => {
      if (existsSync(bin)) return;
      log(`grpcurl ${GRPCURL_VERSION}: building from the Go module proxy (first run only) ...`);
      const gobin = await mkdtemp(join(tmpdir(), "whiteslip-grpcurl-"));
      try {
        await runToCompletion(
          "go install grpcurl",
          "go",
          ["install", `github.com/fullstorydev/grpcurl/cmd/grpcurl@${GRPCURL_VERSION}`],
          {
            cwd: gobin,
            env: {
              ...process.env,
              GOBIN: gobin,
              GO111MODULE: "on",
              GOFLAGS: goFlagsWithModMod(process.env.GOFLAGS),
            },
            logFile: join(root, `grpcurl-${GRPCURL_VERSION}-build.log`),
            timeoutMs: 15 * 60_000,
          },
        );
        await rename(join(gobin, "grpcurl"), bin);
      } finally {
        await rm(gobin, { recursive: true, force: true }).catch(() => {});
      }
    },
    { log },
  );
  return bin;
}
