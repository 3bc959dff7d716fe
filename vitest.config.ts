import { defineConfig } from "vitest/config";

// Three tiers, picked by file name: *.unit.test.ts (pure, no infrastructure),
// *.int.test.ts / *.e2e.test.ts (real Kafka + MongoDB-wire database, provisioned
// once per run by the testkit's global setup), and *.fault.test.ts (the fault
// suite: its own broker and database, which it stops; runs last, one file at a
// time). `vitest run --project unit` runs only the fast tier.
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
      {
        test: {
          // Attack suite (issue 14): each door tried with the wrong key on the real platform, expected shut.
          name: "attack",
          sequence: { groupOrder: 2 },
          include: ["{packages,services}/*/test/**/*.attack.test.ts"],
          globalSetup: ["./packages/testkit/src/global-setup.ts"],
          testTimeout: 90_000,
          hookTimeout: 480_000,
          maxWorkers: 2,
          fileParallelism: true,
        },
      },
      {
        // The fault suite (packages/fault-suite): kills services, stops the broker and the database, so each
        // file starts a broker and a database of its own; it runs last, two files at a time (a file's outage
        // never reaches the other's platform), to stay within about ten minutes.
        test: {
          name: "fault",
          sequence: { groupOrder: 3 },
          include: ["{packages,services}/*/test/**/*.fault.test.ts"],
          globalSetup: ["./packages/fault-suite/src/global-setup.ts"],
          testTimeout: 900_000,
          hookTimeout: 900_000,
          maxWorkers: 2,
          fileParallelism: true,
        },
      },
    ],
  },
});
