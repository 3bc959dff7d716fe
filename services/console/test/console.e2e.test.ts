/**
 * The console in headless Chromium (Debian's `chromium`, driven by playwright-core) against the real platform: the
 * five services as processes on real Kafka + FerretDB, a seeded portfolio (the demo journey when it exists, plus
 * three console customers whose cases go to the console's agents), and the console's BFF. Screenshots of the main
 * pages go to test-artifacts/console/.
 */
import { execSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { testInfra } from "@whiteslip/testkit/vitest";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningConsole, startConsole } from "../src/main";
import {
  type Platform,
  type Seeded,
  seedPortfolio,
  startPlatform,
  upsertConsoleAgents,
} from "./support/platform";

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = join(import.meta.dirname, "../../../test-artifacts/console");
const START = "2026-03-04"; // statement day 5, as the demo's customers have

let platform: Platform;
let seeded: Seeded;
let consoleApp: RunningConsole;
let browser: Browser;
let base: string;
/** Cases: li.na (agent-m1-1) holds mine[0] and mine[1]; wang.wei (agent-m1-2) holds mine[2]. */
let mine: { caseId: string; accountId: string }[];

function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  execSync("apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium fonts-wqy-zenhei", {
    stdio: "inherit",
  });
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

async function signIn(username: string, password: string, lang: "en" | "zh-CN" = "en"): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: 1400, height: 1000 },
    timezoneId: "Europe/London",
  });
  await context.addInitScript((l) => localStorage.setItem("lang", l), lang);
  const page = await context.newPage();
  await page.goto(`${base}/`);
  await page.fill("input[name=username]", username);
  await page.fill("input[name=password]", password);
  await page.click("form[data-testid=login-form] button[type=submit]");
  await page.waitForSelector("[data-testid=whoami]");
  return page;
}

/**
 * Calls the API from inside the page as the page does: its session cookie, its origin, the session's CSRF token and
 * (for a POST without one) a fresh idempotency key — so what is tested is the authorization, not a missing header.
 */
