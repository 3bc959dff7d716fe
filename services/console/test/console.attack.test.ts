/**
 * Attacks on the console, against the real platform: the five services as processes on real Kafka and FerretDB, the
 * console as a process of its own behind its real HTTP listener, a portfolio seeded by the demo journey plus console
 * customers. Each attack expects refusal with the right code, and the effect it aimed at not to have happened:
 *
 * - a CSRF request from another origin (and one without the session's token) is refused and sends no legal notice;
 * - password guessing locks the user (and a guessing address) out, with the time the lock ends — even the right
 *   password is refused meanwhile;
 * - a session replayed after sign-out, or after an administrator revoked the user's sessions, is refused;
 * - a double submit of the legal-notice form (one idempotency key) sends one notice.
 *
 * Then the PII scan: every log line of every service (and the console), every stored document of every service
 * database and every record of the platform's topics (key, value, headers) holds none of the run's customers' names,
 * ID numbers, phone numbers or emails in clear — and the same scan finds a value planted in clear in a control
 * document, log line and topic record.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { billing, collections } from "@whiteslip/contracts";
import { type ClearValues, eventually, ROOT, scanForClearPii } from "@whiteslip/platform";
import { freePorts } from "@whiteslip/testkit";
import { kafkaClientConfig, kafkaSasl, testInfra, uniqueName } from "@whiteslip/testkit/vitest";
import { Kafka, logLevel } from "kafkajs";
import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceClients } from "../src/server/clients";
import {
  advance,
  type Platform,
  seedPortfolio,
  startPlatform,
  upsertConsoleAgents,
} from "./support/platform";

const START = "2026-03-04"; // statement day 5, as the demo's customers have: the demo journey plays along
const EVIL = "https://evil.example";

let platform: Platform;
let consoleProc: ChildProcess | undefined;
let base: string;
let caseId: string;
let customerId: string;
/** Every name, ID number, phone and email the run gave the platform (recorded at the RPCs that take them). */
const clear: ClearValues = { names: [], nationalIds: [], phones: [], emails: [] };

/** The clients, recording every personal value sent through RegisterCustomer and UpsertContactPoints. */
function recording(c: ServiceClients): ServiceClients {
  const add = (k: keyof ClearValues, v: unknown) => {
    if (typeof v === "string" && v && !clear[k].includes(v)) clear[k].push(v);
  };
  const credit = Object.create(c.credit) as ServiceClients["credit"];
  credit.registerCustomer = (req, o) => {
    add("names", req.name);
    add("nationalIds", req.nationalId);
    add("phones", req.phone);
    add("emails", req.email);
    return c.credit.registerCustomer(req, o);
  };
  const notification = Object.create(c.notification) as ServiceClients["notification"];
  notification.upsertContactPoints = (req, o) => {
    add("names", req.displayName);
    add("phones", req.phone);
    add("emails", req.email);
    return c.notification.upsertContactPoints(req, o);
  };
  return { ...c, credit, notification };
}

