import { billing, bucketFromProto, bucketToProto } from "@whiteslip/contracts";
import { addDays, BUCKETS, daysBetween, type LocalDate } from "@whiteslip/core";
import { describe, expect, it } from "vitest";
import { type Account, balancesOf, costAllowance, daysPastDue, newAccount, partsTotal } from "../src/domain/account";
import { bucketFor } from "../src/domain/delinquency";
import { endOfDayForAccount } from "../src/domain/end-of-day";
import type { BillingEvent } from "../src/domain/events";
import { createRepaymentPlan, deferPayment, postPurchase, postRepayment, refundPurchase, waiveFees } from "../src/domain/ledger";
import { defaultProduct, longestInterestFreeDays, type ProductConfig, productViolations, validateProduct } from "../src/domain/product";

const p = defaultProduct;
const now = new Date("2025-01-01T02:00:00Z");

function open(statementDay = 1, date: LocalDate = "2025-01-01", id = "acc-1"): Account {
  return newAccount({ id, customerId: "cus-1", productCode: p.code, statementDay, creditLimit: 5_000_00n, businessDate: date });
}

/** Runs end-of-day for every date from `from` to `to` inclusive; returns the account and the events by date. */
function travel(a: Account, from: LocalDate, to: LocalDate, product: ProductConfig = p) {
  const events: (BillingEvent & { date: LocalDate })[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) {
    if (a.status !== "ACTIVE") break;
    const r = endOfDayForAccount(a, d, product);
    a = r.account;
    events.push(...r.events.map((e) => ({ ...e, date: d })));
  }
  return { account: a, events };
}

function buy(a: Account, amount: bigint, date: LocalDate, months = 0, id = `pur-${amount}-${date}`, product = p): Account {
  return postPurchase(a, { purchaseId: id, authorizationId: `auth-${id}`, amount, installmentMonths: months }, date, product).account;
}

describe("product configuration", () => {
  it("default product is valid and its longest interest-free period is exactly 59 days", () => {
    expect(() => validateProduct(p)).not.toThrow();
    const l = longestInterestFreeDays(29);
    expect(l.days).toBe(59);
    // A 31-day cycle: purchase the day after the statement date, due 31 − 1 + 29 days later.
    expect(l.purchaseDate).toBe("2024-01-02");
    expect(l.dueDate).toBe("2024-03-01");
  });

  it("refuses grace days that make the longest interest-free period 60 days", () => {
    expect(longestInterestFreeDays(30).days).toBe(60);
    const v = productViolations({ ...p, graceDays: 30 });
    expect(v).toHaveLength(1);
    expect(v[0]!.field).toBe("graceDays");
    expect(v[0]!.description).toContain("60 days");
    expect(() => validateProduct({ ...p, graceDays: 30 })).toThrow(/maximum is 59/);
  });

  it("the shortest cycle (February of a common year) gives 56 days interest-free, a leap February 57", () => {
    // statement day 10: a purchase the day after the 02-10 statement closes into the 03-10 statement, due 29 days later
    const interestFreeDays = (year: number) => {
      let a = buy(open(10, `${year}-01-20`), 100_00n, `${year}-02-11`);
      a = travel(a, `${year}-02-11`, `${year}-03-10`).account;
      const due = a.dues.find((d) => d.amountDue > 0n)!;
      expect(due.dueDate).toBe(`${year}-04-08`);
      return daysBetween(`${year}-02-11`, due.dueDate);
    };
    expect(interestFreeDays(2025)).toBe(56);
    expect(interestFreeDays(2024)).toBe(57);
  });

  it("names every bad setting", () => {
    const v = productViolations({ ...p, reminderOffsets: [5, 5, 40], chargeOffDpd: 10, installmentFeePpmPerMonth: { ...p.installmentFeePpmPerMonth, 24: 20_000 } });
    const fields = v.map((x) => x.field);
    expect(fields).toEqual(expect.arrayContaining(["reminderOffsets", "reminderOffsets[2]", "chargeOffDpd", "installmentFeePpmPerMonth.24"]));
  });
});

