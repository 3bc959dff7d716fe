import { describe, expect, it } from "vitest";
import { adjustCreditLine } from "../src/app/adjust-credit-line";
import { applyAccountCured } from "../src/app/apply-account-cured";
import { applyForCredit } from "../src/app/apply-for-credit";
import { applyOverdueFact } from "../src/app/apply-overdue";
import { authorizationIdFor, authorizePurchase } from "../src/app/authorize-purchase";
import { expireHolds } from "../src/app/expire-holds";
import { flagHighRiskDueSoon } from "../src/app/flag-due-soon";
import { recordPaymentReceived } from "../src/app/record-payment-received";
import { recordPurchasePosted } from "../src/app/record-purchase-posted";
import { registerCustomer } from "../src/app/register-customer";
import { releaseAuthorization } from "../src/app/release-authorization";
import { runRescoring } from "../src/app/run-rescoring";
import { availableFen } from "../src/domain/credit-line";
import { goodInputs, validNationalId, weakInputs } from "./support/fixtures";
import { memoryDeps } from "./support/memory";

const person = { name: "张三", nationalId: validNationalId(), phone: "+8613800138000", email: "zs@example.cn" };

async function withLine(d = memoryDeps()) {
  const c = await registerCustomer(d, person);
  const r = await applyForCredit(d, { ...goodInputs, customerId: c.customerId, statementDay: 5, idempotencyKey: "app-1" });
  return { d, line: r.line!, customerId: c.customerId };
}
const auth = (creditLineId: string, key: string, amountFen: bigint, over = {}) => ({
  creditLineId, amountFen, merchantScenario: "PLATFORM_RETAIL" as const, merchantId: "m1", orderId: `o-${key}`, installmentMonths: 0, idempotencyKey: key, ...over,
});

describe("register and apply", () => {
  it("stores only ciphertext and deduplicates on the national id", async () => {
    const d = memoryDeps();
    const a = await registerCustomer(d, person);
    const b = await registerCustomer(d, { ...person, phone: "+8613900139000" });
    expect(a).toMatchObject({ created: true, nationalIdMasked: expect.stringMatching(/^1101\*{10}/), phoneMasked: "+86138****8000" });
    expect(b).toEqual({ ...a, created: false });
    const stored = JSON.stringify([...d.customers.map.values()]);
    for (const clear of [person.name, person.nationalId, person.phone, person.email]) expect(stored).not.toContain(clear);
  });

  it("customer ids are random: the same person in two deployments gets unrelated ids, none derived from the ID number", async () => {
    const a = await registerCustomer(memoryDeps(), person);
    const b = await registerCustomer(memoryDeps(), person);
    expect(a.customerId).toMatch(/^cus_[0-9a-f]{32}$/);
    expect(b.customerId).not.toBe(a.customerId);
  });

  it("a registration that loses the race to the unique blind index returns the winner's customer", async () => {
    const d = memoryDeps();
    const first = await registerCustomer(d, person);
    // a second registration whose lookup ran before the first one stored: the unique index refuses its insert
    const real = d.customers.findByNationalIdIndex.bind(d.customers);
    let calls = 0;
    d.customers.findByNationalIdIndex = async (ix) => (calls++ === 0 ? null : real(ix));
    expect(await registerCustomer(d, person)).toEqual({ ...first, created: false });
    expect(d.customers.map.size).toBe(1);
  });

  it("approves a good applicant, opens a line with CreditLineOpened, and the same key returns the same decision", async () => {
    const { d, line, customerId } = await withLine();
    expect(line).toMatchObject({ customerId, status: "ACTIVE", statementDay: 5 });
    expect(d.lines.outbox).toEqual([expect.objectContaining({ type: "CreditLineOpened", data: expect.objectContaining({ creditLineId: line.id, statementDay: 5, limitFen: line.limitFen }) })]);
    const again = await applyForCredit(d, { ...goodInputs, customerId, statementDay: 5, idempotencyKey: "app-1" });
    expect(again.line!.id).toBe(line.id);
    await expect(applyForCredit(d, { ...goodInputs, customerId, statementDay: 5, idempotencyKey: "app-2" })).rejects.toMatchObject({ reason: "CUSTOMER_HAS_CREDIT_LINE" });
  });

  it("declines a weak applicant with reasons and no line", async () => {
    const d = memoryDeps();
    const c = await registerCustomer(d, person);
    const r = await applyForCredit(d, { ...weakInputs, customerId: c.customerId, statementDay: 0, idempotencyKey: "k" });
    expect(r.application).toMatchObject({ decision: "DECLINE", tier: "E", creditLineId: null, modelVersion: "scorecard-v1" });
    expect(r.application.reasons.length).toBeGreaterThan(0);
    expect(r.line).toBeNull();
  });

  it("rejects bad inputs with field violations and stores nothing", async () => {
    const d = memoryDeps();
    await expect(applyForCredit(d, { ...goodInputs, customerId: "x", returnsLast12m: 99, ageYears: 16, statementDay: 30, idempotencyKey: "k" })).rejects.toMatchObject({
      kind: "invalid_argument",
      violations: [{ field: "returns_last_12m" }, { field: "age_years" }, { field: "statement_day" }].map((v) => expect.objectContaining(v)),
    });
    await expect(applyForCredit(d, { ...goodInputs, customerId: "nobody", statementDay: 1, idempotencyKey: "k" })).rejects.toMatchObject({ kind: "not_found" });
    expect(d.applications.map.size).toBe(0);
  });
});

