/**
 * Property test of the sparse end-of-day: random accounts with random purchases, refunds, repayments,
 * waivers, plans and deferrals over 430 days, run two ways —
 *   A. day by day: every command, then endOfDayForAccount every day (the reference);
 *   B. sparse: before a command the skipped idle days are caught up (`catchUpIdle`) and after it the
 *      account is marked changed (`markChanged`), as the use cases do; end-of-day runs only on the days
 *      its stored hint `nextActionDate` names (as the agenda does), through `endOfDayThrough`.
 * Every command result and error, every day's events (ids and payloads: statements, DueSoon, Overdue with
 * DPD, bucket and balances, charge-offs, cures) and, every day, the whole account state (statements,
 * interest, penalty interest, fees, principal·days, cost cap, DPD, bucket log) must be identical.
 */
import { addDays, type LocalDate } from "@whiteslip/core";
import { describe, expect, it } from "vitest";
import { type Account, daysPastDue, minimumToPay, newAccount } from "../src/domain/account";
import { catchUpIdle, endOfDayForAccount, endOfDayThrough, markChanged } from "../src/domain/end-of-day";
import type { BillingEvent } from "../src/domain/events";
import { type Change, createRepaymentPlan, deferPayment, postPurchase, postRepayment, refundPurchase, waiveFees } from "../src/domain/ledger";
import { defaultProduct, type ProductConfig, validateProduct } from "../src/domain/product";

const revolving: ProductConfig = {
  ...defaultProduct,
  code: "revolving-test",
  reminderOffsets: [1, 5, 10],
  minimumPayment: { kind: "percent-of-principal", principalPpm: 100_000 },
  toleranceFen: 100n,
};
validateProduct(revolving);