describe("buckets", () => {
  it.each([
    [0, "M0"], [1, "M1"], [30, "M1"], [31, "M2"], [60, "M2"], [61, "M3"], [90, "M3"], [91, "M4"],
    [120, "M4"], [121, "M5"], [150, "M5"], [151, "M6"], [180, "M6"], [181, "CHARGED_OFF"],
  ] as const)("DPD %i → %s", (dpd, bucket) => {
    expect(bucketFor(dpd, 181)).toBe(bucket);
  });
  it("stays M6 past 180 when the product charges off later", () => {
    expect(bucketFor(199, 200)).toBe("M6");
    expect(bucketFor(200, 200)).toBe("CHARGED_OFF");
  });
});

describe("days past due across month ends", () => {
  function withDue(dueDate: LocalDate): Account {
    const a = open(1, "2023-12-01");
    a.dues.push({ id: "s", kind: "statement", dueDate, amountDue: 100n, minimumPayment: 100n, unpaid: { fees: 0n, penaltyInterest: 0n, installmentFees: 0n, interest: 0n, principal: 100n }, missed: true, lateFeeCharged: true, rolled: 0n });
    return a;
  }
  it("Jan 31 → Mar 1 is 29 days in a common year and 30 in a leap year", () => {
    expect(daysPastDue(withDue("2025-01-31"), "2025-03-01", p)).toBe(29);
    expect(daysPastDue(withDue("2024-01-31"), "2024-03-01", p)).toBe(30);
  });
  it("is 0 on the due date and 1 the day after", () => {
    expect(daysPastDue(withDue("2025-02-28"), "2025-02-28", p)).toBe(0);
    expect(daysPastDue(withDue("2025-02-28"), "2025-03-01", p)).toBe(1);
    expect(daysPastDue(withDue("2024-02-29"), "2024-03-01", p)).toBe(1);
  });
});

describe("statement cycle", () => {
  it("a purchase the day after the statement date is due 59 days later at the longest; DueSoon exactly 5 days before", () => {
    let a = open(15, "2025-01-10");
    a = travel(a, "2025-01-10", "2025-01-15").account; // statement 01-15 with nothing billed
    a = buy(a, 100_00n, "2025-01-16");
    const { account, events } = travel(a, "2025-01-16", "2025-03-16");
    const st = events.filter((e) => e.type === "StatementIssued");
    expect(st).toHaveLength(1);
    expect(st[0]!.date).toBe("2025-02-15");
    const due = account.dues[0]!;
    expect(due.dueDate).toBe("2025-03-16");
    expect(Number((Date.parse(due.dueDate) - Date.parse("2025-01-16")) / 86_400_000)).toBe(59);
    const ds = events.filter((e) => e.type === "DueSoon");
    expect(ds.map((e) => e.date)).toEqual(["2025-03-11"]);
    expect(ds[0]!.data).toMatchObject({ statementId: "acc-1:2025-02-15", daysUntilDue: 5, amountDueFen: 100_00n, minimumPaymentFen: 100_00n });
    expect(events.filter((e) => e.type === "Overdue")).toHaveLength(0);
  });

  it("issues no statement when nothing is billed", () => {
    const { events } = travel(open(1), "2025-01-01", "2025-03-01");
    expect(events).toHaveLength(0);
  });

  it("each reminder offset emits its own DueSoon with a deterministic id", () => {
    const prod = { ...p, reminderOffsets: [5, 1] };
    let a = buy(open(1), 50_00n, "2025-01-02");
    const { events } = travel(a, "2025-01-02", "2025-03-02", prod);
    const ds = events.filter((e) => e.type === "DueSoon");
    expect(ds.map((e) => [e.date, (e.data as { daysUntilDue: number }).daysUntilDue])).toEqual([["2025-02-25", 5], ["2025-03-01", 1]]);
    expect(new Set(ds.map((e) => e.id)).size).toBe(2);
    // Same input, same ids.
    a = buy(open(1), 50_00n, "2025-01-02");
    expect(travel(a, "2025-01-02", "2025-03-02", prod).events.map((e) => e.id)).toEqual(events.map((e) => e.id));
  });

  it("a paid statement gets no DueSoon", () => {
    let a = buy(open(1), 50_00n, "2025-01-02");
    a = travel(a, "2025-01-02", "2025-02-01").account;
    a = postRepayment(a, { paymentId: "pay-1", amount: 50_00n, channel: "wallet" }, "2025-02-02", p, now).account;
    const { events } = travel(a, "2025-02-02", "2025-03-10");
    expect(events.filter((e) => e.type === "DueSoon" || e.type === "Overdue")).toHaveLength(0);
  });

  it("installments bill one portion plus the monthly fee per statement; the first portion carries the remainder", () => {
    let a = buy(open(1), 100_01n, "2025-01-05", 3);
    const r = travel(a, "2025-01-05", "2025-04-01");
    a = r.account;
    const st = a.dues.filter((d) => d.kind === "statement");
    expect(st.map((d) => d.statement!.installmentPrincipal)).toEqual([33_35n, 33_33n, 33_33n]);
    const fee = (100_01n * 6_000n + 500_000n) / 1_000_000n;
    expect(st.map((d) => d.statement!.installmentFees)).toEqual([fee, fee, fee]);
    expect(a.installments).toHaveLength(0);
  });
});

