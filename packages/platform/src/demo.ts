import { billing, collections, credit, notification } from "@whiteslip/contracts";
import { addDays, daysBetween, formatCny, type LocalDate, zonedInstant } from "@whiteslip/core";
import { isGrpcError } from "@whiteslip/grpc";
import { advance, type PlatformClients } from "@whiteslip/ops";
import { setFileClock } from "@whiteslip/runtime";

/** How a persona behaves once billed. */
type Behaviour = "on-time" | "late-then-cured" | "promise-kept" | "promise-broken-then-plan" | "never-pays" | "declined";

interface Persona {
  label: string;
  behaviour: Behaviour;
  name: string;
  locale: "zh-CN" | "en";
  application: {
    monthlyIncomeFen: bigint;
    employment: credit.Employment;
    ordersLast12m: number;
    spendLast12mFen: bigint;
    accountAgeMonths: number;
    returnsLast12m: number;
    ageYears: number;
  };
  purchases: { amountFen: bigint; installmentMonths: number; description: string }[];
  accountId?: string;
  customerId?: string;
  firstDueDate?: LocalDate;
  caseId?: string;
}

const E = credit.Employment;

/** The demo portfolio: six customers of different risk and behaviour (synthetic people). */
export function demoPortfolio(): Persona[] {
  return [
    { label: "Alice", behaviour: "on-time", name: "Alice Wang", locale: "en",
      application: { monthlyIncomeFen: 3_000_000n, employment: E.SALARIED, ordersLast12m: 80, spendLast12mFen: 6_000_000n, accountAgeMonths: 72, returnsLast12m: 2, ageYears: 36 },
      purchases: [{ amountFen: 360_000n, installmentMonths: 3, description: "Laptop" }, { amountFen: 45_900n, installmentMonths: 0, description: "Headphones" }] },
    { label: "Bo", behaviour: "late-then-cured", name: "李博", locale: "zh-CN",
      application: { monthlyIncomeFen: 1_200_000n, employment: E.SALARIED, ordersLast12m: 30, spendLast12mFen: 1_500_000n, accountAgeMonths: 36, returnsLast12m: 3, ageYears: 29 },
      purchases: [{ amountFen: 199_900n, installmentMonths: 0, description: "Phone" }] },
    { label: "Chen", behaviour: "promise-kept", name: "陈晨", locale: "zh-CN",
      application: { monthlyIncomeFen: 500_000n, employment: E.SELF_EMPLOYED, ordersLast12m: 10, spendLast12mFen: 350_000n, accountAgeMonths: 14, returnsLast12m: 2, ageYears: 25 },
      purchases: [{ amountFen: 123_456n, installmentMonths: 0, description: "Bicycle" }] },
    { label: "Fang", behaviour: "promise-broken-then-plan", name: "方芳", locale: "zh-CN",
      application: { monthlyIncomeFen: 700_000n, employment: E.SALARIED, ordersLast12m: 15, spendLast12mFen: 600_000n, accountAgeMonths: 18, returnsLast12m: 4, ageYears: 31 },
      purchases: [{ amountFen: 250_000n, installmentMonths: 0, description: "Washing machine" }] },
    { label: "Dan", behaviour: "never-pays", name: "Dan Zhou", locale: "en",
      application: { monthlyIncomeFen: 450_000n, employment: E.SELF_EMPLOYED, ordersLast12m: 6, spendLast12mFen: 250_000n, accountAgeMonths: 12, returnsLast12m: 3, ageYears: 23 },
      purchases: [{ amountFen: 99_900n, installmentMonths: 0, description: "Game console" }] },
    { label: "Eve", behaviour: "declined", name: "Eve Sun", locale: "en",
      application: { monthlyIncomeFen: 0n, employment: E.UNEMPLOYED, ordersLast12m: 1, spendLast12mFen: 10_000n, accountAgeMonths: 1, returnsLast12m: 1, ageYears: 19 },
      purchases: [] },
  ];
}

