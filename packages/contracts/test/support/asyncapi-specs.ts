/** @asyncapi/specs (CommonJS, no ESM entry): the AsyncAPI JSON Schemas by version. */
import { createRequire } from "node:module";

export const specs = createRequire(import.meta.url)("@asyncapi/specs") as { schemas: Record<string, unknown> };
