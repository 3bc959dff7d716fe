import { defineConfig } from "vitest/config";

// Two tiers, picked by file name: *.unit.test.ts (pure, no infrastructure) and
// *.int.test.ts / *.e2e.test.ts (real Kafka + MongoDB-wire database, provisioned
// once per run by the testkit's global setup). `vitest run --project unit` runs
// only the fast tier.
export default defineConfig({
  test: {
    reporters: ["default"],
    projects: [
      {
        test: {
          name: "unit",
          include: ["{packages,services}/*/test/**/*.unit.test.ts"],
          sequence: { groupOrder: 0 },
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: "int",
          sequence: { groupOrder: 1 },
          include: ["{packages,services}/*/test/**/*.{int,e2e}.test.ts"],
          globalSetup: ["./packages/testkit/src/global-setup.ts"],
          testTimeout: 90_000,
          hookTimeout: 240_000,
          // 2 cores: the broker and the database share them with the tests.
          maxWorkers: 2,
          fileParallelism: true,
        },
      },
    ],
  },
});