describe("allocation waterfall", () => {
  function twoMissedDues(): Account {
    let a = open(1, "2024-12-01");
    a = buy(a, 1000_00n, "2024-12-02");
    a = travel(a, "2024-12-01", "2025-01-01").account; // statement 1 (due 01-30)
    a = buy(a, 600_00n, "2025-01-05", 3);
    a = travel(a, "2025-01-02", "2025-03-05").account; // statement 2 (02-01, due 03-02) missed too
    return a;
  }

  it("pays the oldest due first and inside it fees → penalty interest → installment fees → interest → principal", () => {
    const a = twoMissedDues();
    const [d1, d2] = a.dues;
    expect(d1!.missed && d2!.missed).toBe(true);
    expect(d1!.unpaid.fees).toBeGreaterThan(0n);
    expect(d1!.unpaid.penaltyInterest).toBeGreaterThan(0n);
    expect(d2!.unpaid.installmentFees).toBeGreaterThan(0n);
    const amount = d1!.unpaid.fees + d1!.unpaid.penaltyInterest + 10n;
    const r = postRepayment(a, { paymentId: "pay", amount, channel: "bank-card" }, "2025-03-05", p, now);
    expect(r.result.allocation).toMatchObject({ fees: d1!.unpaid.fees, penaltyInterest: d1!.unpaid.penaltyInterest, installmentFees: 0n, principal: 10n, creditBalance: 0n });
    expect(r.account.dues[1]).toEqual(d2); // the newer due untouched
    expect(a.dues[0]!.unpaid.principal).toBe(1000_00n); // input not mutated
  });

  it("after the oldest due, pays the next one in waterfall order; overpayment becomes credit balance, applied at the next statement", () => {
    const a = twoMissedDues();
    const owed = a.dues.reduce((s, d) => s + partsTotal(d.unpaid), 0n);
    const r = postRepayment(a, { paymentId: "pay", amount: owed + 7_00n, channel: "bank-card" }, "2025-03-05", p, now);
    expect(r.result.allocation.creditBalance).toBe(7_00n);
    expect(r.result.cured).toBe(true);
    expect(r.events.map((e) => e.type)).toEqual(["PaymentReceived", "AccountCured"]);
    expect(r.account.creditBalance).toBe(7_00n);
    expect(daysPastDue(r.account, "2025-03-05", p)).toBe(0);
    // next statement (04-01) bills the second installment portion; the credit balance pays part of it
    const after = travel(r.account, "2025-03-05", "2025-04-01").account;
    const last = after.dues[after.dues.length - 1]!;
    expect(partsTotal(last.unpaid)).toBe(last.amountDue - 7_00n);
    expect(after.creditBalance).toBe(0n);
  });

  it("rejects zero and negative amounts and repayments on a charged-off account", () => {
    const a = open();
    expect(() => postRepayment(a, { paymentId: "x", amount: 0n, channel: "" }, "2025-01-01", p, now)).toThrow(/amount_fen/);
    expect(() => postRepayment(a, { paymentId: "x", amount: -1n, channel: "" }, "2025-01-01", p, now)).toThrow(/amount_fen/);
    const off = { ...a, status: "CHARGED_OFF" as const, chargedOffDate: "2025-01-01" };
    expect(() => postRepayment(off, { paymentId: "x", amount: 1n, channel: "" }, "2025-01-01", p, now)).toThrow(expect.objectContaining({ kind: "failed_precondition", reason: "ACCOUNT_CHARGED_OFF" }));
  });
});

