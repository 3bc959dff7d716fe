/** In-memory fakes of the ports, for unit tests of use cases only (integration tests use Mongo and gRPC). */
import { readFileSync } from "node:fs";
import { create } from "@bufbuild/protobuf";
import { billing } from "@whiteslip/contracts";
import { type Fen, ManualClock, minFen } from "@whiteslip/core";
import type {
  Agent,
  BillingPort,
  CaseFilter,
  CasePage,
  CaseRepository,
  CollectionsPolicy,
  Deps,
  StrategyChange,
  StrategyChangeNote,
  StrategyTableRepository,
  StrategyTableVersion,
} from "../src/app/ports";
import { isActive } from "../src/domain/case";
import { type ContactCosts, parseContactCosts } from "../src/domain/contact-costs";
import { DEFAULT_STRATEGIES, type StrategySet } from "../src/domain/strategy";
import type { CaseChange, CaseEvent, CollectionCase, RiskTier } from "../src/domain/types";

/** Case repository in memory, with the outbox as a list. */
export class MemoryCases implements CaseRepository {
  readonly docs = new Map<string, CollectionCase>();
  readonly outbox: CaseEvent[] = [];
  async get(id: string) {
    return this.docs.get(id) ?? null;
  }
  async findActiveByAccount(accountId: string) {
    return [...this.docs.values()].find((c) => c.accountId === accountId && isActive(c.status)) ?? null;
  }
  async findCuredSince(accountId: string, since: Date) {
    const cured = [...this.docs.values()].filter(
      (c) =>
        c.accountId === accountId &&
        c.status === "CLOSED_CURED" &&
        c.closedAt !== null &&
        c.closedAt >= since,
    );
    return cured.sort((a, b) => (b.closedAt?.getTime() ?? 0) - (a.closedAt?.getTime() ?? 0))[0] ?? null;
  }
  async insert(ch: CaseChange) {
    if (this.docs.has(ch.case.caseId)) return "duplicate" as const;
    this.docs.set(ch.case.caseId, { ...ch.case, version: 1 });
    this.outbox.push(...ch.events);
    return "inserted" as const;
  }
  async save(ch: CaseChange, v: number) {
    const cur = this.docs.get(ch.case.caseId);
    if (!cur || cur.version !== v) return "conflict" as const;
    this.docs.set(ch.case.caseId, { ...ch.case, audit: [...cur.audit, ...ch.audit], version: v + 1 });
    this.outbox.push(...ch.events);
    return "saved" as const;
  }
  async list(f: CaseFilter, size: number, token: string): Promise<CasePage> {
    const all = [...this.docs.values()]
      .filter(
        (c) =>
          (!f.agentId || c.agentId === f.agentId) &&
          (!f.statuses?.length || f.statuses.includes(c.status)) &&
          (!f.bucket || c.bucket === f.bucket) &&
          (!f.queue || c.queue === f.queue) &&
          (!f.accountId || c.accountId === f.accountId),
      )
      .sort((a, b) => b.priority - a.priority || (a.caseId < b.caseId ? -1 : 1));
    const start = Number(token || 0);
    const page = all.slice(start, start + size);
    return { cases: page, next: start + size < all.length ? String(start + size) : "" };
  }
  async withPromisesDueBefore(asOf: string) {
    return [...this.docs.values()]
      .filter(
        (c) => isActive(c.status) && c.promises.some((p) => p.status === "PENDING" && p.promisedDate < asOf),
      )
      .map((c) => c.caseId);
  }
  async activeCountsByAgent() {
    const m = new Map<string, number>();
    for (const c of this.docs.values())
      if (c.agentId && isActive(c.status)) m.set(c.agentId, (m.get(c.agentId) ?? 0) + 1);
    return m;
  }
  async forStats() {
    return [...this.docs.values()];
  }
  async attemptsOfCustomer(customerId: string, exceptCaseId: string) {
    return [...this.docs.values()].filter((c) => c.customerId === customerId && c.caseId !== exceptCaseId).flatMap((c) => c.attempts);
  }
}

/** A billing fake that records calls. */
export class FakeBilling implements BillingPort {
  readonly plans: { accountId: string; installmentCount: number; idempotencyKey: string }[] = [];
  readonly waivers: { accountId: string; maxAmountFen: Fen; idempotencyKey: string }[] = [];
  feesAvailableFen = 10_000n;
  async createRepaymentPlan(r: {
    accountId: string;
    installmentCount: number;
    requestedBy: string;
    idempotencyKey: string;
  }) {
    this.plans.push(r);
    return create(billing.RepaymentPlanSchema, {
      planId: `plan-${r.idempotencyKey}`,
      accountId: r.accountId,
      installmentCount: r.installmentCount,
      totalFen: 120_000n,
      active: true,
    });
  }
  async waiveFees(r: { accountId: string; maxAmountFen: Fen; idempotencyKey: string }) {
    this.waivers.push(r);
    return minFen(r.maxAmountFen, this.feesAvailableFen);
  }
  readonly deferrals: { accountId: string; days: number; idempotencyKey: string }[] = [];
  async deferPayment(r: { accountId: string; days: number; reason: string; requestedBy: string; idempotencyKey: string }) {
    if (!this.deferrals.some((d) => d.idempotencyKey === r.idempotencyKey)) this.deferrals.push(r);
    return { deferralId: `df-${r.idempotencyKey}`, dueDate: "2026-04-09", deferredFen: 120_000n };
  }
  async getAccountSummary(accountId: string) {
    return create(billing.AccountSummarySchema, { accountId, totalBalanceFen: 100_000n });
  }
  /** This fake's product terms; tests change them to show collections checks billing's, not its own. */
  terms = { installmentTerms: [3, 6, 12, 24] as readonly number[], maxDeferralDays: 30 };
  async getProductTerms(_accountId: string) {
    return this.terms;
  }
}

