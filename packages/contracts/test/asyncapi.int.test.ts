/**
 * docs/asyncapi.json and the topics table of docs/events.md are what the generator makes now: from the protos
 * through protoc-gen-jsonschema (built with `go install` into the cache on the first run, hence the int tier), the
 * topic registry and the services' subscription tables. The unit tests check the committed document itself.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { ASYNCAPI_PATH, EVENTS_GUIDE_PATH, loadGeneratedSchemas, renderGenerated, repoRoot } from "../scripts/gen-asyncapi";

it("docs/asyncapi.json and docs/events.md's topics table are up to date (run `pnpm gen:asyncapi` when this fails)", { timeout: 20 * 60_000 }, () => {
  const schemas = loadGeneratedSchemas(repoRoot, (l) => process.stderr.write(`[asyncapi] ${l}\n`));
  // the generator's output for the protos: every event message, its comment as the description
  const dueSoon = schemas.get("whiteslip.billing.v1.DueSoon");
  expect(dueSoon?.description).toMatch(/^DueSoon: a statement with an unpaid amount is due/);
  const committedGuide = readFileSync(join(repoRoot, EVENTS_GUIDE_PATH), "utf8");
  const fresh = renderGenerated(schemas, committedGuide);
  for (const path of [ASYNCAPI_PATH, EVENTS_GUIDE_PATH]) {
    const committed = readFileSync(join(repoRoot, path), "utf8");
    expect(committed === fresh[path], `${path} is stale: run \`pnpm gen:asyncapi\``).toBe(true);
  }
});