describe("delinquency, fees and charge-off", () => {
  function missed(amount: bigint, product: ProductConfig = p): Account {
    let a = buy(open(1, "2025-01-01"), amount, "2025-01-02", 0, "pur", product);
    a = travel(a, "2025-01-02", "2025-03-02", product).account; // statement 02-01, due 03-02
    return a;
  }

  it("late fee 5% once per missed statement and daily penalty interest from DPD 1; Overdue every day", () => {
    const a = missed(1000_00n);
    const { account, events } = travel(a, "2025-03-03", "2025-03-05");
    const due = account.dues[0]!;
    const over = events.filter((e) => e.type === "Overdue");
    expect(over.map((e) => (e.data as { daysPastDue: number }).daysPastDue)).toEqual([1, 2, 3]);
    expect(over[0]!.data).toMatchObject({ oldestDueDate: "2025-03-02", delinquencyStartDate: "2025-03-03", overdueFen: expect.any(BigInt) });
    // allowance after 61 principal-days of ¥1000 at 24%: 1000_00 × 61 × 0.24 / 365 = 40_11 fen < 5% (50_00): capped
    expect(due.unpaid.fees).toBe((1000_00n * 61n * 240_000n) / 365_000_000n);
    expect(account.costCharged).toBeLessThanOrEqual((account.principalDays * 240_000n) / 365_000_000n);
  });

  it("late fee is 5% of the overdue amount when the cap allows it, with a minimum of ¥1", () => {
    const generous = { ...p, costCapPpmPerYear: 1_000_000, penaltyInterestPpmPerDay: 0 };
    const big = travel(missed(1000_00n, generous), "2025-03-03", "2025-03-03", generous).account;
    expect(big.dues[0]!.unpaid.fees).toBe(50_00n);
    const small = travel(missed(10_00n, generous), "2025-03-03", "2025-03-03", generous).account;
    expect(small.dues[0]!.unpaid.fees).toBe(1_00n); // 5% of ¥10 = ¥0.50 → minimum ¥1
    const again = travel(small, "2025-03-04", "2025-03-10", generous).account;
    expect(again.dues[0]!.unpaid.fees).toBe(1_00n); // once per missed statement
  });

  /** Two consecutive missed statements: ¥1000 bought 01-02 (statement 02-01, due 03-02), ¥400 bought 02-05 (03-01, due 03-30). */
  function twoMissed(product: ProductConfig): Account {
    let a = buy(open(1, "2025-01-01"), 1000_00n, "2025-01-02", 0, "pur-1", product);
    a = travel(a, "2025-01-02", "2025-02-04", product).account;
    a = buy(a, 400_00n, "2025-02-05", 0, "pur-2", product);
    return travel(a, "2025-02-05", "2025-03-30", product).account;
  }

  it("a second missed statement gets a late fee of its own, once, on its own overdue amount", () => {
    const generous = { ...p, costCapPpmPerYear: 1_000_000, penaltyInterestPpmPerDay: 0 };
    const before = twoMissed(generous);
    const [first, second] = before.dues;
    expect([first!.dueDate, second!.dueDate]).toEqual(["2025-03-02", "2025-03-30"]);
    expect(first!.unpaid.fees).toBe(50_00n); // 5% of ¥1000, charged at DPD 1 of the first statement
    expect(second!.unpaid.fees).toBe(0n); // not missed yet on its due date
    const after = travel(before, "2025-03-31", "2025-04-30", generous).account;
    expect(after.dues[0]!.unpaid.fees).toBe(50_00n); // still once
    expect(after.dues[1]!.unpaid.fees).toBe((after.dues[1]!.amountDue * 5n) / 100n); // 5% of its own amount
    expect(after.dues[1]!.unpaid.fees).toBeGreaterThan(0n);
  });

  it("with two missed statements the cost cap holds every day and both late fees share its room", () => {
    let acc = twoMissed(p);
    const cap = (a: Account) => (a.principalDays * 240_000n) / 365_000_000n;
    for (let d = "2025-03-31"; d <= "2025-05-31"; d = addDays(d, 1)) {
      acc = endOfDayForAccount(acc, d, p).account;
      expect(acc.costCharged).toBeLessThanOrEqual(cap(acc));
    }
    const charged = acc.dues.reduce((s, d) => s + d.unpaid.fees + d.unpaid.penaltyInterest, 0n);
    expect(charged).toBe(acc.costCharged);
    expect(acc.dues[1]!.unpaid.fees).toBeGreaterThan(0n); // the second statement was charged too, within the cap
  });

  it("moves buckets at 30/31, 60/61 … 180/181 and charges off at 181 with one ChargedOff", () => {
    const a = missed(1000_00n);
    const { account, events } = travel(a, "2025-03-03", "2025-12-31");
    const byDpd = new Map(events.filter((e) => e.type === "Overdue").map((e) => [(e.data as { daysPastDue: number }).daysPastDue, (e.data as { bucket: number }).bucket]));
    const B = { M1: 2, M2: 3, M3: 4, M4: 5, M5: 6, M6: 7, CO: 8 };
    expect([byDpd.get(1), byDpd.get(30), byDpd.get(31), byDpd.get(60), byDpd.get(61), byDpd.get(90), byDpd.get(91)]).toEqual([B.M1, B.M1, B.M2, B.M2, B.M3, B.M3, B.M4]);
    expect([byDpd.get(120), byDpd.get(121), byDpd.get(150), byDpd.get(151), byDpd.get(180), byDpd.get(181)]).toEqual([B.M4, B.M5, B.M5, B.M6, B.M6, B.CO]);
    expect(byDpd.has(182)).toBe(false);
    const co = events.filter((e) => e.type === "ChargedOff");
    expect(co).toHaveLength(1);
    expect(co[0]!.date).toBe("2025-08-30"); // 03-02 + 181
    expect(account.status).toBe("CHARGED_OFF");
    expect(account.chargedOffFen).toBe(balancesOf(account, "2025-08-30", p).total);
    expect(account.bucketLog.map((e) => e.bucket)).toEqual(["M0", "M1", "M2", "M3", "M4", "M5", "M6", "CHARGED_OFF"]);
  });

  it("never charges more than the 24% all-in cost cap: the late fee is cut to the room left", () => {
    let acc = missed(1000_00n);
    for (let d = "2025-03-03"; d <= "2025-08-29"; d = addDays(d, 1)) {
      acc = endOfDayForAccount(acc, d, p).account;
      expect(acc.costCharged).toBeLessThanOrEqual((acc.principalDays * 240_000n) / 365_000_000n);
    }
    expect(acc.dues[0]!.unpaid.fees + acc.dues[0]!.unpaid.penaltyInterest).toBe(acc.costCharged);
  });

  it("stops accruing at the cap: with 0.1%/day penalty (36.5%/yr) accrual only follows the cap's growth", () => {
    const steep = { ...p, penaltyInterestPpmPerDay: 1_000 };
    let acc = missed(1000_00n, steep);
    for (let d = "2025-03-03"; d <= "2025-06-30"; d = addDays(d, 1)) acc = endOfDayForAccount(acc, d, steep).account;
    const cap = (acc.principalDays * 240_000n) / 365_000_000n;
    expect(acc.costCharged).toBe(cap); // at the cap exactly
    expect(costAllowance(acc, steep)).toBe(0n);
    const noCap = { ...p, costCapPpmPerYear: 1_000_000 };
    let free = missed(1000_00n, noCap);
    free = travel(free, "2025-03-03", "2025-03-12", noCap).account;
    expect(free.dues[0]!.unpaid.penaltyInterest).toBe(10n * 50n); // 10 days × 0.05% of ¥1000 = ¥5
  });

  it("a residue within the tolerance is not delinquent and revolves to the next statement", () => {
    const tol = { ...p, toleranceFen: 50n };
    let a = buy(open(1), 100_00n, "2025-01-02");
    a = travel(a, "2025-01-02", "2025-02-01", tol).account;
    a = postRepayment(a, { paymentId: "pay", amount: 100_00n - 40n, channel: "x" }, "2025-02-10", tol, now).account;
    const r = travel(a, "2025-02-10", "2025-04-01", tol);
    expect(r.events.filter((e) => e.type === "Overdue")).toHaveLength(0);
    expect(r.account.dues[0]!.rolled).toBe(40n);
    expect(r.account.dues[1]!.statement!.revolving).toBeGreaterThanOrEqual(40n);
  });

  it("with a 10% minimum, paying the minimum keeps the account current and the rest revolves with interest", () => {
    const pct: ProductConfig = { ...p, minimumPayment: { kind: "percent-of-principal", principalPpm: 100_000 } };
    let a = buy(open(1), 1000_00n, "2025-01-02");
    a = travel(a, "2025-01-02", "2025-02-01", pct).account;
    expect(a.dues[0]!.minimumPayment).toBe(100_00n);
    a = postRepayment(a, { paymentId: "pay", amount: 100_00n, channel: "x" }, "2025-02-20", pct, now).account;
    const r = travel(a, "2025-02-20", "2025-04-01", pct);
    expect(r.events.filter((e) => e.type === "Overdue")).toHaveLength(0);
    const st = r.account.dues[1]!;
    expect(st.statement!.revolving).toBe(900_00n + 29n * 45n); // ¥900 rolled at 03-03 plus 29 days × 0.05%
  });
});