/** A synthetic, valid resident ID number (GB 11643: region, birth date, sequence, MOD 11-2 check digit). */
export function syntheticNationalId(seq: number, birth = "19900307"): string {
  const body = `110101${birth}${String(100 + seq).slice(-3)}`;
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...body].reduce((s, c, i) => s + Number(c) * weights[i]!, 0);
  return body + "10X98765432"[sum % 11];
}

/** Options of the demo. */
export interface DemoOptions {
  clients: PlatformClients;
  clockFile: string;
  startDate: LocalDate;
  /** Business days to play. */
  days: number;
  print: (line: string) => void;
  /** Persona label of an account id (for the narrator). */
  register?: (accountId: string, label: string) => void;
  signal?: AbortSignal;
}

const at = (date: LocalDate, h: number, m = 0) => zonedInstant(date, h, m, "Asia/Shanghai");

/** Plays the demo journey; returns the personas with their ids. */
export async function playDemo(o: DemoOptions): Promise<Persona[]> {
  const { clients, print } = o;
  const people = demoPortfolio();
  setFileClock(o.clockFile, at(o.startDate, 10));
  print(`\n== ${o.startDate}: six customers register and apply`);
  for (const [i, p] of people.entries()) {
    const reg = await clients.credit.registerCustomer({
      name: p.name,
      nationalId: syntheticNationalId(i + 1),
      phone: `+861380013${String(8000 + i)}`,
      email: `${p.label.toLowerCase()}@example.com`,
      // a synthetic mailing address (bureau files need one)
      address: { line1: `${100 + i} Jianguo Road`, line2: "", city: "Beijing", provinceCode: "BJ", postalCode: "100022", countryCode: "CN" },
      idempotencyKey: `demo-register-${p.label}`,
    });
    p.customerId = reg.customerId;
    await clients.notification.upsertContactPoints({
      customerId: reg.customerId,
      phone: `+861380013${String(8000 + i)}`,
      email: `${p.label.toLowerCase()}@example.com`,
      timeZone: "Asia/Shanghai",
      locale: p.locale,
      displayName: p.name,
    });
    const decision = await clients.credit.applyForCredit({
      customerId: reg.customerId,
      ...p.application,
      statementDay: 5,
      idempotencyKey: `demo-apply-${p.label}`,
    });
    const line = decision.creditLine;
    print(
      `  ${p.label.padEnd(6)} score ${decision.score} tier ${credit.RiskTier[decision.tier]} → ${credit.Decision[decision.decision]}` +
        (line ? `, line ${formatCny(line.limitFen)}` : `; reasons: ${decision.reasons.slice(0, 2).map((r) => r.code).join(", ")}`),
    );
    if (line && decision.decision === credit.Decision.APPROVE) {
      p.accountId = line.creditLineId;
      o.register?.(line.creditLineId, p.label);
    }
  }
  const active = people.filter((p) => p.accountId);
  for (const p of active) await waitForAccount(clients, p.accountId!);

  print(`\n== ${o.startDate}: checkout — authorize, then billing posts the purchase`);
  for (const p of active) {
    for (const [j, buy] of p.purchases.entries()) {
      const auth = await clients.credit.authorizePurchase({
        creditLineId: p.accountId!,
        amountFen: buy.amountFen,
        merchantScenario: credit.MerchantScenario.PLATFORM_RETAIL,
        merchantId: "whiteslip-store",
        orderId: `order-${p.label}-${j}`,
        installmentMonths: buy.installmentMonths,
        idempotencyKey: `demo-auth-${p.label}-${j}`,
      });
      if (auth.decision !== credit.AuthorizationDecision.APPROVED) {
        print(`  ${p.label.padEnd(6)} ${buy.description} ${formatCny(buy.amountFen)} declined: ${auth.declineReason}`);
        continue;
      }
      await clients.billing.postPurchase({
        accountId: p.accountId!,
        authorizationId: auth.authorizationId,
        amountFen: buy.amountFen,
        installmentMonths: buy.installmentMonths,
        merchantId: "whiteslip-store",
        description: buy.description,
        idempotencyKey: `demo-purchase-${p.label}-${j}`,
      });
      print(`  ${p.label.padEnd(6)} ${buy.description} ${formatCny(buy.amountFen)}${buy.installmentMonths ? ` in ${buy.installmentMonths} instalments` : ""}`);
    }
  }

  print(`\n== advancing ${o.days} business days (end-of-day each night; events below as they happen)`);
  for (let d = 0; d < o.days && !o.signal?.aborted; d++) {
    // Time travel moves the clock, never the rule: `advance` sets the shared clock past the end of the
    // business day (and billing's end-of-day cutoff) and only then closes the day that ended.
    await advance(clients, 1, o.clockFile, (l) => {
      if (l.endsWith("\n")) print(l.trim());
    });
    const today = (await clients.billing.getBusinessDate({})).businessDate;
    for (const p of active) {
      try {
        await act(o, p, today);
      } catch (e) {
        print(`  ${p.label.padEnd(6)} (step failed: ${isGrpcError(e) ? `${e.codeName} ${e.message}` : (e as Error).message})`);
      }
    }
    await new Promise((r) => setTimeout(r, 250));
    // notification sends what is due at 10:00 before the clock jumps to the next night (quiet hours): otherwise a
    // notice planned overnight misses its only sending window of the day and expires unsent
    await notificationsSettled(clients, 10_000);
  }
  await finale(o, people);
  return people;
}

