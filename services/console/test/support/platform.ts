/**
 * The real platform for the console's browser tests and the local dev script: @whiteslip/platform's test harness
 * (the five services as processes with their own databases, consumer groups, PII key and topic prefix, a shared file
 * clock, the provider sandboxes) plus the console's own typed clients, and a small seeded portfolio reached through
 * the services' RPCs only.
 */
import type { KafkaCredentials } from "@whiteslip/config";
import { billing, collections, credit } from "@whiteslip/contracts";
import { addDays, dayOfMonth, type LocalDate } from "@whiteslip/core";
import { eventually, playDemo, startTestPlatform, type TestPlatform } from "@whiteslip/platform";
import { closeClients, type ServiceClients } from "../../src/server/clients";

export { eventually };

/** A running platform. */
export interface Platform {
  clients: ServiceClients;
  /** Environment for the console (service addresses). */
  addressEnv: Record<string, string>;
  clockFile: string;
  logDir: string;
  /** Database of each service, and the platform's topic prefix (for the PII scan). */
  databases: TestPlatform["databases"];
  topicPrefix: string;
  /** Moves the shared clock to `date` `hour`:`minute` Asia/Shanghai. */
  setClock: TestPlatform["setClock"];
  stop(): Promise<void>;
}

/** Starts the platform (harness) with a clock at `start` 10:00 Shanghai, and the console's clients to it. */
export async function startPlatform(
  infra: { kafkaBrokers: string[]; mongoUri: string; kafkaCredentials?: KafkaCredentials },
  start: LocalDate,
  opts: { tag?: string; env?: Record<string, string>; readyTimeoutMs?: number } = {},
): Promise<Platform> {
  // fast background loops for a short test
  const p = await startTestPlatform(infra, {
    start,
    tag: opts.tag ?? "console",
    env: { PROMISE_CHECK_INTERVAL_MS: "2000", ...(opts.env ?? {}) },
    ...(opts.readyTimeoutMs ? { readyTimeoutMs: opts.readyTimeoutMs } : {}),
  });
  const a = p.addressEnv;
  // the harness's clients: the storefront, a supervisor at the console and ops, each RPC as its policy allows
  const clients = p.clients as unknown as ServiceClients;
  return {
    clients,
    // addresses plus the console's own certificate (mutual TLS)
    addressEnv: { ...a, ...p.tlsEnv("console") },
    clockFile: p.clockFile,
    logDir: p.logDir,
    databases: p.databases,
    topicPrefix: p.topicPrefix,
    setClock: p.setClock,
    async stop() {
      closeClients(clients);
      await p.stop();
    },
  };
}

/** A valid resident identity number (GB 11643 check character). */
export function nationalId(seq: number): string {
  const birth = `${1970 + (seq % 30)}${String(1 + (seq % 12)).padStart(2, "0")}${String(1 + (seq % 28)).padStart(2, "0")}`;
  const first17 = `110105${birth}${String(100 + (seq % 900)).padStart(3, "0")}`;
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((s, ch, i) => s + Number(ch) * w[i]!, 0);
  return first17 + "10X98765432"[sum % 11]!;
}

/**
 * Advances the platform `days` business days as whiteslip-ops `advance` does: for each day, the clock moves to
 * 00:05 of the next day, billing's end-of-day runs for the finished day, then the clock moves to 10:00.
 */
export async function advance(
  c: ServiceClients,
  setClock: Platform["setClock"],
  days: number,
  onDay?: (date: LocalDate) => Promise<void>,
): Promise<LocalDate> {
  let date = "";
  for (let i = 0; i < days; i++) {
    const bd = await c.billing.getBusinessDate({});
    date = bd.businessDate || addDays(bd.lastCompletedDate, 1);
    const next = addDays(date, 1);
    setClock(next, 0, 5);
    const run = (await c.billing.runEndOfDay({ businessDate: date }, { deadlineMs: 60_000 })).run;
    if (run?.status !== billing.EndOfDayStatus.COMPLETED) {
      await eventually(
        `end-of-day ${date}`,
        async () => {
          const r = (await c.billing.getEndOfDayRun({ businessDate: date })).run;
          if (r?.status === billing.EndOfDayStatus.FAILED)
            throw new Error(`end-of-day ${date} failed: ${r.error}`);
          return r?.status === billing.EndOfDayStatus.COMPLETED ? r : undefined;
        },
        60_000,
      );
    }
    setClock(next, 10, 0);
    await onDay?.(next);
  }
  return addDays(date, 1);
}