describe("authorization", () => {
  it("approves within available, declines beyond it, same key → same answer", async () => {
    const { d, line } = await withLine();
    const a1 = await authorizePurchase(d, auth(line.id, "k1", line.limitFen - 100n));
    expect(a1).toMatchObject({ decision: "APPROVED", availableFen: 100n, status: "OPEN" });
    const a2 = await authorizePurchase(d, auth(line.id, "k2", 101n));
    expect(a2).toMatchObject({ decision: "DECLINED", declineReason: "INSUFFICIENT_AVAILABLE_CREDIT" });
    expect(await authorizePurchase(d, auth(line.id, "k1", line.limitFen - 100n))).toEqual(a1);
    await releaseAuthorization(d, a1.id);
    expect(await authorizePurchase(d, auth(line.id, "k2", 101n))).toEqual(a2); // a decline is also the same answer
    await expect(authorizePurchase(d, auth(line.id, "k1", 5n))).rejects.toMatchObject({ reason: "IDEMPOTENCY_KEY_REUSED" });
    // the retries above reserved again (their earlier hold was gone) and undid it: nothing is held
    expect(await d.lines.get(line.id)).toMatchObject({ openHoldsFen: 0n, holds: {} });
  });

  it("a line the process knows is not read again: each batch is one versioned update, answers exact", async () => {
    const { d, line } = await withLine();
    const calls = { getMany: 0, reserveMany: 0, reserveAtVersion: 0 };
    for (const m of ["getMany", "reserveMany", "reserveAtVersion"] as const) {
      const real = (d.lines[m] as (...a: unknown[]) => Promise<unknown>).bind(d.lines);
      (d.lines as unknown as Record<string, unknown>)[m] = (...a: unknown[]) => (calls[m]++, real(...a));
    }
    const answers = [];
    for (const k of ["a", "b", "c"]) answers.push(await authorizePurchase(d, auth(line.id, k, 1_000n)));
    expect(answers.map((a) => [a.decision, a.availableFen])).toEqual([1n, 2n, 3n].map((n) => ["APPROVED", line.limitFen - n * 1_000n]));
    expect(calls).toEqual({ getMany: 1, reserveMany: 0, reserveAtVersion: 3 });
    expect(await d.lines.get(line.id)).toMatchObject({ openHoldsFen: 3_000n, version: 3 });
  });

  it("a line changed by something else since (a capture) takes the conditional path, and the answer is exact", async () => {
    const { d, line } = await withLine();
    const a = await authorizePurchase(d, auth(line.id, "a", 10_000n));
    await recordPurchasePosted(d, { eventId: "pp1", accountId: line.id, authorizationId: a.id, amountFen: 10_000n });
    let conditional = 0;
    const real = d.lines.reserveMany.bind(d.lines);
    d.lines.reserveMany = (rs) => (conditional++, real(rs));
    const b = await authorizePurchase(d, auth(line.id, "b", 20_000n));
    expect(b).toMatchObject({ decision: "APPROVED", availableFen: line.limitFen - 30_000n });
    expect(conditional).toBe(1);
    expect(await d.lines.get(line.id)).toMatchObject({ postedBalanceFen: 10_000n, openHoldsFen: 20_000n, holds: { [b.id]: { amountFen: 20_000n } } });
  });

  it("a decline decided on a remembered state is not answered: the line is looked at again", async () => {
    const { d, line } = await withLine();
    const big = await authorizePurchase(d, auth(line.id, "big", line.limitFen - 100n));
    // released behind the group commit's back: it still remembers 100 fen available
    await releaseAuthorization(d, big.id);
    const next = await authorizePurchase(d, auth(line.id, "next", 5_000n));
    expect(next).toMatchObject({ decision: "APPROVED", availableFen: line.limitFen - 5_000n });
    const over = await authorizePurchase(d, auth(line.id, "over", line.limitFen));
    expect(over).toMatchObject({ decision: "DECLINED", declineReason: "INSUFFICIENT_AVAILABLE_CREDIT", availableFen: line.limitFen - 5_000n });
  });

  it("a line that keeps changing between the reservation and the read answers ABORTED CONCURRENT_MODIFICATION and holds nothing", async () => {
    const { d, line } = await withLine();
    let reservations = 0;
    // every reservation loses to a concurrent change, and every read finds no reason to decline
    d.lines.reserveAtVersion = async () => 0;
    d.lines.reserveMany = async () => {
      reservations++;
    };
    const e = await authorizePurchase(d, auth(line.id, "k1", 100n)).catch((x) => x);
    expect(e).toMatchObject({ kind: "aborted", reason: "CONCURRENT_MODIFICATION" });
    expect(reservations).toBe(12);
    expect(await d.lines.get(line.id)).toMatchObject({ openHoldsFen: 0n, holds: {} });
    expect(await d.authorizations.get(authorizationIdFor(line.id, "k1"))).toBeNull();
  });

  it("a consumed event on a line that keeps changing is ABORTED CONCURRENT_MODIFICATION (the bus retries it), applied nowhere", async () => {
    const { d, line } = await withLine();
    d.lines.save = async () => "conflict";
    const e = await applyOverdueFact(d, { eventId: "ov1", accountId: line.id, businessDate: "2026-03-09", daysPastDue: 1 }).catch((x) => x);
    expect(e).toMatchObject({ kind: "aborted", reason: "CONCURRENT_MODIFICATION", message: `credit line ${line.id} kept changing (12 attempts); retry` });
    expect(d.lines.processed.get(line.id)?.has("ov1") ?? false).toBe(false);
  });

  it("a retry after capture answers the first approval and holds nothing again", async () => {
    const { d, line } = await withLine();
    const a = await authorizePurchase(d, auth(line.id, "k1", 10_000n));
    await recordPurchasePosted(d, { eventId: "pp1", accountId: line.id, authorizationId: a.id, amountFen: 10_000n });
    expect(await authorizePurchase(d, auth(line.id, "k1", 10_000n))).toEqual({ ...a, status: "CAPTURED" });
    expect(await d.lines.get(line.id)).toMatchObject({ postedBalanceFen: 10_000n, openHoldsFen: 0n, holds: {} });
  });

  it("declines cash and external scenarios and restricted lines", async () => {
    const { d, line } = await withLine();
    expect((await authorizePurchase(d, auth(line.id, "c", 100n, { merchantScenario: "CASH" }))).declineReason).toBe("MERCHANT_SCENARIO_NOT_ALLOWED");
    expect((await authorizePurchase(d, auth(line.id, "e", 100n, { merchantScenario: "EXTERNAL" }))).declineReason).toBe("MERCHANT_SCENARIO_NOT_ALLOWED");
    await applyOverdueFact(d, { eventId: "ov1", accountId: line.id, businessDate: "2026-03-09", daysPastDue: 1 });
    expect((await authorizePurchase(d, auth(line.id, "r", 100n))).declineReason).toBe("ACCOUNT_RESTRICTED");
  });

  it("release and expiry give the credit back; capture moves it to the posted balance", async () => {
    const { d, line } = await withLine();
    const a = await authorizePurchase(d, auth(line.id, "k1", 10_000n));
    expect(await releaseAuthorization(d, a.id)).toEqual({ released: true, availableFen: line.limitFen });
    expect((await releaseAuthorization(d, a.id)).released).toBe(false);
    const b = await authorizePurchase(d, auth(line.id, "k2", 20_000n));
    const c = await authorizePurchase(d, auth(line.id, "k3", 30_000n));
    expect(await recordPurchasePosted(d, { eventId: "pp1", accountId: line.id, authorizationId: b.id, amountFen: 20_000n })).toBe("applied");
    expect(await recordPurchasePosted(d, { eventId: "pp1", accountId: line.id, authorizationId: b.id, amountFen: 20_000n })).toBe("duplicate");
    d.clock.advance(7 * 86_400_000);
    expect(await expireHolds(d)).toBe(1);
    const after = (await d.lines.get(line.id))!;
    expect(after).toMatchObject({ postedBalanceFen: 20_000n, openHoldsFen: 0n, holds: {} });
    expect(d.authorizations.map.get(c.id)!.status).toBe("EXPIRED");
    expect(d.authorizations.map.get(b.id)!.status).toBe("CAPTURED");
    expect(availableFen(after)).toBe(line.limitFen - 20_000n);
  });
});