function mulberry32(seed: number) {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

type Op = { name: string; run: (a: Account, date: LocalDate, p: ProductConfig) => Change<unknown> };

/** The state that must agree: everything but the optimistic-concurrency version and the agenda hint. */
function comparable(a: Account) {
  const { version: _v, nextActionDate: _n, ...rest } = a;
  return rest;
}

function attempt(op: Op, a: Account, date: LocalDate, p: ProductConfig): { change?: Change<unknown>; error?: string } {
  try {
    return { change: op.run(a, date, p) };
  } catch (e) {
    return { error: `${(e as Error).message}` };
  }
}

interface Tally {
  days: number;
  sparseRuns: number;
  events: Record<string, number>;
  chargedOff: number;
  revolvingInterest: boolean;
  plans: number;
  deferrals: number;
}

function simulate(seed: number, p: ProductConfig, days: number, tally: Tally): void {
  const rnd = mulberry32(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const start = addDays("2025-01-01", int(0, 60));
  const style = (["prompt", "late", "minimum", "stops", "never"] as const)[seed % 5]!;
  const stopDay = int(60, 250);
  const now = new Date("2025-06-01T02:00:00Z");
  let a = newAccount({ id: `acc-${seed}`, customerId: `cus-${seed}`, productCode: p.code, statementDay: int(1, 28), creditLimit: 50_000_00n, businessDate: start });
  let b = structuredClone(a);
  let n = 0;
  for (let i = 0, d = start; i < days; i++, d = addDays(d, 1)) {
    const ops: Op[] = [];
    if (rnd() < 0.1) {
      const amount = BigInt(int(50, 3000)) * 100n + BigInt(int(0, 99));
      const months = [0, 0, 0, 0, 3, 6, 12, 24][int(0, 7)]!;
      const id = `pur-${seed}-${n++}`;
      ops.push({ name: "purchase", run: (x, date, q) => postPurchase(x, { purchaseId: id, authorizationId: `auth-${id}`, amount, installmentMonths: months }, date, q) });
    }
    if (rnd() < 0.03 && a.purchases.length > 0) {
      const pu = a.purchases[int(0, a.purchases.length - 1)]!;
      const left = pu.amount - pu.refunded;
      if (left > 0n) {
        const amount = left / BigInt(int(1, 3)) || left;
        const id = `ref-${seed}-${n++}`;
        ops.push({ name: "refund", run: (x, date, q) => refundPurchase(x, { purchaseId: pu.id, amount, refundId: id }, date, q) });
      }
    }
    const owed = a.status === "ACTIVE" ? minimumToPay(a, d, p) : 0n;
    const dpd = a.status === "ACTIVE" ? daysPastDue(a, d, p) : 0;
    const next = a.dues.filter((x) => x.settledDate === undefined).map((x) => x.dueDate).sort()[0];
    const dueToday = next === d;
    let pay = 0n;
    if (owed > 0n) {
      if (style === "prompt" && (dueToday || rnd() < 0.05)) pay = owed;
      else if (style === "late" && dpd >= int(1, 40) && rnd() < 0.3) pay = owed;
      else if (style === "minimum" && dueToday) pay = owed;
      else if (style === "stops" && i < stopDay && (dueToday || dpd > 0)) pay = owed;
      else if (style === "never" && rnd() < 0.01) pay = owed / 3n;
    }
    if (pay === 0n && rnd() < 0.02) pay = BigInt(int(1, 2000)) * 100n; // a random (over)payment
    if (pay > 0n) {
      const id = `pay-${seed}-${n++}`;
      ops.push({ name: "repayment", run: (x, date, q) => postRepayment(x, { paymentId: id, amount: pay, channel: "test" }, date, q, now) });
    }
    if (dpd > 0 && rnd() < 0.02) {
      const id = `w-${seed}-${n++}`;
      const max = BigInt(int(1, 300)) * 100n;
      ops.push({ name: "waiver", run: (x, date, q) => waiveFees(x, { waiverId: id, maxAmount: max, reason: "test" }, date, q) });
    }
    if (dpd > 10 && rnd() < 0.01) {
      const id = `plan-${seed}-${n++}`;
      const count = [3, 6, 12, 24][int(0, 3)]!;
      ops.push({ name: "plan", run: (x, date, q) => createRepaymentPlan(x, { planId: id, count, requestedBy: "collections:test" }, date, q, now) });
    }
    if (dpd > 5 && rnd() < 0.01) {
      const id = `def-${seed}-${n++}`;
      const ds = int(1, 30);
      ops.push({ name: "deferral", run: (x, date, q) => deferPayment(x, { deferralId: id, days: ds, requestedBy: "collections:test", reason: "test" }, date, q) });
    }

    for (const op of ops) {
      const ra = attempt(op, a, d, p);
      const caught = catchUpIdle(b, d, p);
      const rb = attempt(op, caught, d, p);
      expect(rb.error, `${op.name} on ${d} (seed ${seed})`).toBe(ra.error);
      if (ra.change && rb.change) {
        expect(rb.change.result, `${op.name} result on ${d}`).toEqual(ra.change.result);
        expect(rb.change.events, `${op.name} events on ${d}`).toEqual(ra.change.events);
        a = ra.change.account;
        b = rb.change.account;
        markChanged(b, d);
        for (const e of ra.change.events) tally.events[e.type] = (tally.events[e.type] ?? 0) + 1;
        if (op.name === "plan") tally.plans++;
        if (op.name === "deferral") tally.deferrals++;
      }
    }

    // End-of-day of d.
    let ea: BillingEvent[] = [];
    if (a.status === "ACTIVE") {
      const r = endOfDayForAccount(a, d, p);
      a = r.account;
      ea = r.events;
      tally.days++;
    }
    let eb: BillingEvent[] = [];
    if (b.nextActionDate !== undefined && b.nextActionDate <= d) {
      const r = endOfDayThrough(b, d, p);
      b = r.account;
      eb = r.events;
      tally.sparseRuns++;
    }
    expect(eb, `events of ${d} (seed ${seed}, ${style}, ${p.code})`).toEqual(ea);
    for (const e of ea) tally.events[e.type] = (tally.events[e.type] ?? 0) + 1;

    // The skipped days were truly idle: caught up to d, the sparse account is the day-by-day one.
    if (b.status === "ACTIVE" && b.eodDate < d) {
      const r = endOfDayThrough(b, d, p);
      expect(r.events, `an idle day had events: ${d} (seed ${seed})`).toEqual([]);
      expect(comparable(r.account), `state after ${d} (seed ${seed}, ${style}, ${p.code})`).toEqual(comparable(a));
    } else if (b.status === "ACTIVE" || a.status === "ACTIVE") {
      expect(comparable(b), `state after ${d} (seed ${seed}, ${style}, ${p.code})`).toEqual(comparable(a));
    }
    if (a.cycleInterest > 0n) tally.revolvingInterest = true;
  }
  if (a.status === "CHARGED_OFF") tally.chargedOff++;
}

describe("sparse end-of-day = day-by-day end-of-day (property)", () => {
  it.each([
    ["default product (full minimum)", defaultProduct],
    ["revolving product (10% minimum, reminders 1/5/10, tolerance)", revolving],
  ] as const)("%s: 30 random accounts × 430 days agree on every command, event and state", (_name, p) => {
    const tally: Tally = { days: 0, sparseRuns: 0, events: {}, chargedOff: 0, revolvingInterest: false, plans: 0, deferrals: 0 };
    for (let seed = 1; seed <= 30; seed++) simulate(seed * 7919 + (p === revolving ? 1 : 0), p, 430, tally);
    // The comparison covered what it claims to (a run without these would prove little).
    expect(tally.events.StatementIssued ?? 0).toBeGreaterThan(100);
    expect(tally.events.DueSoon ?? 0).toBeGreaterThan(100);
    expect(tally.events.Overdue ?? 0).toBeGreaterThan(500);
    expect(tally.events.AccountCured ?? 0).toBeGreaterThan(5);
    expect(tally.chargedOff).toBeGreaterThan(0);
    expect(tally.plans + tally.deferrals).toBeGreaterThan(0);
    if (p === revolving) expect(tally.revolvingInterest).toBe(true);
    // And it was sparse: most account-days had no end-of-day.
    expect(tally.sparseRuns / tally.days).toBeLessThan(p === revolving ? 0.75 : 0.6);
    console.log(`${p.code}: ${tally.days} account-days, ${tally.sparseRuns} sparse runs (${((tally.sparseRuns / tally.days) * 100).toFixed(1)} %), events ${JSON.stringify(tally.events)}, charge-offs ${tally.chargedOff}, plans ${tally.plans}, deferrals ${tally.deferrals}`);
  }, 240_000);
});
