import { DomainError, failedPrecondition, isInfrastructureError } from "@whiteslip/core";
import { describe, expect, it } from "vitest";
import {
  type AggregateStore,
  backoffMs,
  CONCURRENT_MODIFICATION,
  CONFLICT,
  DEFAULT_RETRY,
  handleCommand,
  outcome,
  retryOnConflict,
  write,
} from "../src/index";

/** A counter aggregate in memory whose write is version-checked, with a hook to move the version under a command. */
class Counter implements AggregateStore<{ version: number; n: number } | null, { expected: number | null; n: number }> {
  doc: { version: number; n: number } | null = null;
  loads = 0;
  writes = 0;
  /** Called after each load: lets a test change the document between a command's load and its write. */
  afterLoad: (() => void) | undefined;
  async load() {
    this.loads++;
    const snapshot = this.doc && { ...this.doc };
    this.afterLoad?.();
    return snapshot;
  }
  async write(c: { expected: number | null; n: number }) {
    this.writes++;
    if (c.expected === null) {
      if (this.doc) return false; // created by someone else meanwhile
      this.doc = { version: 1, n: c.n };
      return true;
    }
    if (!this.doc || this.doc.version !== c.expected) return false;
    this.doc = { version: c.expected + 1, n: c.n };
    return true;
  }
}

const increment = (s: { version: number; n: number } | null) => write({ expected: s?.version ?? null, n: (s?.n ?? 0) + 1 }, "applied" as const);
const noSleep = { sleep: async () => {}, random: () => 0.5 };

describe("handleCommand", () => {
  it("retries a version conflict on fresh state and applies once", async () => {
    const c = new Counter();
    c.doc = { version: 3, n: 10 };
    let racing = 2;
    c.afterLoad = () => {
      if (racing-- > 0) c.doc = { version: c.doc!.version + 1, n: c.doc!.n + 100 }; // another writer wins
    };
    const waits: number[] = [];
    const r = await handleCommand(c, increment, { what: "counter c", retry: { sleep: async (ms) => void waits.push(ms), random: () => 0.5 } });
    expect(r).toBe("applied");
    expect(c.doc).toEqual({ version: 6, n: 211 }); // the two racing writes and ours, each once
    expect(c.loads).toBe(3);
    expect(c.writes).toBe(3);
    // exponential backoff with jitter between attempts: 0.5 × 10 ms, 0.5 × 20 ms
    expect(waits).toEqual([5, 10]);
  });

  it("gives up with ABORTED CONCURRENT_MODIFICATION when the attempts are exhausted", async () => {
    const c = new Counter();
    c.doc = { version: 1, n: 0 };
    c.afterLoad = () => {
      c.doc = { version: c.doc!.version + 1, n: c.doc!.n };
    };
    const e = (await handleCommand(c, increment, { what: "counter c", retry: { ...noSleep, maxAttempts: 4 } }).catch((x) => x)) as DomainError;
    expect(e).toBeInstanceOf(DomainError);
    expect(e.kind).toBe("aborted");
    expect(e.reason).toBe(CONCURRENT_MODIFICATION);
    expect(e.message).toBe("counter c kept changing (4 attempts); retry");
    expect(c.writes).toBe(4);
    expect(isInfrastructureError(e)).toBe(false);
  });

  it("returns decide's value outcomes without writing", async () => {
    const c = new Counter();
    const r = await handleCommand(c, (s) => (s ? increment(s) : outcome("not_found" as const)), { what: "counter c" });
    expect(r).toBe("not_found");
    expect(c.writes).toBe(0);
    c.doc = { version: 2, n: 5 };
    const dup = await handleCommand(c, (s) => (s && s.n >= 5 ? outcome("duplicate" as const) : increment(s)), { what: "counter c" });
    expect(dup).toBe("duplicate");
    expect(c.writes).toBe(0);
  });

  it("lets a DomainError from decide through at once, without retrying or writing", async () => {
    const c = new Counter();
    c.doc = { version: 1, n: 0 };
    await expect(
      handleCommand(
        c,
        () => {
          throw failedPrecondition("ACCOUNT_CLOSED", "account a-1 is closed");
        },
        { what: "counter c", retry: noSleep },
      ),
    ).rejects.toMatchObject({ reason: "ACCOUNT_CLOSED" });
    expect(c.loads).toBe(1);
    expect(c.writes).toBe(0);
  });

  it("lets infrastructure errors propagate: they are not conflicts", async () => {
    const c = new Counter();
    c.doc = { version: 1, n: 0 };
    const down = Object.assign(new Error("server selection timed out"), { name: "MongoServerSelectionError" });
    c.write = async () => {
      throw down;
    };
    const e = await handleCommand(c, increment, { what: "counter c", retry: noSleep }).catch((x) => x);
    expect(e).toBe(down);
    expect(isInfrastructureError(e)).toBe(true);
    expect(c.loads).toBe(1);
  });

  it("creation race: the insert that loses reloads and decides again on the created document", async () => {
    const c = new Counter();
    let first = true;
    c.afterLoad = () => {
      if (first) c.doc = { version: 1, n: 1 }; // another command created it after our load
      first = false;
    };
    const r = await handleCommand(c, increment, { what: "counter c", retry: noSleep });
    expect(r).toBe("applied");
    expect(c.doc).toEqual({ version: 2, n: 2 });
  });
});

describe("retryOnConflict and backoff", () => {
  it("runs attempts until one is not CONFLICT", async () => {
    const seen: number[] = [];
    const r = await retryOnConflict(async (n) => (seen.push(n), n < 2 ? CONFLICT : "done"), { what: "x", retry: noSleep });
    expect(r).toBe("done");
    expect(seen).toEqual([0, 1, 2]);
  });

  it("draws each wait from [0, min(cap, base·2^i)) ms", () => {
    const p = DEFAULT_RETRY;
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => backoffMs(i, p, () => 0.999999))).toEqual([9, 19, 39, 79, 159, 319, 639, 999, 999]);
    expect(backoffMs(3, p, () => 0)).toBe(0);
    // the default policy waits 5.27 s at worst over its 11 waits (2.6 s on average)
    const worst = Array.from({ length: p.maxAttempts - 1 }, (_, i) => Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** i)).reduce((a, b) => a + b, 0);
    expect(worst).toBe(5_270);
  });
});