async function apiFromPage(
  page: Page,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  return page.evaluate(
    async ({ method, path, body }) => {
      const session = await fetch("/api/session")
        .then((r) => r.json())
        .catch(() => ({}));
      const headers: Record<string, string> = body ? { "content-type": "application/json" } : {};
      if (method !== "GET" && session.csrfToken) headers["x-csrf-token"] = session.csrfToken;
      const sent =
        body && method === "POST" && !("idempotencyKey" in (body as object))
          ? { ...(body as object), idempotencyKey: crypto.randomUUID() }
          : body;
      const res = await fetch(path, { method, headers, body: sent ? JSON.stringify(sent) : undefined });
      return { status: res.status, body: await res.json().catch(() => null) };
    },
    { method, path, body },
  );
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  ensureChromium();
  platform = await startPlatform(testInfra(), START);
  await upsertConsoleAgents(platform.clients);
  seeded = await seedPortfolio(platform, START, { count: 3 });
  mine = seeded.cases.map((k) => ({ caseId: k.caseId, accountId: k.accountId }));
  const owners = ["agent-m1-1", "agent-m1-1", "agent-m1-2"];
  for (const [i, k] of mine.entries())
    await platform.clients.collections.assignCase({
      caseId: k.caseId,
      agentId: owners[i]!,
      actor: "console-e2e",
      reassign: true,
    });
  consoleApp = await startConsole({
    // plain http on 127.0.0.1: the explicit local-dev exception to Secure cookies
    env: { ...platform.addressEnv, LOG_LEVEL: "warn", NODE_ENV: "test", CONSOLE_DEV_INSECURE_COOKIE: "true" },
    port: 0,
  });
  base = `http://127.0.0.1:${consoleApp.port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await consoleApp?.stop();
  await platform?.stop();
});

describe("operations console on the real platform", () => {
  it("an agent opens a case from their queue (sorted by priority), logs a contact attempt and sees it in the history", async () => {
    const page = await signIn("li.na", "agent1-demo");
    await page.waitForSelector("[data-testid=queue-row]");
    const rows = await page.$$eval("[data-testid=queue-row]", (trs) =>
      trs.map((tr) => ({
        id: tr.getAttribute("data-case-id"),
        priority: Number(tr.querySelector("td")?.textContent),
      })),
    );
    expect(rows.map((r) => r.id)).toEqual(expect.arrayContaining([mine[0]!.caseId, mine[1]!.caseId]));
    expect(rows.map((r) => r.id)).not.toContain(mine[2]!.caseId);
    expect(rows.map((r) => r.priority)).toEqual([...rows.map((r) => r.priority)].sort((a, b) => b - a));
    await shot(page, "01-agent-queue");

    await page.click(`[data-testid=queue-row][data-case-id="${mine[0]!.caseId}"] [data-testid=open-case]`);
    await page.waitForSelector("[data-testid=case-page]");
    await expect.poll(() => page.textContent("[data-testid=case-bucket]")).toBe("M1");
    expect(Number(await page.textContent("[data-testid=case-dpd]"))).toBeGreaterThan(0);
    expect(
      await page.locator("[data-testid=statements] [data-testid=statement-row]").count(),
    ).toBeGreaterThan(0);
    expect(await page.locator("[data-testid=score-history] [data-testid=score-row]").count()).toBeGreaterThan(
      0,
    );
    expect(await page.textContent("[data-testid=case-restrictions]")).toContain("New purchases");
    expect(await page.textContent("[data-testid=notices]")).toMatch(/overdue/i);

    await page.selectOption("[data-testid=contact-form] select[name=channel]", "CALL");
    await page.selectOption("[data-testid=contact-form] select[name=outcome]", "RIGHT_PARTY");
    await page.selectOption("[data-testid=contact-form] select[name=reason]", "CASH_FLOW");
    await page.fill("[data-testid=contact-form] textarea[name=note]", "e2e: salary comes on the 10th");
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/contact-attempts")),
      page.click("[data-testid=contact-form-submit]"),
    ]);
    expect(res.status()).toBe(200);
    await page.waitForSelector("[data-testid=contact-form] [data-testid=action-ok]");
    await expect
      .poll(() => page.locator("[data-testid=attempt-row]", { hasText: "salary comes on the 10th" }).count())
      .toBe(1);
    await shot(page, "02-agent-case");

    // the hardship treatments are on the page; collections refuses them while the reason is not hardship
    expect(await page.locator("[data-testid=deferral-form]").count()).toBe(1);
    expect(await page.locator("[data-testid=waiver-form]").count()).toBe(1);
    const deferral = await apiFromPage(page, "POST", `/api/cases/${mine[0]!.caseId}/deferrals`, { days: 20 });
    expect(deferral.status).toBe(400);
    expect(deferral.body.error.reason).toBe("DEFERRAL_REQUIRES_HARDSHIP");
    const tooLong = await apiFromPage(page, "POST", `/api/cases/${mine[0]!.caseId}/deferrals`, { days: 31 });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.violations).toEqual([expect.objectContaining({ field: "days" })]);
    const waiver = await apiFromPage(page, "POST", `/api/cases/${mine[0]!.caseId}/waivers`, {
      amount: "50.00",
    });
    expect(waiver.body.error.reason).toBe("WAIVER_REQUIRES_HARDSHIP");

    await page.click("[data-testid=customer-view-link]");
    await page.waitForSelector("[data-testid=customer-view]");
    expect(await page.locator("[data-testid=inbox-message]").count()).toBeGreaterThan(0);
    await shot(page, "03-customer-view");
    await page.context().close();
  });

  it("a contact attempt at 22:30 Asia/Shanghai is refused and the page shows the rule", async () => {
    const page = await signIn("li.na", "agent1-demo", "zh-CN");
    await page.goto(`${base}/#/cases/${mine[1]!.caseId}`);
    await page.waitForSelector("[data-testid=case-page]");
    // every service's FileClock stats the clock file on each read: the request below finds 22:30, no wait needed
    platform.setClock(seeded.businessDate, 22, 30);
    try {
      await page.selectOption("[data-testid=contact-form] select[name=channel]", "CALL");
      await page.selectOption("[data-testid=contact-form] select[name=outcome]", "NO_ANSWER");
      const [res] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith("/contact-attempts")),
        page.click("[data-testid=contact-form-submit]"),
      ]);
      expect(res.status()).toBe(400);
      expect((await res.json()).error).toMatchObject({
        code: "FAILED_PRECONDITION",
        reason: "CN_QUIET_HOURS",
      });
      await expect
        .poll(() => page.textContent("[data-testid=contact-form] [data-testid=refusal-rule]"))
        .toBe("CN_QUIET_HOURS");
      // The refused attempt is in the history too, with its rule.
      await expect
        .poll(() => page.locator("[data-testid=attempt-row]", { hasText: "CN_QUIET_HOURS" }).count())
        .toBe(1);
      await shot(page, "04-quiet-hours-refusal-zh");
    } finally {
      platform.setClock(seeded.businessDate, 10, 0);
    }
    await page.context().close();
  });

  it("an agent cannot open or act on a case that is not theirs, nor read the portfolio (refused by the server)", async () => {
    const page = await signIn("li.na", "agent1-demo");
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith(`/api/cases/${mine[2]!.caseId}`)),
      page.goto(`${base}/#/cases/${mine[2]!.caseId}`),
    ]);
    expect(res.status()).toBe(403);
    expect((await res.json()).error.reason).toBe("CASE_NOT_ASSIGNED_TO_YOU");
    await page.waitForSelector("[data-testid=page-error][data-status='403']");
    expect(await page.locator("[data-testid=case-page]").count()).toBe(0);
    await shot(page, "05-agent-forbidden-case");

    const act = await apiFromPage(page, "POST", `/api/cases/${mine[2]!.caseId}/contact-attempts`, {
      channel: "CALL",
      outcome: "NO_ANSWER",
    });
    expect(act.status).toBe(403);
    expect(
      (await apiFromPage(page, "POST", `/api/cases/${mine[2]!.caseId}/deferrals`, { days: 20 })).status,
    ).toBe(403);
    expect((await apiFromPage(page, "GET", `/api/accounts/${mine[2]!.accountId}`)).status).toBe(403);
    expect((await apiFromPage(page, "GET", "/api/portfolio")).status).toBe(403);
    expect((await apiFromPage(page, "GET", "/api/queue?agentId=agent-m1-2")).status).toBe(403);
    const edit = { table: { champion: { id: "champion" }, challengerPercent: 50 }, expectedVersion: 1 };
    expect((await apiFromPage(page, "PUT", "/api/policies/strategies", edit)).status).toBe(403);
    expect(
      (
        await apiFromPage(page, "PUT", "/api/policies/notification-cadence", {
          rules: [],
          expectedVersion: 1,
        })
      ).status,
    ).toBe(403);
    expect(
      (await apiFromPage(page, "POST", `/api/cases/${mine[2]!.caseId}/assignment`, { agentId: "agent-m1-1" }))
        .status,
    ).toBe(403);
    // Nothing was logged on the other agent's case.
    const other = await platform.clients.collections.getCase({ caseId: mine[2]!.caseId });
    expect(other.attempts).toHaveLength(0);
    expect(other.case?.agentId).toBe("agent-m1-2");
    await page.context().close();
  });

  it("a supervisor reassigns a case to another agent", async () => {
    const page = await signIn("zhao.min", "supervisor-demo");
    await page.goto(`${base}/#/supervisor`);
    const row = page.locator(`[data-testid=assign-row][data-case-id="${mine[2]!.caseId}"]`);
    await row.waitFor();
    expect(await row.getAttribute("data-agent-id")).toBe("agent-m1-2");
    await page.waitForSelector("[data-testid=agent][data-agent-id=agent-m1-1]");
    await row.locator("select[name=agent]").selectOption("agent-m1-1");
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/assignment")),
      row.locator("[data-testid=reassign]").click(),
    ]);
    expect(res.status()).toBe(200);
    await expect.poll(() => row.getAttribute("data-agent-id")).toBe("agent-m1-1");
    expect((await platform.clients.collections.getCase({ caseId: mine[2]!.caseId })).case?.agentId).toBe(
      "agent-m1-1",
    );
    await shot(page, "06-supervisor-reassign");
    // A supervisor does not act on cases.
    expect(
      (
        await apiFromPage(page, "POST", `/api/cases/${mine[2]!.caseId}/contact-attempts`, {
          channel: "CALL",
          outcome: "NO_ANSWER",
        })
      ).status,
    ).toBe(403);
    await page.context().close();
  });

  it("a risk manager's dashboard renders every chart with data", async () => {
    for (const lang of ["en", "zh-CN"] as const) {
      const page = await signIn("chen.jie", "risk-demo", lang);
      await page.goto(`${base}/#/portfolio`);
      await page.waitForSelector("[data-testid=portfolio]");
      for (const id of ["delinquency", "roll-rate", "charge-off", "inflows", "notifications", "strategies"]) {
        const chart = page.locator(`[data-testid=chart-${id}]`);
        expect(Number(await chart.getAttribute("data-points")), `chart ${id} has data`).toBeGreaterThan(0);
        if (id === "roll-rate") expect(await chart.locator("td").count()).toBeGreaterThan(0);
        else expect(await chart.locator("canvas").count(), `chart ${id} drew a canvas`).toBe(1);
      }
      await shot(page, `07-portfolio-${lang}`);
      if (lang === "en") {
        expect((await apiFromPage(page, "GET", "/api/queue")).status).toBe(403);
        expect((await apiFromPage(page, "GET", `/api/cases/${mine[0]!.caseId}`)).status).toBe(403);
        expect((await apiFromPage(page, "PUT", "/api/policies/strategies", {})).status).toBe(400);
        await page.goto(`${base}/#/policies`);
        await page.waitForSelector("[data-testid=policies]");
        await shot(page, "08-policies");
      }
      await page.context().close();
    }
  });
  it("a risk manager changes the challenger share and a cadence row; an invalid edit shows the field error", async () => {
    const page = await signIn("chen.jie", "risk-demo");
    await page.goto(`${base}/#/policies`);
    await page.waitForSelector("[data-testid=strategy-table]");
    const before = (await apiFromPage(page, "GET", "/api/policies")).body;
    const v = before.strategyTable.version as number;

    // Invalid: 150 % is refused by collections with a field violation shown on the page; nothing is stored.
    await page.fill("[data-testid=challenger-percent]", "150");
    await page.click("[data-testid=challenger-form] button[type=submit]");
    const err = page.locator("[data-testid=strategy-error]");
    await err.waitFor();
    expect(await err.getAttribute("data-status")).toBe("400");
    expect(await err.textContent()).toContain("table.challenger_percent");
    expect((await apiFromPage(page, "GET", "/api/policies")).body.strategyTable.version).toBe(v);
    await shot(page, "09-policy-invalid");

    // Valid: 35 % is saved with the next version and read back through the API.
    await page.fill("[data-testid=challenger-percent]", "35");
    await page.click("[data-testid=challenger-form] button[type=submit]");
    await page.waitForSelector("[data-testid=strategy-saved]");
    await page.waitForSelector(`[data-testid=strategy-version]:text-is("${v + 1}")`);
    const after = (await apiFromPage(page, "GET", "/api/policies")).body.strategyTable;
    expect(after).toMatchObject({ version: v + 1, updatedBy: "console:chen.jie", table: { challengerPercent: 35 } });

    // A cadence row edited as JSON: a bad channel list is refused naming the row, a good edit is saved.
    const cadence = before.cadencePolicy;
    const i = cadence.rules.findIndex((r: any) => r.id === "overdue-dpd7");
    const edit = async (rules: unknown[]) => {
      await page.locator("[data-testid=cadence-table] details").evaluate((d) => {
        (d as HTMLDetailsElement).open = true;
      });
      await page.fill("[data-testid=cadence-json]", JSON.stringify(rules));
      await page.click("[data-testid=cadence-table] form button[type=submit]");
    };
    await edit(cadence.rules.map((r: any, j: number) => (j === i ? { ...r, channels: [] } : r)));
    await page.waitForSelector("[data-testid=cadence-error]");
    expect(await page.locator("[data-testid=cadence-error]").textContent()).toContain(`rules[${i}].channels`);
    await edit(cadence.rules.map((r: any, j: number) => (j === i ? { ...r, onDpd: [8] } : r)));
    await page.waitForSelector("[data-testid=cadence-saved]");
    const saved = (await apiFromPage(page, "GET", "/api/policies")).body.cadencePolicy;
    expect(saved).toMatchObject({ version: cadence.version + 1, updatedBy: "console:chen.jie" });
    expect(saved.rules[i].onDpd).toEqual([8]);
    await shot(page, "10-policies-saved");

    // The strategy JSON is checked at edit time by collections: a banned claim is refused with its rule code.
    const table = (await apiFromPage(page, "GET", "/api/policies")).body.strategyTable;
    await page.locator("[data-testid=strategy-table] details").first().evaluate((d) => {
      (d as HTMLDetailsElement).open = true;
    });
    const banned = structuredClone(table.table);
    const m1 = banned.champion.rules.length - 1;
    banned.champion.rules[m1].path = [{ dpd: 1, channel: "STEP_CHANNEL_SMS", template: "overdue-notice@1", text: "再不还款将列入黑名单" }];
    await page.fill("[data-testid=strategy-json]", JSON.stringify(banned));
    await page.click("[data-testid=strategy-check]");
    await page.waitForSelector("[data-testid=strategy-error]");
    expect(await page.locator("[data-testid=strategy-error]").textContent()).toContain("CN_TEXT_FAKE_BLACKLIST");
    expect((await apiFromPage(page, "GET", "/api/policies")).body.strategyTable.version).toBe(table.version);

    // A small what-if of an edited table, server-side on the simulator, next to the table in force.
    const whatIf = await apiFromPage(page, "POST", "/api/policies/strategies/what-if", { table: table.table, accounts: 30, days: 20, seed: 2 });
    expect(whatIf.status).toBe(200);
    expect(whatIf.body.current.map((a: any) => a.strategyId)).toEqual(whatIf.body.edited.map((a: any) => a.strategyId));

    // Promotion from the page: audited with the verified actor (the console's identity and the signed-in user) and
    // the reason; the history shows it.
    const challenger = table.table.challengers[0].id as string;
    await page.fill(`[data-testid=promote-${challenger}] [data-testid=promote-reason]`, "e2e: cures more");
    await page.click(`[data-testid=promote-${challenger}] button[type=submit]`);
    await page.waitForSelector(`[data-testid=strategy-version]:text-is("${table.version + 1}")`);
    const promoted = (await apiFromPage(page, "GET", "/api/policies")).body;
    expect(promoted.strategyTable.table.champion.id).toBe(challenger);
    expect(promoted.strategyChanges[0]).toMatchObject({
      kind: "STRATEGY_CHANGE_KIND_PROMOTION",
      version: table.version + 1,
      previousVersion: table.version,
      actor: "console:chen.jie",
      reason: "e2e: cures more",
      promotedStrategyId: challenger,
    });
    await page.waitForSelector("[data-testid=strategy-change]:has-text('e2e: cures more')");
    await shot(page, "11-strategy-promoted");
    await page.context().close();
  });
});