/** A browser-like HTTP client: a cookie jar, an origin, a source address (X-Forwarded-For through one trusted hop). */
class Browser {
  cookie = "";
  csrf = "";
  constructor(
    readonly origin = base,
    readonly address = "198.51.100.1",
  ) {}
  async send(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const h: Record<string, string> = { "x-forwarded-for": this.address, ...headers };
    if (this.origin) h.origin = this.origin;
    if (this.cookie) h.cookie = this.cookie;
    if (body !== undefined) h["content-type"] = "application/json";
    const res = await fetch(`${base}${path}`, {
      method,
      headers: h,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const set = res.headers.getSetCookie().find((c) => c.startsWith("ws_console_session="));
    if (set) this.cookie = set.split(";")[0]!.endsWith("=") ? "" : set.split(";")[0]!;
    return { status: res.status, headers: res.headers, body: (await res.json().catch(() => null)) as any };
  }
  /** A state-changing request as the page sends it: its origin and the session's CSRF token. */
  act(method: string, path: string, body?: unknown) {
    return this.send(method, path, body, this.csrf ? { "x-csrf-token": this.csrf } : {});
  }
  async signIn(username: string, password: string) {
    const r = await this.send("POST", "/api/session", { username, password });
    if (r.status === 200) this.csrf = r.body.csrfToken;
    return r;
  }
}

const legalNotices = async () => (await platform.clients.collections.getCase({ caseId })).legalNotices;
const legalMessages = async () =>
  (await platform.clients.notification.listNotifications({ customerId, pageSize: 200 })).notifications.filter(
    (n) => /legal/i.test(n.template),
  );

async function startConsoleProcess(env: Record<string, string>): Promise<void> {
  const [port] = await freePorts(1);
  base = `http://127.0.0.1:${port}`;
  const log = createWriteStream(join(platform.logDir, "console.log"), { flags: "a" });
  consoleProc = spawn(process.execPath, ["--import", "tsx", "services/console/src/main.ts"], {
    cwd: ROOT,
    env: { ...process.env, ...env, CONSOLE_PORT: String(port), CONSOLE_HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  consoleProc.stdout?.pipe(log);
  consoleProc.stderr?.pipe(log);
  await eventually(
    "the console to answer",
    () =>
      fetch(`${base}/api/session`).then(
        (r) => (r.status === 401 ? true : undefined),
        () => undefined,
      ),
    120_000,
  );
}

/** The scan reads every topic of the platform: as the admin on a SASL broker. */
const saslOf = (infra: ReturnType<typeof testInfra>) => {
  const sasl = kafkaSasl(infra);
  return sasl ? { sasl } : {};
};

beforeAll(async () => {
  const infra = testInfra();
  platform = await startPlatform(infra, START, {
    tag: "console-attack",
    env: { STRATEGY_REFRESH_MS: "500" },
  });
  platform.clients = recording(platform.clients);
  await upsertConsoleAgents(platform.clients);
  const seeded = await seedPortfolio(platform, START, { count: 2 });
  const c = platform.clients;
  // Legal notices are for M3; the risk manager's table sends them from M1 for this test, in force from the next
  // Overdue (each business day), so the seeded case reaches the legal treatment without 60 more days.
  const current = (await c.collections.getStrategies({})).current!;
  const m1 = billing.DelinquencyBucket.M1;
  const legal = (s: collections.CollectionStrategy) => ({
    ...s,
    rules: [
      ...s.rules.filter((r) => !r.buckets.includes(m1)),
      create(collections.TreatmentRuleSchema, {
        buckets: [m1],
        treatment: collections.Treatment.LEGAL_NOTICE,
      }),
    ],
  });
  const t = current.table!;
  await c.collections.updateStrategies({
    table: { ...t, champion: legal(t.champion!), challengers: t.challengers.map(legal) },
    expectedVersion: current.version,
    actor: "console-attack-test",
  });
  const target = seeded.cases[0]!;
  caseId = target.caseId;
  customerId = target.customerId;
  await advance(c, platform.setClock, 1);
  await eventually(
    "the case to move to the legal treatment",
    async () =>
      (await c.collections.getCase({ caseId })).case?.treatment === collections.Treatment.LEGAL_NOTICE
        ? true
        : undefined,
    60_000,
  );
  await c.collections.assignCase({
    caseId,
    agentId: "agent-m1-1",
    actor: "console-attack-test",
    reassign: true,
  });
  await startConsoleProcess({
    ...platform.addressEnv,
    NODE_ENV: "test",
    LOG_LEVEL: "info",
    CONSOLE_BUILD: "skip",
    // plain http on 127.0.0.1: the explicit local-dev exception to Secure cookies
    CONSOLE_DEV_INSECURE_COOKIE: "true",
    // as behind one ingress: the client address comes from X-Forwarded-For
    CONSOLE_TRUST_PROXY_HOPS: "1",
  });
}, 1_200_000);

afterAll(async () => {
  consoleProc?.kill("SIGTERM");
  await platform?.stop();
});

describe("attacks on the console", () => {
  it("a CSRF request from another origin, or without the session's token, is refused and sends no notice", async () => {
    const agent = new Browser(base, "198.51.100.10");
    expect((await agent.signIn("li.na", "agent1-demo")).status).toBe(200);
    const key = { idempotencyKey: uniqueName("csrf").replaceAll(".", "-"), deadlineDays: 15 };
    const path = `/api/cases/${caseId}/legal-notices`;
    // the attacker's page makes the browser send the agent's cookie, from its own origin (it cannot read the token)
    const forged = new Browser(EVIL, agent.address);
    forged.cookie = agent.cookie;
    const fromEvil = await forged.send("POST", path, key);
    expect(fromEvil.status).toBe(403);
    expect(fromEvil.body.error.reason).toBe("CSRF_ORIGIN_MISMATCH");
    // even with the token (were it leaked), another origin is refused
    expect((await forged.send("POST", path, key, { "x-csrf-token": agent.csrf })).body.error.reason).toBe(
      "CSRF_ORIGIN_MISMATCH",
    );
    // a Referer from another origin, and neither header at all
    const viaReferer = new Browser("", agent.address);
    viaReferer.cookie = agent.cookie;
    expect(
      (await viaReferer.send("POST", path, key, { referer: `${EVIL}/page`, "x-csrf-token": agent.csrf })).body
        .error.reason,
    ).toBe("CSRF_ORIGIN_MISMATCH");
    expect((await viaReferer.send("POST", path, key, { "x-csrf-token": agent.csrf })).status).toBe(403);
    // the right origin without the session's token, and with another session's token
    const other = new Browser(base, "198.51.100.11");
    await other.signIn("wang.wei", "agent2-demo");
    expect((await agent.send("POST", path, key)).body.error.reason).toBe("CSRF_TOKEN_INVALID");
    expect((await agent.send("POST", path, key, { "x-csrf-token": other.csrf })).body.error.reason).toBe(
      "CSRF_TOKEN_INVALID",
    );
    // a sign-in forged from another origin (login CSRF)
    expect(
      (
        await new Browser(EVIL, "198.51.100.12").send("POST", "/api/session", {
          username: "li.na",
          password: "agent1-demo",
        })
      ).status,
    ).toBe(403);
    // nothing reached collections: the case has no legal notice (the refusals came back before any call was made)
    expect(await legalNotices()).toEqual([]);
  });

  it("password guessing locks the user out until a stated time; even the right password is refused meanwhile", async () => {
    const guesser = new Browser(base, "203.0.113.5");
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await guesser.signIn("wang.wei", `guess-${i}`)).status);
    expect(codes).toEqual([401, 401, 401, 401]);
    const fifth = await guesser.signIn("wang.wei", "guess-4");
    expect(fifth.status).toBe(429);
    expect(fifth.body.error).toMatchObject({ code: "RESOURCE_EXHAUSTED", reason: "LOGIN_LOCKED_USER" });
    const until = new Date(fifth.body.error.metadata.lockedUntil).getTime();
    expect(until - Date.now()).toBeGreaterThan(14 * 60_000);
    expect(until - Date.now()).toBeLessThanOrEqual(15 * 60_000);
    expect(Number(fifth.headers.get("retry-after"))).toBeGreaterThan(14 * 60);
    expect(fifth.body.error.message).toContain(fifth.body.error.metadata.lockedUntil);
    // the right password, from another address: still locked (the lock is the user's)
    const owner = new Browser(base, "203.0.113.6");
    expect((await owner.signIn("wang.wei", "agent2-demo")).body.error.reason).toBe("LOGIN_LOCKED_USER");
    expect(owner.cookie).toBe("");
    // one address guessing many usernames is locked too (20 failures), for every username
    const sprayer = new Browser(base, "203.0.113.66");
    let last = 0;
    for (let i = 0; i < 20; i++) last = (await sprayer.signIn(`nobody-${i}`, "123456")).status;
    expect(last).toBe(429);
    const r = await sprayer.signIn("zhao.min", "supervisor-demo");
    expect(r.body.error.reason).toBe("LOGIN_LOCKED_ADDRESS");
    // other users and addresses are unaffected
    expect((await new Browser(base, "203.0.113.7").signIn("zhao.min", "supervisor-demo")).status).toBe(200);
  });

  it("a session replayed after sign-out, or after an administrator revoked the user's sessions, is refused", async () => {
    const agent = new Browser(base, "198.51.100.20");
    await agent.signIn("li.na", "agent1-demo");
    const stolen = { cookie: agent.cookie, csrf: agent.csrf };
    expect((await agent.send("GET", "/api/queue")).status).toBe(200);
    expect((await agent.act("DELETE", "/api/session")).status).toBe(200);
    const replay = new Browser(base, "198.51.100.21");
    replay.cookie = stolen.cookie;
    replay.csrf = stolen.csrf;
    expect((await replay.send("GET", "/api/queue")).status).toBe(401);
    const act = await replay.act("POST", `/api/cases/${caseId}/legal-notices`, {
      idempotencyKey: uniqueName("replay").replaceAll(".", "-"),
    });
    expect(act.status).toBe(401);
    expect((await replay.send("GET", "/api/session")).status).toBe(401);

    // two live sessions (two laptops); the administrator signs the user out everywhere
    const laptop1 = new Browser(base, "198.51.100.22");
    const laptop2 = new Browser(base, "198.51.100.23");
    await laptop1.signIn("li.na", "agent1-demo");
    await laptop2.signIn("li.na", "agent1-demo");
    expect((await laptop2.send("GET", "/api/queue")).status).toBe(200);
    const admin = new Browser(base, "198.51.100.24");
    await admin.signIn("sun.li", "admin-demo");
    // an agent may not revoke anyone's sessions
    expect((await laptop1.act("DELETE", "/api/users/zhao.min/sessions")).status).toBe(403);
    const revoked = await admin.act("DELETE", "/api/users/li.na/sessions");
    // the two laptops, and the session the CSRF test left open
    expect(revoked).toMatchObject({ status: 200, body: { username: "li.na" } });
    expect(revoked.body.revoked).toBeGreaterThanOrEqual(2);
    expect((await laptop1.send("GET", "/api/queue")).status).toBe(401);
    expect((await laptop2.act("POST", `/api/cases/${caseId}/contact-attempts`, {})).status).toBe(401);
    expect(await legalNotices()).toEqual([]);
  });

  // (the notices go through collections, Kafka and notification's dispatch: on a loaded 2-core machine that can take a minute)
  it("a double submit of the legal-notice form sends one notice; the next action sends the next", { timeout: 400_000 }, async () => {
    const agent = new Browser(base, "198.51.100.30");
    await agent.signIn("li.na", "agent1-demo");
    const path = `/api/cases/${caseId}/legal-notices`;
    // the BFF makes up no key: a submit without one is refused
    expect((await agent.act("POST", path, { deadlineDays: 15 })).body.error.violations).toEqual([
      expect.objectContaining({ field: "idempotencyKey" }),
    ]);
    const form = { idempotencyKey: crypto.randomUUID(), deadlineDays: 15 };
    // a double click, and a resubmit after the answer was lost
    const [a, b] = await Promise.all([agent.act("POST", path, form), agent.act("POST", path, form)]);
    const c = await agent.act("POST", path, form);
    for (const r of [a, b, c]) expect(r.status).toBe(200);
    expect(new Set([a, b, c].map((r) => r.body.noticeId)).size).toBe(1);
    expect(await legalNotices()).toHaveLength(1);
    await eventually(
      "the legal notice to be sent to the customer",
      async () => ((await legalMessages()).length > 0 ? true : undefined),
      180_000,
    );
    // the barrier: a second, distinct action (a new form render, a new key) arrives after the first…
    const next = await agent.act("POST", path, { idempotencyKey: crypto.randomUUID(), deadlineDays: 20 });
    expect(next.status).toBe(200);
    const channels = (await legalMessages()).length;
    await eventually(
      "the second notice's messages",
      async () => ((await legalMessages()).length >= 2 * channels ? true : undefined),
      180_000,
    );
    // …so by now the double submit had every chance to send twice: the case holds two notices, the customer got
    // the messages of two notices, not three
    expect(await legalNotices()).toHaveLength(2);
    const messages = await legalMessages();
    expect(messages.length).toBe(2 * channels);
  });
});

describe("the PII scan", () => {
  it("finds no customer's name, ID number, phone or email in clear in any log line, stored document or topic record", async () => {
    expect(clear.names.length).toBeGreaterThanOrEqual(6); // the demo's personas and the console customers
    expect(clear.nationalIds.length).toBeGreaterThanOrEqual(6);
    const infra = testInfra();
    const result = await scanForClearPii(clear, {
      logs: [platform.logDir],
      mongoUri: infra.mongoUri,
      databases: Object.values(platform.databases),
      brokers: infra.kafkaBrokers,
      ...saslOf(infra),
      topicPrefix: platform.topicPrefix,
    });
    process.stdout.write(
      `PII scan: ${result.hits.length} hits in ${result.scanned.logLines} log lines, ${result.scanned.documents} documents ` +
        `(${result.scanned.databases} databases), ${result.scanned.records} records (${result.scanned.topics} topics); ` +
        `looked for ${clear.names.length} names, ${clear.nationalIds.length} ID numbers, ${clear.phones.length} phones, ${clear.emails.length} emails\n`,
    );
    expect(result.scanned.logLines).toBeGreaterThan(0);
    expect(result.scanned.documents).toBeGreaterThan(100);
    expect(result.scanned.records).toBeGreaterThan(100);
    expect(result.hits).toEqual([]);
  });

  it("the same scan finds a value planted in clear in a control document, log line and topic record", async () => {
    const infra = testInfra();
    const planted = clear.names[0]!;
    const dir = join(platform.logDir, "..", "pii-control");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "control.log"), `{"msg":"ok"}\n{"msg":"customer ${planted} called"}\n`);
    const db = uniqueName("pii_control").replaceAll("-", "_");
    const mongo = await MongoClient.connect(infra.mongoUri);
    const prefix = `${uniqueName("pii-control")}.`;
    const kafka = new Kafka({ ...kafkaClientConfig(infra), logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    try {
      await mongo
        .db(db)
        .collection("control")
        .insertOne({ nested: { note: `wrote ${clear.phones[0]} by mistake` } });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({
        topics: [{ topic: `${prefix}control`, numPartitions: 1 }],
        waitForLeaders: true,
      });
      await admin.disconnect();
      await producer.connect();
      await producer.send({
        topic: `${prefix}control`,
        messages: [{ key: "k", value: "clean", headers: { leaked: clear.emails[0]! } }, { value: "clean" }],
      });
      const r = await scanForClearPii(clear, {
        logs: [dir],
        mongoUri: infra.mongoUri,
        databases: [db],
        brokers: infra.kafkaBrokers,
        ...saslOf(infra),
        topicPrefix: prefix,
      });
      process.stdout.write(`PII scan control: ${r.hits.length} hits (planted 3)\n`);
      expect(r.hits).toEqual([
        { source: "log", location: `${join(dir, "control.log")}:2`, kind: "names" },
        expect.objectContaining({
          source: "document",
          location: expect.stringContaining(`${db}.control/`),
          kind: "phones",
        }),
        { source: "topic", location: `${prefix}control[0]@0`, kind: "emails" },
      ]);
    } finally {
      await producer.disconnect();
      await mongo.db(db).dropDatabase();
      await mongo.close();
    }
  });
});