async function waitForAccount(clients: PlatformClients, accountId: string): Promise<void> {
  const until = Date.now() + 30_000;
  for (;;) {
    try {
      await clients.billing.getAccountSummary({ accountId });
      return;
    } catch (e) {
      if (!isGrpcError(e) || e.codeName !== "NOT_FOUND" || Date.now() > until) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** What a persona does on a business day (the clock stands at 10:00 of `today`). */
async function act(o: DemoOptions, p: Persona, today: LocalDate): Promise<void> {
  const { clients, print } = o;
  const s = (await clients.billing.getAccountSummary({ accountId: p.accountId! })).account!;
  if (!p.firstDueDate && s.nextDueDate) p.firstDueDate = s.nextDueDate;
  const due = p.firstDueDate;
  const day = due ? daysBetween(due, today) : Number.NEGATIVE_INFINITY; // 0 on the first due date
  const pay = async (amount: bigint, why: string) => {
    if (amount <= 0n) return;
    await clients.billing.postRepayment({ accountId: p.accountId!, amountFen: amount, idempotencyKey: `demo-pay-${p.label}-${today}`, channel: "wallet" });
    print(`  ${p.label.padEnd(6)} pays ${formatCny(amount)} (${why})`);
  };
  const payOnTime = async () => {
    // Pay what falls due next (the statement's minimum: the full statement by default; one plan instalment on a plan).
    const next = s.minimumPaymentFen > 0n ? s.minimumPaymentFen : s.amountDueFen;
    if (s.nextDueDate && daysBetween(today, s.nextDueDate) === 2 && next > 0n) await pay(next, "two days before the due date");
  };
  const caseId = async () => {
    p.caseId ??= (await clients.collections.listCases({ accountId: p.accountId!, pageSize: 1 })).cases[0]?.caseId;
    return p.caseId;
  };
  switch (p.behaviour) {
    case "on-time":
      await payOnTime();
      break;
    case "late-then-cured":
      if (day === 7) await pay(s.overdueFen, "a week late: cures the account");
      else if (day > 7) await payOnTime();
      break;
    case "promise-kept": {
      if (day === 2 && (await caseId())) {
        const id = p.caseId!;
        await clients.collections.assignCase({ caseId: id, actor: "demo-supervisor" });
        const agent = (await clients.collections.getCase({ caseId: id })).case?.agentId || "agent-m1-1";
        setFileClock(o.clockFile, at(today, 22, 30));
        try {
          await clients.collections.logContactAttempt({ caseId: id, agentId: agent, channel: collections.ContactChannel.CALL, outcome: collections.ContactOutcome.NO_ANSWER, contactParty: "debtor", idempotencyKey: `demo-late-call-${p.label}` });
          print(`  ${p.label.padEnd(6)} call at 22:30 went through (unexpected)`);
        } catch (e) {
          print(`  ${p.label.padEnd(6)} agent ${agent} tries a call at 22:30 → refused: ${isGrpcError(e) ? `${e.codeName} ${e.reason}` : (e as Error).message}`);
        } finally {
          setFileClock(o.clockFile, at(today, 10));
        }
        await clients.collections.logContactAttempt({ caseId: id, agentId: agent, channel: collections.ContactChannel.CALL, outcome: collections.ContactOutcome.PROMISE_TO_PAY, reason: collections.NonPaymentReason.CASH_FLOW, contactParty: "debtor", note: "salary on the 10th", idempotencyKey: `demo-call-${p.label}` });
        const promise = await clients.collections.recordPromiseToPay({ caseId: id, amountFen: s.overdueFen, promisedDate: addDays(today, 6), agentId: agent, idempotencyKey: `demo-ptp-${p.label}` });
        print(`  ${p.label.padEnd(6)} agent ${agent} calls at 10:00: promise ${formatCny(promise.promise?.amountFen ?? 0n)} by ${promise.promise?.promisedDate}`);
      } else if (day === 6) await pay(s.overdueFen, "keeps the promise");
      else if (day > 6) await payOnTime();
      break;
    }
    case "promise-broken-then-plan": {
      if (day === 2 && (await caseId())) {
        await clients.collections.assignCase({ caseId: p.caseId!, actor: "demo-supervisor" });
        const agent = (await clients.collections.getCase({ caseId: p.caseId! })).case?.agentId || "agent-m1-1";
        await clients.collections.logContactAttempt({ caseId: p.caseId!, agentId: agent, channel: collections.ContactChannel.CALL, outcome: collections.ContactOutcome.PROMISE_TO_PAY, reason: collections.NonPaymentReason.FORGOT, contactParty: "debtor", idempotencyKey: `demo-call-${p.label}` });
        await clients.collections.recordPromiseToPay({ caseId: p.caseId!, amountFen: s.overdueFen, promisedDate: addDays(today, 2), agentId: agent, idempotencyKey: `demo-ptp-${p.label}` });
        print(`  ${p.label.padEnd(6)} promises ${formatCny(s.overdueFen)} by ${addDays(today, 2)} … and will not pay`);
      } else if (day === 8 && p.caseId) {
        const c = (await clients.collections.getCase({ caseId: p.caseId })).case;
        const agent = c?.agentId || (await clients.collections.assignCase({ caseId: p.caseId, actor: "demo-supervisor" })).case?.agentId || "agent-m1-1";
        await clients.collections.logContactAttempt({ caseId: p.caseId, agentId: agent, channel: collections.ContactChannel.CALL, outcome: collections.ContactOutcome.HARDSHIP, reason: collections.NonPaymentReason.CASH_FLOW, contactParty: "debtor", idempotencyKey: `demo-call2-${p.label}` });
        const plan = await clients.collections.offerRepaymentPlan({ caseId: p.caseId, installmentCount: 6, agentId: agent, idempotencyKey: `demo-plan-${p.label}` });
        print(`  ${p.label.padEnd(6)} cash-flow problem → repayment plan booked in billing: ${plan.plan?.installmentCount} × ${formatCny(plan.plan?.installments[0]?.amountFen ?? 0n)}`);
      } else if (day > 8) await payOnTime();
      break;
    }
    case "never-pays":
      if (day === 64 && (await caseId())) {
        const notice = await clients.collections.sendLegalNotice({ caseId: p.caseId!, deadlineDays: 15, actor: "agent-legal-1", idempotencyKey: `demo-legal-${p.label}` });
        print(`  ${p.label.padEnd(6)} M3: legal notice (法律告知函) ${notice.noticeId} sent, deadline ${notice.deadlineDate}`);
      }
      break;
    case "declined":
      break;
  }
}

/**
 * Waits until notification has sent everything due at the demo's clock (its backlog is 0), at most `timeoutMs`: the
 * last day's notices go out before the demo says it finished, not after. What waited past its window was expired or
 * superseded rather than delivered late (notification's validity windows).
 */
async function notificationsSettled(
  clients: PlatformClients,
  timeoutMs = 60_000,
): Promise<notification.GetNotificationStatsResponse | undefined> {
  const until = Date.now() + timeoutMs;
  let last: notification.GetNotificationStatsResponse | undefined;
  for (;;) {
    // a slow answer (an overloaded laptop) is not a reason to stop the demo: ask again until the time is up
    last = await clients.notification.getNotificationStats({}).catch(() => last);
    if (last?.dueNow === 0n || Date.now() > until) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function finale(o: DemoOptions, people: Persona[]): Promise<void> {
  const { clients, print } = o;
  const sent = await notificationsSettled(clients);
  if (sent) {
    const count = (st: notification.DeliveryStatus) => sent.counts.filter((c) => c.status === st).reduce((a, c) => a + c.count, 0n);
    const S = notification.DeliveryStatus;
    print(
      `\n  Notifications: ${count(S.DELIVERED) + count(S.SENT)} delivered, ${count(S.EXPIRED)} expired and ${count(S.SUPERSEDED)} superseded before sending (never sent late), ${count(S.SCHEDULED) + count(S.HELD)} waiting for a later time${sent.dueNow > 0n ? `, ${sent.dueNow} still due` : ""}`,
    );
  }
  const today = (await clients.billing.getBusinessDate({})).businessDate;
  const asOf = addDays(today, -1);
  print(`\n== ${asOf}: where everyone stands`);
  for (const p of people.filter((x) => x.accountId)) {
    const s = (await clients.billing.getAccountSummary({ accountId: p.accountId! })).account!;
    const score = await clients.creditReporting.getCreditScore({ accountId: p.accountId! }).catch(() => undefined);
    const r = await clients.credit.getRestrictions({ accountId: p.accountId! }).catch(() => undefined);
    const inbox = await clients.notification.listInbox({ customerId: p.customerId!, pageSize: 50 }).catch(() => undefined);
    print(
      `  ${p.label.padEnd(6)} ${billing.DelinquencyBucket[s.bucket].padEnd(3)} DPD ${String(s.daysPastDue).padStart(3)} · balance ${formatCny(s.totalBalanceFen).padStart(11)} · score ${score?.score ?? "?"} (${score?.reportingState ?? "?"}) · restricted: ${r?.restrictedFeatures.map((f) => credit.Feature[f]).join("/") || "none"} · inbox ${inbox?.unreadCount ?? "?"} unread`,
    );
  }
  const file = await clients.creditReporting.generateBureauFile({ asOfDate: asOf, requestedBy: "demo" });
  print(`\n  Metro 2 bureau file as of ${asOf}: ${file.recordCount} base segments (${file.withheldCount} withheld: notice pending, or a name in Chinese characters Metro 2 cannot carry), ${file.content.length} bytes, sha256 ${file.sha256.slice(0, 16)}…`);
  const pboc = await clients.creditReporting.generateBureauFile({ asOfDate: asOf, format: "PBOC", requestedBy: "demo" });
  print(`  PBOC personal credit report as of ${asOf}: ${pboc.recordCount} account records (${pboc.withheldCount} withheld), sha256 ${pboc.sha256.slice(0, 16)}…`);
  const stats = await clients.billing.getPortfolioStats({ asOfDate: asOf });
  print(`  Portfolio: ${stats.activeAccounts} active, outstanding ${formatCny(stats.outstandingFen)}, delinquency ${(stats.delinquencyRate * 100).toFixed(1)}%, charge-off ${(stats.chargeOffRate * 100).toFixed(1)}%, cure rate ${(stats.cureRate * 100).toFixed(1)}%`);
  print(`  By bucket: ${stats.buckets.filter((b) => b.accounts > 0n).map((b) => `${billing.DelinquencyBucket[b.bucket]} ${b.accounts}`).join(" · ")}`);
  const inflow = stats.expectedInflows.slice(0, 3).map((i) => `${i.date} ${formatCny(i.amountFen)}`).join(" · ");
  if (inflow) print(`  Expected inflows: ${inflow}`);
  const cs = await clients.collections.getCollectionsStats({});
  print(`  Collections: ${cs.openCases} open cases, collected ${formatCny(cs.collectedFen)}; ${cs.strategies.map((x) => `${x.strategyId}: cure ${(x.cureRate * 100).toFixed(0)}% of ${x.cases}`).join(" · ")}`);
}
