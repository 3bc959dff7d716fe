/**
 * Writes docs/asyncapi.json (the AsyncAPI 3.0.0 document of every topic) and
 * the generated topics table of docs/events.md, from the topic registry, the
 * services' subscription tables and the JSON Schemas that protoc-gen-jsonschema
 * (github.com/bufbuild/protoschema-plugins, pinned below) generates from the
 * protos through `buf generate`. The plugin is built once with `go install`
 * into the Whiteslip cache (Go is already needed for the local FerretDB).
 *
 *   pnpm gen:asyncapi      (= tsx packages/contracts/scripts/gen-asyncapi.ts)
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { cacheRoot } from "@whiteslip/core";
import {
  generateAsyncApi,
  type GeneratedSchemas,
  type JsonObject,
  topicsTable,
  withTopicsTable,
} from "../src/asyncapi";
import { allTopics } from "../src/topics";

/** The repository root. */
export const repoRoot = resolve(import.meta.dirname, "../../..");

/** Repository-relative paths of the generated files. */
export const ASYNCAPI_PATH = "docs/asyncapi.json";
/** The partner guide holding the generated topics table. */
export const EVENTS_GUIDE_PATH = "docs/events.md";

/** The JSON Schema generator: bufbuild's protoc-gen-jsonschema, from the Go module proxy. */
export const JSONSCHEMA_PLUGIN_MODULE = "github.com/bufbuild/protoschema-plugins/cmd/protoc-gen-jsonschema";
/** Its pinned version (a new one changes the generated schemas: regenerate and review the diff). */
export const JSONSCHEMA_PLUGIN_VERSION = "v0.6.0";

/** Path of the plugin in the cache, built with `go install` on first use (atomically, so parallel callers agree). */
export function ensureJsonSchemaPlugin(log: (line: string) => void = () => {}): string {
  const dir = join(cacheRoot(), "bin");
  const bin = join(dir, `protoc-gen-jsonschema-${JSONSCHEMA_PLUGIN_VERSION}`);
  if (existsSync(bin)) return bin;
  log(`building protoc-gen-jsonschema ${JSONSCHEMA_PLUGIN_VERSION} with go install (once)…`);
  mkdirSync(dir, { recursive: true });
  const gobin = mkdtempSync(join(dir, ".protoc-gen-jsonschema-"));
  try {
    execFileSync("go", ["install", `${JSONSCHEMA_PLUGIN_MODULE}@${JSONSCHEMA_PLUGIN_VERSION}`], {
      env: { ...process.env, GOBIN: gobin, GOFLAGS: "-mod=mod" },
      stdio: "pipe",
      timeout: 15 * 60_000,
    });
    renameSync(join(gobin, "protoc-gen-jsonschema"), bin);
  } finally {
    rmSync(gobin, { recursive: true, force: true });
  }
  return bin;
}

/**
 * Runs `buf generate` with protoc-gen-jsonschema (`target=json`: JSON field names, what a proto3 JSON parser
 * accepts) on the repository's protos and returns the schemas by full message name.
 */
export function loadGeneratedSchemas(root: string = repoRoot, log?: (line: string) => void): GeneratedSchemas {
  const plugin = ensureJsonSchemaPlugin(log);
  const out = mkdtempSync(join(tmpdir(), "whiteslip-jsonschema-"));
  try {
    const template = JSON.stringify({ version: "v2", plugins: [{ local: plugin, out, opt: ["target=json"] }] });
    execFileSync(join(root, "node_modules/.bin/buf"), ["generate", "--template", template], { cwd: root, stdio: "pipe" });
    const schemas = new Map<string, JsonObject>();
    for (const f of readdirSync(out)) {
      if (f.endsWith(".jsonschema.json")) schemas.set(f.slice(0, -".jsonschema.json".length), JSON.parse(readFileSync(join(out, f), "utf8")) as JsonObject);
    }
    return schemas;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** Serialises the document as written to docs/asyncapi.json: 2-space JSON, trailing newline. */
export function serialize(doc: JsonObject): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** Fresh contents of the generated files (repository-relative path → text), given the current events.md text. */
export function renderGenerated(schemas: GeneratedSchemas, eventsGuide: string): Record<string, string> {
  const doc = generateAsyncApi({ topics: allTopics, schemas });
  return {
    [ASYNCAPI_PATH]: serialize(doc),
    [EVENTS_GUIDE_PATH]: withTopicsTable(eventsGuide, topicsTable(doc)),
  };
}

function main(): void {
  const schemas = loadGeneratedSchemas(repoRoot, (l) => console.log(l));
  const files = renderGenerated(schemas, readFileSync(join(repoRoot, EVENTS_GUIDE_PATH), "utf8"));
  for (const [path, text] of Object.entries(files)) {
    writeFileSync(join(repoRoot, path), text);
    console.log(`wrote ${path}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
