/**
 * The book script: one business day of a 2,000-account book, played the same way every run.
 *
 *  1. D = 2027-03-10, 10:00: 2,000 billing accounts seeded as of the close of D−1 (the bench's mix, ids
 *     `fault-0000`…): 1 in 28 has its statement day on D, 1 in 28 a statement due on D+5 (DueSoon),
 *     1 in 33 a statement missed on 02-20 (17 days past due → Overdue), with contact points in
 *     notification for every customer who will be told something.
 *  2. D+1 01:00: the end-of-day Job closes D → statements, DueSoon, Overdue (the burst: credit,
 *     collections, credit-reporting and notification react at once); reminders wait for quiet hours.
 *  3. D+1 09:00: the quiet hours end → notification's due wave goes out to the SMTP and HTTP sinks.
 *  4. D+1 11:00: 31 overdue customers pay what is overdue (8 callers, one idempotency key each,
 *     retried on infrastructure errors) → PaymentReceived, AccountCured, cases closed, scores up.
 *
 * Hooks put a fault beside phase 2 (`eod`), 3 (`wave`) or 4 (`payments`); `afterEod` runs between
 * 2 and 3. The accounts are seeded into billing's database, as the billing bench does: onboarding
 * 2,000 customers through credit would take most of the suite's time budget for no extra proof.
 */
import { credit } from "@whiteslip/contracts";
import { addDays, type LocalDate } from "@whiteslip/core";
import { STRONG_APPLICATION, syntheticNationalId } from "@whiteslip/platform";
import { MongoClient } from "mongodb";
import { seedAccounts } from "../../../services/billing/src/adapters/mongo-accounts";
import { type Account, newAccount, zeroParts } from "../../../services/billing/src/domain/account";
import { nextActionDate } from "../../../services/billing/src/domain/end-of-day";
import { defaultProduct } from "../../../services/billing/src/domain/product";
import { endOfDayJob, type FaultInfra, type Hook, type RunContext, retrying, type ScriptRun, settled, withPlatform } from "./run";

export const BOOK_DATE: LocalDate = "2027-03-10";
export const BOOK_SIZE = 2_000;
/**
 * End-of-day page size of the book's billing: the book date's agenda holds about 200 accounts with work (sparse
 * end-of-day reads no other), so pages of 20 make about 10, and "mid end-of-day" is observable between them (at 200
 * the run was over before the kill could land: clean-clone CI 2026-12-02 06:30).
 */
const PAGE_SIZE = "20";

const idOf = (i: number) => `fault-${String(i).padStart(4, "0")}`;
const isStatementDay = (i: number) => i % 28 === 9;
const isDueSoon = (i: number) => i % 28 === 1;
const isOverdue = (i: number) => i % 33 === 0;
const pays = (i: number) => i % 66 === 0;

/** How many of the first `accounts` seeded accounts have end-of-day work on BOOK_DATE (sparse end-of-day touches those only). */
export function touchedOnBookDate(accounts: number): number {
  let n = 0;
  for (let i = 0; i < accounts; i++) if (nextActionDate(seededAccount(i), defaultProduct) === BOOK_DATE) n++;
  return n;
}

function seededAccount(i: number): Account {
  const D = BOOK_DATE;
  const a = newAccount({ id: idOf(i), customerId: `cus-fault-${i}`, productCode: "baitiao-standard", statementDay: 1 + (i % 28), creditLimit: 10_000_00n, businessDate: "2026-12-01" });
  a.eodDate = addDays(D, -1);
  a.cycleStart = "2027-02-11";
  a.cyclePurchases = BigInt(100_00 + (i % 500) * 100);
  a.principalDays = a.cyclePurchases * 90n;
  a.purchases.push({ id: `pur-${i}`, authorizationId: `auth-${i}`, amount: a.cyclePurchases, refunded: 0n, months: 0, postedDate: "2027-02-20" });
  const due = (dueDate: LocalDate, missed: boolean) =>
    a.dues.push({
      id: `${a.id}:${addDays(dueDate, -29)}`,
      kind: "statement",
      dueDate,
      amountDue: 300_00n,
      minimumPayment: 300_00n,
      unpaid: { ...zeroParts(), principal: 300_00n },
      missed,
      lateFeeCharged: missed,
      rolled: 0n,
      statement: { statementDate: addDays(dueDate, -29), periodStart: addDays(dueDate, -60), purchases: 300_00n, installmentPrincipal: 0n, installmentFees: 0n, revolving: 0n, feesAndPenalties: 0n, previousBalance: 0n },
    });
  if (isDueSoon(i)) due(addDays(D, 5), false);
  if (isOverdue(i)) {
    due("2027-02-20", true);
    a.dpd = 17;
    a.bucket = "M1";
    a.delinquencyStartDate = "2027-02-21";
  }
  return a;
}