describe("consumers and rescoring", () => {
  it("Overdue restricts once (redelivery changes nothing), AccountCured lifts", async () => {
    const { d, line } = await withLine();
    await applyOverdueFact(d, { eventId: "ov1", accountId: line.id, businessDate: "2026-03-09", daysPastDue: 1 });
    expect(await applyOverdueFact(d, { eventId: "ov1", accountId: line.id, businessDate: "2026-03-09", daysPastDue: 1 })).toBe("duplicate");
    await applyOverdueFact(d, { eventId: "ov2", accountId: line.id, businessDate: "2026-03-10", daysPastDue: 2 });
    const restrictionEvents = () => d.lines.outbox.filter((e) => e.type === "RestrictionChanged");
    expect(restrictionEvents()).toHaveLength(1);
    await applyAccountCured(d, { eventId: "cu1", accountId: line.id, businessDate: "2026-03-11" });
    await applyAccountCured(d, { eventId: "cu1", accountId: line.id, businessDate: "2026-03-11" });
    expect(restrictionEvents().map((e) => e.data)).toEqual([expect.objectContaining({ reason: "OVERDUE" }), expect.objectContaining({ reason: "CURED", features: [] })]);
    expect((await d.lines.get(line.id))!.restriction.features).toEqual([]);
  });

  it("late payments and DPD push the tier down with a line change; a redelivered payment counts once", async () => {
    const { d, line } = await withLine();
    for (const id of ["p1", "p1", "p2", "p2"]) await recordPaymentReceived(d, { eventId: id, accountId: line.id, amountFen: 1n, onTime: false });
    expect((await d.lines.get(line.id))!.behaviour.latePayments).toBe(2);
    await applyOverdueFact(d, { eventId: "ov", accountId: line.id, businessDate: "2026-03-09", daysPastDue: 40 });
    const l = (await d.lines.get(line.id))!;
    expect(["D", "E"]).toContain(l.tier);
    expect(d.lines.history[0]).toMatchObject({ actor: "system:rescoring", previousTier: line.tier });
    expect(d.lines.outbox.some((e) => e.type === "CreditLineChanged")).toBe(true);
  });

  it("DueSoon raises a risk flag for a D/E line only, once per event", async () => {
    const { d, line } = await withLine();
    await flagHighRiskDueSoon(d, { eventId: "ds0", accountId: line.id, dueDate: "2026-03-15", amountDueFen: 100n });
    expect(d.lines.outbox.filter((e) => e.type === "RiskFlagRaised")).toHaveLength(0);
    await applyOverdueFact(d, { eventId: "ov", accountId: line.id, businessDate: "2026-03-09", daysPastDue: 70 });
    await flagHighRiskDueSoon(d, { eventId: "ds1", accountId: line.id, dueDate: "2026-03-15", amountDueFen: 100n });
    await flagHighRiskDueSoon(d, { eventId: "ds1", accountId: line.id, dueDate: "2026-03-15", amountDueFen: 100n });
    expect(d.lines.outbox.filter((e) => e.type === "RiskFlagRaised")).toHaveLength(1);
  });

  it("the periodic run rescores each line once per cadence", async () => {
    const { d, line } = await withLine();
    await authorizePurchase(d, auth(line.id, "big", (line.limitFen * 95n) / 100n));
    const r1 = await runRescoring(d);
    expect(r1).toMatchObject({ rescored: 1 });
    expect((await d.lines.get(line.id))!.lastRescoredOn).toBe("2026-03-10");
    expect((await runRescoring(d)).rescored).toBe(0);
    d.clock.advance(30 * 86_400_000);
    expect((await runRescoring(d)).rescored).toBe(1);
  });

  it("manual adjustment is idempotent by key", async () => {
    const { d, line } = await withLine();
    const input = { creditLineId: line.id, newLimitFen: 200_000n, freeze: false, setStatus: false, reason: "customer asked", actor: "ops:wang", idempotencyKey: "adj-1" };
    await adjustCreditLine(d, input);
    await adjustCreditLine(d, input);
    expect(d.lines.history).toHaveLength(1);
  });
});
