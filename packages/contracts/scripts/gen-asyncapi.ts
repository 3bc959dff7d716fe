/**
 * Writes docs/asyncapi.json (the AsyncAPI 3.0.0 document of every topic) and
 * the generated topics table of docs/events.md, from the topic registry and
 * the proto doc comments (read from a `buf build` image, since the descriptors
 * embedded in the generated code carry no comments).
 *
 *   pnpm gen:asyncapi      (= tsx packages/contracts/scripts/gen-asyncapi.ts)
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  commentsFromImage,
  generateAsyncApi,
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

/** Runs `buf build` on the repository's protos and returns their doc comments by element name. */
export function loadProtoComments(root: string = repoRoot): Map<string, string> {
  const dir = mkdtempSync(join(tmpdir(), "whiteslip-asyncapi-"));
  try {
    const image = join(dir, "image.binpb");
    execFileSync(join(root, "node_modules/.bin/buf"), ["build", "-o", image], { cwd: root, stdio: "pipe" });
    return commentsFromImage(readFileSync(image));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Serialises the document as written to docs/asyncapi.json: 2-space JSON, trailing newline. */
export function serialize(doc: JsonObject): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** Fresh contents of the generated files (repository-relative path → text), given the current events.md text. */
export function renderGenerated(comments: Map<string, string>, eventsGuide: string): Record<string, string> {
  const doc = generateAsyncApi({ topics: allTopics, comments: (n) => comments.get(n) });
  return {
    [ASYNCAPI_PATH]: serialize(doc),
    [EVENTS_GUIDE_PATH]: withTopicsTable(eventsGuide, topicsTable(doc)),
  };
}

function main(): void {
  const files = renderGenerated(loadProtoComments(), readFileSync(join(repoRoot, EVENTS_GUIDE_PATH), "utf8"));
  for (const [path, text] of Object.entries(files)) {
    writeFileSync(join(repoRoot, path), text);
    console.log(`wrote ${path}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