/** Default policy: CN / Asia/Shanghai, US for product `US_BNPL` (America/New_York). */
export const testPolicy: CollectionsPolicy = {
  strategies: DEFAULT_STRATEGIES,
  localeFor: (p) =>
    p === "US_BNPL"
      ? { jurisdiction: "US", timeZone: "America/New_York" }
      : { jurisdiction: "CN", timeZone: "Asia/Shanghai" },
  creditor: "Whiteslip Consumer Finance Co., Ltd.",
  waiverMaxPerCaseFen: 50_000n,
  businessTimeZone: "Asia/Shanghai",
  contactCostFen: configuredContactCosts(),
};

/** The contact cost table of services/collections/config/contact-costs.json (what the service loads by default). */
export function configuredContactCosts(): ContactCosts {
  const r = parseContactCosts(JSON.parse(readFileSync(new URL("../config/contact-costs.json", import.meta.url), "utf8")));
  if ("violations" in r) throw new Error(JSON.stringify(r.violations));
  return r.costs;
}

/** The strategy table in memory, version 1 = the defaults, with its audit trail. */
export class MemoryStrategyTable implements StrategyTableRepository {
  stored: StrategyTableVersion = {
    table: DEFAULT_STRATEGIES,
    version: 1,
    updatedAt: new Date(0),
    updatedBy: "seed",
  };
  history: StrategyChange[] = [
    { version: 1, previousVersion: 0, kind: "SEED", actor: "seed", reason: "", at: new Date(0), table: DEFAULT_STRATEGIES },
  ];
  async current() {
    return this.stored;
  }
  async replaceIfVersion(table: StrategySet, expectedVersion: number, note: StrategyChangeNote, now: Date) {
    if (expectedVersion !== this.stored.version) return undefined;
    this.stored = { table, version: expectedVersion + 1, updatedAt: now, updatedBy: note.actor };
    this.history.push({ ...note, version: expectedVersion + 1, previousVersion: expectedVersion, at: now, table });
    return this.stored;
  }
  async changes(beforeVersion: number, limit: number) {
    return this.history
      .filter((h) => beforeVersion === 0 || h.version < beforeVersion)
      .reverse()
      .slice(0, limit);
  }
}

/** Wires fakes into Deps. */
export function fakeDeps(start = "2026-03-02T02:00:00Z") {
  const cases = new MemoryCases();
  const agents = new Map<string, Agent>();
  const tiers = new Map<string, { tier: RiskTier; events: Set<string> }>();
  const bill = new FakeBilling();
  const clock = new ManualClock(start);
  const strategyTable = new MemoryStrategyTable();
  // as in production, case handling reads the table in force (so an update or a promotion applies to new cases)
  const policy: CollectionsPolicy = Object.defineProperty({ ...testPolicy }, "strategies", {
    get: () => strategyTable.stored.table,
    enumerable: true,
  });
  const deps: Deps = {
    cases,
    agents: {
      upsert: async (a) => void agents.set(a.agentId, a),
      get: async (id) => agents.get(id) ?? null,
      list: async () => [...agents.values()].sort((a, b) => (a.agentId < b.agentId ? -1 : 1)),
    },
    tiers: {
      get: async (id) => tiers.get(id)?.tier ?? "",
      record: async (id, tier, ev) => {
        const t = tiers.get(id) ?? { tier, events: new Set<string>() };
        if (t.events.has(ev)) return "duplicate";
        t.events.add(ev);
        t.tier = tier;
        tiers.set(id, t);
        return "applied";
      },
    },
    billing: bill,
    clock,
    policy,
    strategyTable,
  };
  return { deps, cases, bill, clock, strategyTable };
}

/** An Overdue fact for `accountId` on `date` at `dpd`. */
export function overdue(
  accountId: string,
  date: string,
  dpd: number,
  opts: Partial<{ overdueFen: Fen; total: Fen; product: string; start: string }> = {},
) {
  const bucket = dpd <= 30 ? "M1" : dpd <= 60 ? "M2" : dpd <= 90 ? "M3" : dpd <= 120 ? "M4" : "M5";
  return {
    eventId: `overdue-${accountId}-${date}`,
    accountId,
    customerId: `cus-${accountId}`,
    productCode: opts.product ?? "BAITIAO",
    businessDate: date,
    dpd,
    bucket: bucket as "M1",
    overdueFen: opts.overdueFen ?? 50_000n,
    totalBalanceFen: opts.total ?? 80_000n,
    delinquencyStartDate: opts.start ?? "2026-03-01",
  };
}
