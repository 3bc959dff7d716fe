import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Standalone config for this package's own runs:
//   node_modules/.bin/vitest run --config packages/testkit/vitest.config.ts
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["./src/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
