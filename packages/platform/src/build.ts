/**
 * The production build: each service's entry point, the telemetry preload and the ops CLI bundled by esbuild into
 * one ES module each (`services/<name>/dist/main.js`, `packages/telemetry/dist/register.js`,
 * `packages/ops/dist/cli.js`), so a process starts on compiled JavaScript instead of transforming TypeScript with
 * tsx on every start (figures in docs/build.md).
 *
 * Only the workspace's own TypeScript goes into a bundle. Every package from node_modules stays external and is
 * loaded from node_modules as before — the exact file Node would have picked for the bare name, written as a path
 * relative to the bundle (pnpm does not hoist a service's transitive dependencies next to it, so a bare name would
 * not resolve from `services/<name>/dist/`). That keeps the MongoDB driver, kafkajs, grpc-js, pino and the OpenTelemetry
 * SDK as their own modules, which OpenTelemetry's instrumentations patch as they load (require-in-the-middle matches
 * them by their path under node_modules/<name>/).
 *
 * Builds are cached: `ensureBuilt()` rebuilds an entry only when one of the files its last bundle was made from (or
 * their folders, the lockfile, a workspace package.json, the tsconfig, this file) is newer than the bundle, so a
 * stale bundle never runs old code and a fresh one costs a few hundred `stat`s.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build, type Plugin } from "esbuild";

/** Repository root. */
const ROOT = resolve(import.meta.dirname, "../../..");
const THIS_FILE = fileURLToPath(import.meta.url);

/** One bundle: its entry (repository-relative TypeScript) and output (repository-relative JavaScript). */
export interface BuildEntry {
  readonly name: string;
  readonly entry: string;
  readonly out: string;
}

const serviceEntry = (name: string): BuildEntry => ({
  name,
  entry: `services/${name}/src/main.ts`,
  out: `services/${name}/dist/main.js`,
});

/** Everything the image and the local run start from compiled JavaScript. */
export const BUILD_ENTRIES: readonly BuildEntry[] = [
  serviceEntry("credit"),
  serviceEntry("billing"),
  serviceEntry("notification"),
  serviceEntry("collections"),
  serviceEntry("credit-reporting"),
  { name: "telemetry-register", entry: "packages/telemetry/src/register.ts", out: "packages/telemetry/dist/register.js" },
  { name: "ops", entry: "packages/ops/src/cli.ts", out: "packages/ops/dist/cli.js" },
];

/** The bundle of the named entry, absolute. */
export function builtFile(name: string): string {
  return join(ROOT, entryNamed(name).out);
}

function entryNamed(name: string): BuildEntry {
  const e = BUILD_ENTRIES.find((x) => x.name === name);
  if (!e) throw new Error(`no build entry named ${name} (known: ${BUILD_ENTRIES.map((x) => x.name).join(", ")})`);
  return e;
}

/** What a bundle was made from, written beside it (`<out>.inputs.json`). */
interface BuildRecord {
  readonly inputs: string[];
}

const recordFile = (e: BuildEntry) => join(ROOT, `${e.out}.inputs.json`);

/** Files whose change makes every bundle stale, besides its own inputs. */
function sharedInputs(): string[] {
  const pkgs = ["packages", "services"].flatMap((d) => {
    try {
      return readdir(join(ROOT, d)).map((p) => join(ROOT, d, p, "package.json"));
    } catch {
      return [];
    }
  });
  return [join(ROOT, "pnpm-lock.yaml"), join(ROOT, "tsconfig.base.json"), THIS_FILE, ...pkgs];
}

const readdir = (dir: string): string[] => readdirSync(dir).filter((n) => !n.startsWith("."));

const mtime = (p: string): number | undefined => {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return undefined;
  }
};

/** Why the entry's bundle must be (re)built, or undefined when it is fresh. */
export function staleReason(e: BuildEntry): string | undefined {
  const builtAt = mtime(join(ROOT, e.out));
  if (builtAt === undefined) return "not built";
  let record: BuildRecord;
  try {
    record = JSON.parse(readFileSync(recordFile(e), "utf8")) as BuildRecord;
  } catch {
    return "no record of its inputs";
  }
  const inputs = record.inputs.map((p) => join(ROOT, p));
  // a folder's mtime moves when a file is added or removed in it (an import that would now resolve elsewhere)
  const dirs = [...new Set(inputs.map((p) => dirname(p)))];
  for (const p of [...inputs, ...dirs, ...sharedInputs()]) {
    const t = mtime(p);
    if (t === undefined) {
      if (p.endsWith("package.json")) continue; // a workspace folder without one
      return `${relative(ROOT, p)} is gone`;
    }
    if (t > builtAt) return `${relative(ROOT, p)} changed`;
  }
  return undefined;
}

/**
 * Keeps everything from node_modules out of the bundle, imported by its path relative to the bundle; Node's
 * builtins stay bare. Workspace packages (`@whiteslip/*`, symlinks into packages/ and services/) are bundled.
 */