/** Where a scenario puts its fault. */
export interface BookHooks {
  /** Beside the authorizations of the counter (the small book only); gets how many were answered so far. */
  authorizations?: (ctx: RunContext, answered: () => number) => Promise<void>;
  /** Before end-of-day (after the seed): e.g. poison messages put ahead of the Overdue burst. */
  beforeEod?: Hook;
  eod?: Hook;
  afterEod?: Hook;
  wave?: Hook;
  payments?: PaymentsHook;
}

/** Probes of a running book, for choosing the moment of a fault. */
export const probes = {
  /** Accounts end-of-day has committed so far. */
  eodProcessed: async (ctx: RunContext) => Number((await ctx.p.clients.billing.getEndOfDayRun({ businessDate: BOOK_DATE })).run?.accountsProcessed ?? 0),
  /** Messages at the SMTP and HTTP sinks. */
  sinkMessages: async (ctx: RunContext) => ctx.p.sandbox.messages.length,
  /** Cases collections has opened. */
  cases: (ctx: RunContext) => countIn(ctx, "collections", "cases", {}),
  /** Credit-reporting accounts whose score has changed. */
  scoredAccounts: (ctx: RunContext) => countIn(ctx, "credit-reporting", "accounts", { "state.history.0": { $exists: true } }),
};

async function countIn(ctx: RunContext, service: keyof RunContext["p"]["databases"], coll: string, filter: object): Promise<number> {
  const mongo = new MongoClient(ctx.infra.mongoUri, { serverSelectionTimeoutMS: 2_000 });
  try {
    await mongo.connect();
    return await mongo.db(ctx.p.databases[service]).collection(coll).countDocuments(filter);
  } finally {
    await mongo.close();
  }
}

async function inParallel<T>(items: T[], width: number, fn: (item: T, n: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let k = next++; k < items.length; k = next++) await fn(items[k]!, k);
    }),
  );
}

/** Runs the book script once (a hook per phase, or none for the fault-free run). */
export async function runBook(
  infra: FaultInfra,
  opts: { tag: string; hooks?: BookHooks; baseline?: Record<string, number>; accounts?: number; authorizations?: number },
): Promise<ScriptRun> {
  const hooks = opts.hooks ?? {};
  const D = BOOK_DATE;
  const BOOK_ACCOUNTS = opts.accounts ?? BOOK_SIZE;
  return withPlatform(infra, { tag: opts.tag, start: D, env: { EOD_PAGE_SIZE: PAGE_SIZE }, ...(opts.baseline ? { baseline: opts.baseline } : {}) }, async (ctx, figures) => {
    const { p } = ctx;
    // 1. the book as of the close of D−1
    await p.clients.billing.getBusinessDate({});
    const mongo = new MongoClient(infra.mongoUri);
    await mongo.connect();
    try {
      // as steady state has them: agenda hint and entry, last mark (sparse end-of-day reads only the accounts with work)
      for (let k = 0; k < BOOK_ACCOUNTS; k += 500)
        await seedAccounts(mongo.db(p.databases.billing), Array.from({ length: Math.min(500, BOOK_ACCOUNTS - k) }, (_, i) => seededAccount(k + i)), defaultProduct);
    } finally {
      await mongo.close();
    }
    const told = Array.from({ length: BOOK_ACCOUNTS }, (_, i) => i).filter((i) => isDueSoon(i) || isOverdue(i));
    await inParallel(told, 8, async (i) => {
      await p.clients.notification.upsertContactPoints({ customerId: `cus-fault-${i}`, email: `c${i}@example.com`, phone: `+8613800${String(i).padStart(6, "0")}`, timeZone: "Asia/Shanghai", locale: "en" });
    });
    ctx.note(`seeded ${BOOK_ACCOUNTS} accounts; ${told.length} customers with contact points`);
    if (opts.authorizations) await counter(ctx, opts.authorizations, hooks, figures);
    await hooks.beforeEod?.(ctx);

    // 2. end-of-day of D, and the burst of reactions to its events
    p.setClock(addDays(D, 1), 1, 0);
    await Promise.all([endOfDayJob(ctx, D), hooks.eod?.(ctx)]);
    await settled(ctx);
    figures.cases = await probes.cases(ctx);
    figures.scoredAccounts = await probes.scoredAccounts(ctx);
    ctx.note(`end-of-day settled: ${figures.cases} cases, ${figures.scoredAccounts} accounts re-scored, ${p.sandbox.messages.length} messages`);
    await hooks.afterEod?.(ctx);
    await settled(ctx);

    // 3. the due wave at the end of the quiet hours
    const before = p.sandbox.messages.length;
    p.setClock(addDays(D, 1), 9, 0);
    await Promise.all([settled(ctx), hooks.wave?.(ctx)]);
    await settled(ctx);
    figures.wave = p.sandbox.messages.length - before;
    ctx.note(`due wave settled: ${figures.wave} messages at the sinks`);

    // 4. payments
    p.setClock(addDays(D, 1), 11, 0);
    const payers = Array.from({ length: BOOK_ACCOUNTS }, (_, i) => i).filter(pays);
    const owed = new Map<number, bigint>();
    for (const i of payers) owed.set(i, (await p.clients.billing.getAccountSummary({ accountId: idOf(i) })).account!.overdueFen);
    let paid = 0;
    // A hook can hold the payments after the first n: they are sent only once it releases them, so its fault lands
    // between acknowledged payments and payments still to come, however fast the platform answers.
    let holdFrom = Number.POSITIVE_INFINITY;
    let release = () => {};
    const released = new Promise<void>((r) => (release = r));
    const waiting: Array<{ n: number; resolve: (paid: number) => void }> = [];
    const flow: PaymentFlow = {
      paid: () => paid,
      holdAfter: (n) => {
        holdFrom = n;
        return new Promise((resolve) => (paid >= n ? resolve(paid) : waiting.push({ n, resolve })));
      },
      release: () => release(),
    };
    const hooked = hooks.payments?.(ctx, flow).finally(() => release()); // first: it may hold from the first payment
    const paying = inParallel(payers, 8, async (i, k) => {
      if (k >= holdFrom) await released;
      await retrying(`repayment of ${idOf(i)}`, () => p.clients.billing.postRepayment({ accountId: idOf(i), amountFen: owed.get(i)!, idempotencyKey: `fault-pay-${i}`, channel: "bank-transfer" }));
      paid++;
      for (let j = waiting.length - 1; j >= 0; j--) if (paid >= waiting[j]!.n) waiting.splice(j, 1)[0]!.resolve(paid);
    });
    figures.payments = payers.length;
    await Promise.all([paying, hooked]);
    ctx.note(`${paid} payments acknowledged`);
  });
}