/** One seeded customer. */
export interface SeededAccount {
  customerId: string;
  accountId: string;
  purchaseFen: bigint;
  /** Pays in full before the due date (stays current). */
  payer: boolean;
}

/** What the seed made. */
export interface Seeded {
  accounts: SeededAccount[];
  /** Open cases of the non-paying seeded accounts, in account order. */
  cases: collections.Case[];
  /** Business date after the seed. */
  businessDate: LocalDate;
  /** Whether the lead's demo journey (playDemo) played too. */
  demo: boolean;
  /** What the demo printed. */
  demoLog: string[];
}

/** Registers `count` customers (with contact points), opens their lines (statement day given) and buys at checkout. */
export async function openAccounts(
  c: ServiceClients,
  count: number,
  statementDay: number,
  payers: (i: number) => boolean,
): Promise<SeededAccount[]> {
  const run = Date.now() % 100_000;
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const reg = await c.credit.registerCustomer({
        name: `测试客户${i}`,
        nationalId: nationalId(run + i * 7),
        phone: `+86139${String(10_000_000 + ((run * 31 + i) % 89_999_999)).slice(0, 8)}`,
        email: `customer${i}@example.cn`,
        idempotencyKey: `console-e2e-${run}-${i}`,
      });
      await c.notification.upsertContactPoints({
        customerId: reg.customerId,
        phone: "+8613800138000",
        email: `customer${i}@example.cn`,
        timeZone: "Asia/Shanghai",
        locale: i % 2 === 0 ? "zh-CN" : "en",
        displayName: `客户${i}`,
      });
      const applied = await c.credit.applyForCredit({
        customerId: reg.customerId,
        monthlyIncomeFen: 1_500_000n,
        employment: credit.Employment.SALARIED,
        ordersLast12m: 40,
        spendLast12mFen: 2_500_000n,
        accountAgeMonths: 80,
        returnsLast12m: 1,
        ageYears: 40,
        statementDay,
        idempotencyKey: `apply-${reg.customerId}`,
      });
      const line = applied.creditLine;
      if (applied.decision !== credit.Decision.APPROVE || !line)
        throw new Error(`application ${i} not approved`);
      const accountId = line.creditLineId;
      await eventually(`billing account ${accountId}`, () =>
        c.billing.getAccountSummary({ accountId }).then((r) => r.account),
      );
      const purchaseFen = BigInt(150_000 + i * 87_654);
      const auth = await c.credit.authorizePurchase({
        creditLineId: accountId,
        amountFen: purchaseFen,
        merchantScenario: credit.MerchantScenario.PLATFORM_RETAIL,
        merchantId: "jd-self",
        orderId: `order-${run}-${i}`,
        idempotencyKey: `auth-${run}-${i}`,
      });
      if (auth.decision !== credit.AuthorizationDecision.APPROVED)
        throw new Error(`purchase ${i} declined: ${auth.declineReason}`);
      await c.billing.postPurchase({
        accountId,
        authorizationId: auth.authorizationId,
        amountFen: purchaseFen,
        merchantId: "jd-self",
        description: `订单 ${i}`,
        idempotencyKey: `purchase-${run}-${i}`,
      });
      return { customerId: reg.customerId, accountId, purchaseFen, payer: payers(i) };
    }),
  );
}

/** The statement day of the lead's demo (its customers apply with statement day 5). */
export const DEMO_STATEMENT_DAY = 5;

