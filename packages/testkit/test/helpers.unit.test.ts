import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { ferretArgs, goFlagsWithModMod } from "../src/ferret-local";
import { freshDatabaseName, uniqueName } from "../src/fixtures";
import { infraFromEnv } from "../src/infra";
import { kafkaServerProperties, parseProperties, randomClusterId } from "../src/kafka-local";
import { withFileLock } from "../src/lock";
import { cacheRoot, ferretBinaryPath, kafkaHome } from "../src/paths";
import { freePort, freePorts, parseBrokers } from "../src/ports";

describe("kafkaServerProperties", () => {
  it("describes a single-node KRaft broker+controller on loopback", () => {
    const props = parseProperties(
      kafkaServerProperties({ port: 41234, controllerPort: 41235, logDir: "/tmp/x/data" }),
    );
    expect(Object.fromEntries(props)).toMatchObject({
      "process.roles": "broker,controller",
      "node.id": "1",
      "controller.quorum.voters": "1@127.0.0.1:41235",
      listeners: "PLAINTEXT://127.0.0.1:41234,CONTROLLER://127.0.0.1:41235",
      "advertised.listeners": "PLAINTEXT://127.0.0.1:41234",
      "controller.listener.names": "CONTROLLER",
      "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
      "offsets.topic.replication.factor": "1",
      "transaction.state.log.replication.factor": "1",
      "transaction.state.log.min.isr": "1",
      "group.initial.rebalance.delay.ms": "0",
      "num.partitions": "3",
      "auto.create.topics.enable": "true",
      "log.dirs": "/tmp/x/data",
    });
  });

  it("generates KRaft cluster ids (16 bytes, url-safe base64, no padding)", () => {
    const id = randomClusterId();
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(id, "base64url")).toHaveLength(16);
    expect(randomClusterId()).not.toBe(id);
    // a leading "-" would be parsed as an option by kafka-storage's argument parser
    for (let i = 0; i < 2000; i++) expect(randomClusterId().startsWith("-")).toBe(false);
  });
});

describe("ports", () => {
  it("returns distinct, currently bindable ports", async () => {
    const ports = await freePorts(5);
    expect(new Set(ports).size).toBe(5);
    for (const p of ports) {
      expect(p).toBeGreaterThan(0);
      const s = createServer();
      await new Promise<void>((resolve, reject) => {
        s.once("error", reject);
        s.listen(p, "127.0.0.1", () => resolve());
      });
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
    expect(await freePort()).toBeGreaterThan(0);
  });

  it("parses broker lists", () => {
    expect(parseBrokers(" a:1, b:2 ,,")).toEqual(["a:1", "b:2"]);
  });
});

describe("environment and paths", () => {
  it("uses env endpoints only when both are set", () => {
    expect(infraFromEnv({ KAFKA_BROKERS: "h:9092,h:9093", MONGODB_URI: "mongodb://m:27017" })).toEqual({
      kafkaBrokers: ["h:9092", "h:9093"],
      mongoUri: "mongodb://m:27017",
    });
    expect(infraFromEnv({ KAFKA_BROKERS: "h:9092" })).toBeNull();
    expect(infraFromEnv({ MONGODB_URI: "mongodb://m" })).toBeNull();
  });

  it("resolves the cache dir from WHITESLIP_CACHE, XDG_CACHE_HOME, then ~/.cache", () => {
    expect(cacheRoot({ WHITESLIP_CACHE: "/c", XDG_CACHE_HOME: "/x" })).toBe("/c");
    expect(cacheRoot({ XDG_CACHE_HOME: "/x" })).toBe("/x/whiteslip");
    expect(cacheRoot({})).toMatch(/\.cache\/whiteslip$/);
    expect(kafkaHome("/c")).toBe("/c/kafka-3.9.1");
    expect(ferretBinaryPath("/c")).toBe("/c/bin/ferretdb-v1.24.2-ws7");
  });

  it("adds -mod=mod to GOFLAGS, keeping other flags", () => {
    expect(goFlagsWithModMod(undefined)).toBe("-mod=mod");
    expect(goFlagsWithModMod("-buildvcs=false -mod=readonly")).toBe("-buildvcs=false -mod=mod");
  });

  it("runs FerretDB with SQLite, loopback, no telemetry and no debug listener", () => {
    expect(ferretArgs({ port: 5, dataDir: "/d", stateDir: "/s" })).toEqual(
      expect.arrayContaining([
        "--handler=sqlite",
        "--sqlite-url=file:/d/?_pragma=synchronous(normal)&_pragma=wal_autocheckpoint(0)",
        "--listen-addr=127.0.0.1:5",
        "--state-dir=/s",
        "--telemetry=disable",
        "--debug-addr=-",
      ]),
    );
  });
});

describe("names", () => {
  it("uniqueName is unique and safe for topics, groups and databases", () => {
    const a = uniqueName("billing.events/x y");
    const b = uniqueName("billing.events/x y");
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(a.startsWith("billing_events_x_y-")).toBe(true);
  });

  it("freshDatabaseName stays within 63 chars", () => {
    const n = freshDatabaseName("a".repeat(200));
    expect(n.length).toBeLessThanOrEqual(63);
    expect(n).toMatch(/^t_a+_[a-z0-9]+$/);
    expect(freshDatabaseName("x")).not.toBe(freshDatabaseName("x"));
  });
});

describe("withFileLock", () => {
  it("serialises holders and breaks locks of dead processes", async () => {
    const dir = await mkdtemp(join(tmpdir(), "testkit-lock-"));
    try {
      const lock = join(dir, "x.lock");
      const order: string[] = [];
      await Promise.all(
        ["a", "b", "c"].map((name) =>
          withFileLock(
            lock,
            async () => {
              order.push(`${name}+`);
              await sleep(30);
              order.push(`${name}-`);
            },
            { pollMs: 10 },
          ),
        ),
      );
      for (let i = 0; i < order.length; i += 2) expect(order[i]?.[0]).toBe(order[i + 1]?.[0]);

      // stale lock left by a dead pid
      const { writeFile } = await import("node:fs/promises");
      await writeFile(lock, `999999999 ${(await import("node:os")).hostname()} 2020-01-01T00:00:00Z\n`);
      expect(await withFileLock(lock, async () => 42, { pollMs: 10, timeoutMs: 2_000 })).toBe(42);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