const LINES = 10;

/**
 * The counter (the small book's phase 0): 10 customers onboarded through credit, then `n` purchases of
 * ¥10 authorized on their lines by 8 concurrent callers, each with its own idempotency key, retried on
 * infrastructure errors as a checkout would; all fit in the lines, so all are approved.
 */
async function counter(ctx: RunContext, n: number, hooks: BookHooks, figures: Record<string, number>): Promise<void> {
  const { p } = ctx;
  const lines: string[] = [];
  for (let c = 0; c < LINES; c++) {
    const reg = await p.clients.credit.registerCustomer({ name: `Counter ${c}`, nationalId: syntheticNationalId(700 + c, "19880612"), phone: `+86139000007${String(c).padStart(2, "0")}`, email: `counter${c}@example.com`, idempotencyKey: `fault-reg-${c}` });
    const d = await p.clients.credit.applyForCredit({ customerId: reg.customerId, ...STRONG_APPLICATION, statementDay: 2, idempotencyKey: `fault-apply-${c}` });
    if (d.decision !== credit.Decision.APPROVE || !d.creditLine) throw new Error(`counter customer ${c} was not approved`);
    lines.push(d.creditLine.creditLineId);
    ctx.labels.set(reg.customerId, `customer-${c}`);
    ctx.labels.set(d.applicationId, `application-${c}`);
    ctx.labels.set(d.creditLine.creditLineId, `line-${c}`);
  }
  let answered = 0;
  const orders = Array.from({ length: n }, (_, k) => k);
  const authorizing = inParallel(orders, 8, async (k) => {
    const a = await retrying(`authorization ${k}`, () =>
      p.clients.credit.authorizePurchase({ creditLineId: lines[k % LINES]!, amountFen: 1_000n, merchantScenario: credit.MerchantScenario.PLATFORM_RETAIL, merchantId: "fault-store", orderId: `fault-order-${k}`, idempotencyKey: `fault-auth-${k}` }),
    );
    ctx.labels.set(a.authorizationId, `authorization-${k}`);
    answered++;
  });
  await Promise.all([authorizing, hooks.authorizations?.(ctx, () => answered)]);
  figures.authorizations = n;
  ctx.note(`${answered} authorizations answered on ${LINES} lines`);
}

/** A hook of the payments phase: it sees the payments acknowledged and can hold the rest until its fault is in place. */
export type PaymentsHook = (ctx: RunContext, flow: PaymentFlow) => Promise<void>;

/** What the payments phase offers its hook. */
export interface PaymentFlow {
  /** Payments acknowledged so far. */
  paid(): number;
  /** Holds every payment after the first `n` (call it before the hook's first await); resolves once those n are acknowledged. */
  holdAfter(n: number): Promise<number>;
  /** Sends the held payments (also done when the hook returns). */
  release(): void;
}