/**
 * Seeds a portfolio whose accounts reach their first days past due. `count` console customers buy on `start`
 * (statement day = the day after). With `useDemo` (default) @whiteslip/platform's `playDemo` journey
 * plays alongside for ~40 business days (its six personas: on time, cured, promise kept, promise broken then plan,
 * never pays, declined) — `start` must then be the 4th of a month. Otherwise the platform travels to `daysPastDue`
 * days past the due date, and every fourth console customer pays in full before the due date and buys again.
 */
export async function seedPortfolio(
  p: Platform,
  start: LocalDate,
  o: { count?: number; daysPastDue?: number; useDemo?: boolean } = {},
): Promise<Seeded> {
  const c = p.clients;
  const count = o.count ?? 6;
  const statementDay = dayOfMonth(addDays(start, 1));
  if (statementDay > 28) throw new Error("pick a start date whose next day is the 1st–28th");
  const demo = (o.useDemo ?? true) && statementDay === DEMO_STATEMENT_DAY;
  const accounts = await openAccounts(c, count, statementDay, (i) => !demo && i % 4 === 3);
  const demoLog: string[] = [];
  let businessDate: LocalDate;
  if (demo) {
    // First due date = statement date + 29; the demo's last actions fall 8 days after it.
    const days = 1 + 29 + 8 + 2;
    await playDemo({
      // the console's clients are the same typed gRPC clients of the same five services
      clients: c as unknown as Parameters<typeof playDemo>[0]["clients"],
      clockFile: p.clockFile,
      startDate: start,
      days,
      print: (l) => demoLog.push(l),
    });
    businessDate = (await c.billing.getBusinessDate({})).businessDate;
  } else {
    const dueDate = addDays(addDays(start, 1), 29);
    const payDay = addDays(dueDate, -7);
    businessDate = await advance(c, p.setClock, 29 + 1 + (o.daysPastDue ?? 3) + 1, async (date) => {
      if (date !== payDay) return;
      for (const a of accounts.filter((x) => x.payer)) await payAndBuyAgain(c, a);
    });
  }
  const cases: collections.Case[] = [];
  for (const a of accounts.filter((x) => !x.payer)) {
    cases.push(
      await eventually(`collection case of ${a.accountId}`, async () => {
        const r = await c.collections.listCases({ accountId: a.accountId, pageSize: 5 });
        return r.cases.find((x) => x.status === collections.CaseStatus.OPEN);
      }),
    );
  }
  return { accounts, cases, businessDate, demo, demoLog };
}

/** Pays the whole balance, then buys again so the next statement has an amount due ahead (expected inflows). */
async function payAndBuyAgain(c: ServiceClients, a: SeededAccount): Promise<void> {
  const s = (await c.billing.getAccountSummary({ accountId: a.accountId })).account!;
  await c.billing.postRepayment({
    accountId: a.accountId,
    amountFen: s.totalBalanceFen,
    idempotencyKey: `pay-${a.accountId}`,
    channel: "wallet",
  });
  const again = await c.credit.authorizePurchase({
    creditLineId: a.accountId,
    amountFen: 88_800n,
    merchantScenario: credit.MerchantScenario.PLATFORM_RETAIL,
    merchantId: "jd-self",
    orderId: `order-again-${a.accountId}`,
    idempotencyKey: `auth-again-${a.accountId}`,
  });
  if (again.decision === credit.AuthorizationDecision.APPROVED)
    await c.billing.postPurchase({
      accountId: a.accountId,
      authorizationId: again.authorizationId,
      amountFen: 88_800n,
      merchantId: "jd-self",
      description: "再次购物",
      idempotencyKey: `purchase-again-${a.accountId}`,
    });
}

/** Makes the console's demo agents able to work every early queue (the seed agents are skilled per queue). */
export async function upsertConsoleAgents(c: ServiceClients): Promise<void> {
  const skills = ["digital", "early-warning", "calls-M1", "calls-M2", "legal-M1", "legal-M3"];
  for (const [agentId, displayName] of [
    ["agent-m1-1", "李娜 Li Na"],
    ["agent-m1-2", "王伟 Wang Wei"],
  ] as const) {
    await c.collections.upsertAgent({
      agent: { agentId, displayName, skills, active: true },
      actor: "console-e2e",
    });
  }
}

export { closeClients };
