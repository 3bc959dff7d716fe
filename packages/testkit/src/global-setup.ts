import type { TestProject } from "vitest/node";
import { type Infra, startInfra } from "./infra";
import type { KafkaCredentials } from "@whiteslip/config";

declare module "vitest" {
  export interface ProvidedContext {
    kafkaBrokers: string[];
    mongoUri: string;
    infraDescribe: string;
    /** SASL principals of the broker (null: it takes unauthenticated clients). */
    kafkaCredentials: KafkaCredentials | null;
  }
}

interface Shared {
  infra: Promise<Infra>;
  refs: number;
}

// Shared across vitest projects in the same process: start once, stop after the last teardown.
const KEY = Symbol.for("whiteslip.testkit.global-infra");

function shared(): { get(): Shared | undefined; set(v: Shared | undefined): void } {
  const g = globalThis as unknown as Record<symbol, Shared | undefined>;
  return {
    get: () => g[KEY],
    set: (v) => {
      g[KEY] = v;
    },
  };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const s = shared();
  let entry = s.get();
  if (!entry) {
    const verbose = process.env.WHITESLIP_INFRA_VERBOSE === "1";
    const infra = startInfra({
      log: verbose ? (line) => process.stderr.write(`[testkit] ${line}\n`) : undefined,
    }).then((i) => {
      process.stderr.write(
        `infrastructure: ${i.describe} (ready in ${(i.startedInMs / 1000).toFixed(1)} s)\n`,
      );
      return i;
    });
    entry = { infra, refs: 0 };
    s.set(entry);
    infra.catch(() => {
      if (s.get() === entry) s.set(undefined);
    });
  }
  entry.refs++;
  const infra = await entry.infra;
  project.provide("kafkaBrokers", infra.kafkaBrokers);
  project.provide("mongoUri", infra.mongoUri);
  project.provide("infraDescribe", infra.describe);
  project.provide("kafkaCredentials", infra.kafkaCredentials ?? null);
  const held = entry;
  let done = false;
  return async () => {
    if (done) return;
    done = true;
    held.refs--;
    if (held.refs <= 0) {
      if (s.get() === held) s.set(undefined);
      const t = Date.now();
      await infra.stop();
      if (process.env.WHITESLIP_INFRA_VERBOSE === "1")
        process.stderr.write(`[testkit] infrastructure stopped in ${Date.now() - t} ms\n`);
    }
  };
}