describe("refunds, waivers and repayment plans", () => {
  it("a refund of an unbilled purchase reduces the open cycle; of a billed one the due principal; the rest is credit", () => {
    let a = buy(open(1), 100_00n, "2025-01-05", 0, "p1");
    a = refundPurchase(a, { purchaseId: "p1", amount: 30_00n, refundId: "r1" }, "2025-01-06", p).account;
    expect(a.cyclePurchases).toBe(70_00n);
    a = travel(a, "2025-01-06", "2025-02-01").account;
    a = refundPurchase(a, { purchaseId: "p1", amount: 70_00n, refundId: "r2" }, "2025-02-03", p).account;
    expect(a.dues[0]!.settledDate).toBe("2025-02-03");
    expect(() => refundPurchase(a, { purchaseId: "p1", amount: 1n, refundId: "r3" }, "2025-02-03", p)).toThrow(/exceeds/);
    expect(() => refundPurchase(a, { purchaseId: "nope", amount: 1n, refundId: "r3" }, "2025-02-03", p)).toThrow(/not found/);
  });

  it("a refund of an installment purchase removes unbilled portions from the last and stops their fees", () => {
    let a = buy(open(1), 300_00n, "2025-01-05", 3, "p1");
    a = refundPurchase(a, { purchaseId: "p1", amount: 300_00n, refundId: "r1" }, "2025-01-06", p).account;
    expect(a.installments).toHaveLength(0);
    expect(travel(a, "2025-01-06", "2025-04-01").events).toHaveLength(0);
  });

  it("fee waivers take late fees first then penalty interest, and free cost-cap room", () => {
    let a = buy(open(1), 1000_00n, "2025-01-02");
    a = travel(a, "2025-01-02", "2025-03-10").account;
    const d = a.dues[0]!;
    const r = waiveFees(a, { waiverId: "w", maxAmount: d.unpaid.fees + 1n, reason: "hardship" }, "2025-03-10", p);
    expect(r.result.waived).toBe(d.unpaid.fees + 1n);
    expect(r.account.dues[0]!.unpaid.fees).toBe(0n);
    expect(r.account.dues[0]!.unpaid.penaltyInterest).toBe(d.unpaid.penaltyInterest - 1n);
    expect(r.account.costCharged).toBe(a.costCharged - d.unpaid.fees - 1n);
  });

  it("a repayment plan re-schedules overdue balances, makes the account current and emits AccountCured", () => {
    let a = buy(open(1), 1000_00n, "2025-01-02");
    a = travel(a, "2025-01-02", "2025-03-10").account;
    const overdue = balancesOf(a, "2025-03-10", p).overdue;
    const r = createRepaymentPlan(a, { planId: "plan-1", count: 3, requestedBy: "collections:case-1" }, "2025-03-10", p, now);
    expect(r.events.map((e) => e.type)).toEqual(["RepaymentPlanCreated", "AccountCured"]);
    expect(r.result.plan.total).toBe(overdue);
    expect(daysPastDue(r.account, "2025-03-10", p)).toBe(0);
    const plans = r.account.dues.filter((d) => d.kind === "plan");
    expect(plans.map((d) => d.dueDate)).toEqual(["2025-04-10", "2025-05-10", "2025-06-10"]);
    expect(plans.reduce((s, d) => s + d.amountDue, 0n)).toBe(overdue);
    expect(() => createRepaymentPlan(r.account, { planId: "plan-2", count: 3, requestedBy: "x" }, "2025-03-10", p, now)).toThrow(/already has active plan/);
    expect(() => createRepaymentPlan(open(), { planId: "p", count: 3, requestedBy: "x" }, "2025-01-01", p, now)).toThrow(/not overdue/);
    expect(() => createRepaymentPlan(a, { planId: "p", count: 5, requestedBy: "x" }, "2025-03-10", p, now)).toThrow(/installment_count/);
    // paying every installment ends the plan
    const paid = postRepayment(r.account, { paymentId: "pay", amount: overdue, channel: "x" }, "2025-03-11", p, now).account;
    expect(paid.plan!.active).toBe(false);
  });
});