function externalNodeModules(outDir: string): Plugin {
  return {
    name: "external-node-modules",
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === "inner") return undefined;
        if (isBuiltin(args.path)) return { path: args.path, external: true };
        const r = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: "inner" });
        if (r.errors.length > 0) {
          // an optional dependency that is not installed (e.g. testcontainers behind a dynamic import): left bare,
          // so it fails at run time exactly where it would have without the build
          return { path: args.path, external: true };
        }
        if (!r.path.split(sep).includes("node_modules")) return r; // a workspace package: bundle it
        let rel = relative(outDir, r.path).split(sep).join("/");
        if (!rel.startsWith(".")) rel = `./${rel}`;
        return { path: rel, external: true };
      });
    },
  };
}

/**
 * `import.meta.url` of a bundled module other than the entry names the module's own source file (relative to
 * the bundle, so the bundle can move with the repository), as it did when run through tsx: packages resolve
 * their neighbours from it (e.g. @whiteslip/grpc finds @grpc/reflection's own dependencies). The entry keeps the
 * bundle's URL — the `import.meta.url === file://argv[1]` start-up check and paths like `../config/agents.json`
 * stay right because `dist/` sits where `src/` does.
 */
function sourceMetaUrl(entryFile: string, outDir: string): Plugin {
  return {
    name: "source-import-meta",
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, (args) => {
        if (args.path === entryFile || args.path.split(sep).includes("node_modules")) return undefined;
        const text = readFileSync(args.path, "utf8");
        if (!text.includes("import.meta.")) return undefined;
        const rel = relative(outDir, args.path).split(sep).join("/");
        const url = `new URL(${JSON.stringify(rel)}, import.meta.url).href`;
        return {
          loader: "ts",
          contents: text
            .replaceAll("import.meta.url", `(${url})`)
            .replaceAll("import.meta.dirname", `(new URL(".", ${url}).pathname)`)
            .replaceAll("import.meta.filename", `(new URL(${url}).pathname)`),
        };
      });
    },
  };
}

/** Bundles one entry; writes the bundle, its source map and the record of its inputs, each atomically. */
export async function buildEntry(e: BuildEntry): Promise<void> {
  const entryFile = join(ROOT, e.entry);
  const outFile = join(ROOT, e.out);
  const outDir = dirname(outFile);
  // the bundle is dated when its sources were read: a file edited during the build stays newer than it
  const startedAt = new Date();
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [entryFile],
    outfile: outFile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // resolve as Node does (no bundler-only "module" condition or main field)
    conditions: [],
    mainFields: ["main"],
    // class and function names kept: error kinds and log fields use them
    keepNames: true,
    sourcemap: "linked",
    metafile: true,
    write: false,
    logLevel: "silent",
    plugins: [externalNodeModules(outDir), sourceMetaUrl(entryFile, outDir)],
  });
  mkdirSync(outDir, { recursive: true });
  const tmp = `.${process.pid}.${Date.now()}.tmp`;
  // the map first and the bundle last, so a bundle never points at a map of another build
  const files = [...result.outputFiles].sort((a, b) => Number(a.path === outFile) - Number(b.path === outFile));
  for (const f of files) {
    writeFileSync(f.path + tmp, f.contents);
    renameSync(f.path + tmp, f.path);
  }
  const inputs = Object.keys(result.metafile.inputs).filter((p) => !p.split("/").includes("node_modules"));
  const record: BuildRecord = { inputs };
  writeFileSync(recordFile(e) + tmp, `${JSON.stringify(record, null, 1)}\n`);
  renameSync(recordFile(e) + tmp, recordFile(e));
  utimesSync(outFile, startedAt, startedAt);
}

let inFlight: Promise<string[]> | undefined;

/**
 * Builds every entry whose bundle is missing or stale (all at once) and returns the names it built; a fresh tree
 * builds nothing. Concurrent calls in one process share one build; builders in several processes write the same
 * bytes through atomic renames.
 */
export function ensureBuilt(opts: { log?: (line: string) => void; names?: readonly string[] } = {}): Promise<string[]> {
  const run = async () => {
    const wanted = opts.names ? opts.names.map(entryNamed) : BUILD_ENTRIES;
    const stale = wanted.map((e) => ({ e, why: staleReason(e) })).filter((x) => x.why !== undefined);
    if (stale.length === 0) return [];
    const started = Date.now();
    await Promise.all(stale.map((s) => buildEntry(s.e)));
    opts.log?.(`built ${stale.map((s) => `${s.e.name} (${s.why})`).join(", ")} in ${Date.now() - started} ms`);
    return stale.map((s) => s.e.name);
  };
  const p = (inFlight ?? Promise.resolve([])).catch(() => []).then(run);
  inFlight = p;
  return p;
}

/** `node packages/platform/src/build.ts`-style entry: `tsx packages/platform/src/build.ts [--force]`. */
export async function buildMain(argv: readonly string[]): Promise<void> {
  if (argv.includes("--force")) {
    const started = Date.now();
    await Promise.all(BUILD_ENTRIES.map(buildEntry));
    process.stdout.write(`built ${BUILD_ENTRIES.map((e) => e.out).join(", ")} in ${Date.now() - started} ms\n`);
    return;
  }
  const built = await ensureBuilt({ log: (l) => process.stdout.write(`${l}\n`) });
  if (built.length === 0) process.stdout.write("build: every bundle is up to date\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await buildMain(process.argv.slice(2));