describe("hardship deferral", () => {
  const overdueAccount = () => travel(buy(open(1), 1000_00n, "2025-01-02"), "2025-01-02", "2025-03-10").account;

  it("moves the delinquent dues to today + days: current until then, no fee or penalty meanwhile, delinquent again after", () => {
    const a = overdueAccount();
    const dpd = daysPastDue(a, "2025-03-10", p);
    expect(dpd).toBeGreaterThan(0);
    const owed = balancesOf(a, "2025-03-10", p).overdue;
    const r = deferPayment(a, { deferralId: "df-1", days: 30, requestedBy: "collections:case-1", reason: "hardship" }, "2025-03-10", p);
    expect(r.events.map((e) => e.type)).toEqual(["PaymentDeferred", "AccountCured"]);
    expect(r.events[0]!.data).toMatchObject({ deferralId: "df-1", dueDate: "2025-04-09", days: 30, deferredFen: owed });
    expect(r.result.deferral).toMatchObject({ id: "df-1", grantedOn: "2025-03-10", dueDate: "2025-04-09", amount: owed, days: 30 });
    expect(daysPastDue(r.account, "2025-03-10", p)).toBe(0);
    // the days up to the new due date: nothing is charged, nothing is overdue
    const quiet = travel(r.account, "2025-03-11", "2025-04-09");
    expect(quiet.events.filter((e) => e.type === "Overdue")).toEqual([]);
    expect(quiet.events.some((e) => e.type === "DueSoon")).toBe(true); // reminded before the new date
    expect(partsTotal(quiet.account.dues.find((d) => d.dueDate === "2025-04-09")!.unpaid)).toBe(owed);
    // not paid by the new date: overdue again from the day after
    const after = travel(quiet.account, "2025-04-10", "2025-04-10");
    expect(daysPastDue(after.account, "2025-04-10", p)).toBe(1);
    expect(after.events.some((e) => e.type === "Overdue")).toBe(true);
  });

  it("is refused for more than 30 days, a current account, or twice within 365 days", () => {
    const a = overdueAccount();
    expect(() => deferPayment(a, { deferralId: "x", days: 31, requestedBy: "c", reason: "hardship" }, "2025-03-10", p)).toThrow(/days 31 must be 1–30/);
    expect(() => deferPayment(open(), { deferralId: "x", days: 10, requestedBy: "c", reason: "hardship" }, "2025-01-01", p)).toThrow(/not overdue/);
    const once = deferPayment(a, { deferralId: "df-1", days: 5, requestedBy: "c", reason: "hardship" }, "2025-03-10", p).account;
    const late = travel(once, "2025-03-11", "2025-03-20").account;
    expect(daysPastDue(late, "2025-03-20", p)).toBeGreaterThan(0);
    expect(() => deferPayment(late, { deferralId: "df-2", days: 5, requestedBy: "c", reason: "hardship" }, "2025-03-20", p)).toThrow(
      /deferred on 2025-03-10; the next deferral is possible from 2026-03-10/,
    );
  });
});

describe("minimum to pay", () => {
  it("counts the dues falling due next, not later statements", async () => {
    const { minimumToPay } = await import("../src/domain/account");
    let a = buy(open(1), 300_00n, "2025-01-02", 3);
    a = travel(a, "2025-01-02", "2025-02-01").account; // statements 01-01? no: 02-01 (due 03-02)
    a = travel(a, "2025-02-02", "2025-03-01").account; // statement 03-01 (due 03-30)
    const open2 = a.dues.filter((d) => d.settledDate === undefined);
    expect(open2).toHaveLength(2);
    expect(minimumToPay(a, "2025-03-01", p)).toBe(open2[0]!.amountDue);
  });
});

describe("buckets on the wire (one mapping, in @whiteslip/contracts)", () => {
  it("every bucket of core's bands has its own DelinquencyBucket value and comes back unchanged; the proto has no bucket core lacks", () => {
    const values = BUCKETS.map((b) => bucketToProto(b));
    expect(new Set(values).size).toBe(BUCKETS.length);
    expect(values.every((v) => v !== billing.DelinquencyBucket.UNSPECIFIED)).toBe(true);
    expect(BUCKETS.map((b) => bucketFromProto(bucketToProto(b)))).toEqual([...BUCKETS]);
    const protoNames = Object.keys(billing.DelinquencyBucket).filter((k) => Number.isNaN(Number(k)) && k !== "UNSPECIFIED");
    expect(protoNames.sort()).toEqual([...BUCKETS].sort());
    expect(bucketFromProto(billing.DelinquencyBucket.UNSPECIFIED)).toBe("UNSPECIFIED");
    expect(bucketFromProto(99 as billing.DelinquencyBucket)).toBe("UNSPECIFIED");
    expect(bucketToProto(bucketFor(45))).toBe(billing.DelinquencyBucket.M2);
  });
});
