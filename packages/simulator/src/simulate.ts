/**
 * The simulation loop: each business day every account (1) meets the contacts decided from yesterday's end-of-day —
 * notification's cadence and caps and send-time choice for digital messages, collections' strategy rule (and its
 * treatment path) for the case, the CN contact rules for calls — and answers them under the behaviour model; (2) runs
 * billing's end-of-day for the day; (3) its case is opened, cured or rolled from the result. All rules are the
 * services' own pure domain functions (imported below, nothing re-implemented); only the debtor is simulated.
 */
import { addDays, BUSINESS_TIME_ZONE, type Fen, type LocalDate, zonedInstant } from "@whiteslip/core";
import type { Account } from "../../../services/billing/src/domain/account";
import { balancesOf, minimumToPay, newAccount, partsTotal } from "../../../services/billing/src/domain/account";
import { endOfDayForAccount } from "../../../services/billing/src/domain/end-of-day";
import { postPurchase, postRepayment } from "../../../services/billing/src/domain/ledger";
import { defaultProduct, type ProductConfig } from "../../../services/billing/src/domain/product";
import { checkContact } from "../../../services/collections/src/domain/compliance";
import collectionsCosts from "../../../services/collections/config/contact-costs.json" with { type: "json" };
import { parseContactCosts } from "../../../services/collections/src/domain/contact-costs";
import {
  assignStrategy,
  matchRule,
  type Segment,
  type Strategy,
  type StrategySet,
  selectTreatment,
  treatmentRank,
} from "../../../services/collections/src/domain/strategy";
import { isDigitalStep, type PathStep, ruleRef } from "../../../services/collections/src/domain/treatment-path";
import type { ContactAttempt } from "../../../services/collections/src/domain/types";
import { type CadenceRule, DEFAULT_CADENCE_POLICY, selectChannels } from "../../../services/notification/src/domain/cadence-policy";
import { capDecision, DEFAULT_CAPS } from "../../../services/notification/src/domain/delivery-rules";
import type { Category, Channel, Fact } from "../../../services/notification/src/domain/model";
import { chooseSendTime } from "../../../services/notification/src/domain/schedule";
import { type BehaviourModel, DEFAULT_MODEL, dpdDecay, mixSeed, Rng, type SimChannel, type Tier } from "./model";

/** Contact costs (config/default.json; a strategies file may override them under `costs`). */
export interface CostConfig {
  costPerChannelFen: Record<SimChannel, Fen>;
  /** Agency commission on what is collected while an agency works the case, ppm. */
  agencyCommissionPpm: number;
  /** Call attempts an agent makes per case per day (the CN rule refuses the 7th unanswered one). */
  maxCallAttemptsPerDay: number;
}

export interface SimConfig {
  accounts: number;
  days: number;
  seed: number;
  strategies: StrategySet;
  costs: CostConfig;
  model?: BehaviourModel;
  product?: ProductConfig;
  cadence?: readonly CadenceRule[];
  /** First business date (default 2026-01-01). */
  startDate?: LocalDate;
}

/** Outcomes of one arm. */
export interface ArmResult {
  strategyId: string;
  accounts: number;
  /** Delinquency episodes (DPD ≥ 1) opened. */
  cases: number;
  /** Episodes back to DPD 0 within the run. */
  cured: number;
  /** Cases opened at least 31 days before the end (they had time to reach M2), and those that did. */
  rollEligible: number;
  rolled: number;
  collectedFen: Fen;
  costFen: Fen;
  contacts: number;
  heldByCap: number;
  refusedByRule: Record<string, number>;
  promises: number;
  promisesKept: number;
  /** Per day: share of the arm's accounts in M1, M2, M3, M4+ (M4..M6 and charged off). */
  series: { date: LocalDate; m1: number; m2: number; m3: number; m4plus: number }[];
}

interface CaseState {
  openedDay: number;
  rolled: boolean;
  /** Path steps done or skipped, by step key. */
  steps: Set<string>;
  /** DPD at which the rule in force started (steps before it are skipped, as syncPath does). */
  pathRule: string;
  pathStartDpd: number;
  attempts: ContactAttempt[];
  legalNotice: boolean;
  agency: boolean;
  promise?: { day: number; keep: boolean };
}

interface Sim {
  acc: Account;
  tier: Tier;
  rng: Rng;
  strategy: Strategy;
  bestHour: number | null;
  reminded: boolean;
  case?: CaseState;
  /** Capped messages sent per day index (for notification's caps). */
  capped: Map<number, number>;
  /** Facts from last night's end-of-day. */
  dueSoon: boolean;
}

const TZ = BUSINESS_TIME_ZONE;
const HOUR_MS = 3_600_000;
const instants = new Map<string, Date>();
/** zonedInstant memoised (the same few instants are asked for every day; Intl is slow). */
function at(date: LocalDate, hour: number, minute: number): Date {
  const k = `${date}T${hour}:${minute}`;
  let d = instants.get(k);
  if (!d) instants.set(k, (d = zonedInstant(date, hour, minute, TZ)));
  return d;
}
const sendTimes = new Map<string, Date>();

/** Local hour of an instant in Asia/Shanghai (UTC+8, no daylight saving). */
function localHour(at: Date): number {
  return Math.floor(at.getTime() / HOUR_MS + 8) % 24;
}

/** Reads a costs object with fen as strings or numbers. */
export function parseCosts(raw: {
  costPerChannelFen?: Record<string, string | number>;
  agencyCommissionPpm: number;
  maxCallAttemptsPerDay: number;
}): CostConfig {
  // contact prices: collections' configured table (what GetCollectionsStats prices with), unless a file overrides it
  const table = raw.costPerChannelFen ?? collectionsContactCosts();
  const r = parseContactCosts(table, "costs.costPerChannelFen");
  if ("violations" in r) throw new Error(`costs: ${r.violations.map((v) => `${v.field} ${v.description}`).join("; ")}`);
  return {
    costPerChannelFen: r.costs as Record<SimChannel, Fen>,
    agencyCommissionPpm: raw.agencyCommissionPpm,
    maxCallAttemptsPerDay: raw.maxCallAttemptsPerDay,
  };
}

/**
 * services/collections/config/contact-costs.json, the cost of one contact per channel collections is configured with
 * (a JSON import, so it is bundled with whoever runs the simulator, e.g. the console's what-if).
 */
export function collectionsContactCosts(): Record<string, string | number> {
  return { ...collectionsCosts };
}

function emptyArm(id: string): ArmResult {
  return {
    strategyId: id,
    accounts: 0,
    cases: 0,
    cured: 0,
    rollEligible: 0,
    rolled: 0,
    collectedFen: 0n,
    costFen: 0n,
    contacts: 0,
    heldByCap: 0,
    refusedByRule: {},
    promises: 0,
    promisesKept: 0,
    series: [],
  };
}

/** Runs the simulation; returns one result per arm, champion first. */
export function simulate(cfg: SimConfig): ArmResult[] {
  const model = cfg.model ?? DEFAULT_MODEL;
  const p = cfg.product ?? defaultProduct;
  const cadence = cfg.cadence ?? DEFAULT_CADENCE_POLICY;
  const start = cfg.startDate ?? "2026-01-01";
  const costOf = (ch: SimChannel): Fen => cfg.costs.costPerChannelFen[ch] ?? 0n;
  const arms = new Map<string, ArmResult>();
  for (const s of [cfg.strategies.champion, ...cfg.strategies.challengers]) arms.set(s.id, emptyArm(s.id));

  const book: Sim[] = [];
  for (let i = 0; i < cfg.accounts; i++) {
    const rng = new Rng(mixSeed((cfg.seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0));
    const tier = rng.pick(model.tierShare);
    const id = `sim-${cfg.seed}-${i}`;
    const limit = model.creditLimitFen[tier];
    let acc = newAccount({ id, customerId: `cust-${i}`, productCode: p.code, statementDay: rng.int(1, 28), creditLimit: limit, businessDate: start });
    const [lo, hi] = model.utilisation;
    const amount = (limit * BigInt(Math.round((lo + rng.next() * (hi - lo)) * 1000))) / 1000n;
    acc = postPurchase(acc, { purchaseId: `${id}-p0`, authorizationId: `${id}-a0`, amount, installmentMonths: 0 }, start, p).account;
    const strategy = assignStrategy(id, cfg.strategies);
    const arm = arms.get(strategy.id)!;
    arm.accounts++;
    book.push({ acc, tier, rng, strategy, bestHour: rng.chance(model.eveningEngagers) ? 19 : null, reminded: false, capped: new Map(), dueSoon: false });
  }

  for (let day = 0; day < cfg.days; day++) {
    const date = addDays(start, day);
    const counts = new Map<string, { m1: number; m2: number; m3: number; m4plus: number }>();
    for (const s of arms.keys()) counts.set(s, { m1: 0, m2: 0, m3: 0, m4plus: 0 });
    for (const sim of book) {
      const arm = arms.get(sim.strategy.id)!;
      if (sim.acc.status === "ACTIVE") {
        live(sim, day, date);
        const eod = endOfDayForAccount(sim.acc, date, p);
        sim.acc = eod.account;
        sim.dueSoon = eod.events.some((e) => e.type === "DueSoon");
        track(sim, arm, day);
      }
      const b = sim.acc.bucket;
      const c = counts.get(sim.strategy.id)!;
      if (b === "M1") c.m1++;
      else if (b === "M2") c.m2++;
      else if (b === "M3") c.m3++;
      else if (b !== "M0") c.m4plus++;
    }
    for (const [id, c] of counts) {
      const n = Math.max(arms.get(id)!.accounts, 1);
      arms.get(id)!.series.push({ date, m1: c.m1 / n, m2: c.m2 / n, m3: c.m3 / n, m4plus: c.m4plus / n });
    }
  }
  for (const sim of book) if (sim.case) closeCase(sim, arms.get(sim.strategy.id)!, cfg.days, false);
  return [...arms.values()];

  /** One customer's day before end-of-day: purchases, paying on time, contacts and their answers. */
  function live(sim: Sim, day: number, date: LocalDate): void {
    const { rng } = sim;
    if (rng.chance(model.purchasePerDay) && sim.acc.dpd === 0) {
      const room = sim.acc.creditLimit - balancesOf(sim.acc, date, p).total;
      const want = (sim.acc.creditLimit * BigInt(rng.int(5, 25))) / 100n;
      const amount = want < room ? want : room;
      if (amount > 0n) {
        const k = sim.acc.purchases.length;
        sim.acc = postPurchase(sim.acc, { purchaseId: `${sim.acc.id}-p${k}`, authorizationId: `${sim.acc.id}-a${k}`, amount, installmentMonths: 0 }, date, p).account;
      }
    }
    if (sim.dueSoon) {
      sim.dueSoon = false;
      const fact = factOf(sim, "DUE_SOON", date);
      for (const sel of selectChannels(cadence, fact)) if (notify(sim, day, date, sel.channel, sel.rule.category, sel.rule.useBestHour, undefined)) sim.reminded = true;
    }
    // The statement falling due today: paid in full (or not) under payOnTime.
    if (sim.acc.dpd === 0) {
      const due = sim.acc.dues.find((d) => d.dueDate === date && d.settledDate === undefined && partsTotal(d.unpaid) > 0n);
      if (due) {
        const pOn = model.payOnTime[sim.tier] + (sim.reminded ? model.reminderLift : 0);
        sim.reminded = false;
        if (rng.chance(pOn)) pay(sim, day, date, partsTotal(due.unpaid), false);
      }
      return;
    }
    const cs = sim.case;
    if (!cs) return;
    const arm = arms.get(sim.strategy.id)!;
    const dpd = sim.acc.dpd;
    const decay = dpdDecay(model, dpd);
    let willPay = false;
    // Promise falling due today.
    if (cs.promise && cs.promise.day === day) {
      if (cs.promise.keep) {
        willPay = true;
        arm.promisesKept++;
      }
      cs.promise = undefined;
    }
    const seg: Segment = { bucket: sim.acc.bucket, tier: sim.tier, totalBalanceFen: balancesOf(sim.acc, date, p).total, dpd, escalationLevel: 0 };
    const idx = matchRule(sim.strategy, seg);
    const rule = sim.strategy.rules[idx];
    const treatment = selectTreatment(sim.strategy, seg);
    const onContact = (answer: boolean) => {
      if (answer) willPay = true;
    };
    if (rule?.path && rule.path.length > 0) {
      const ref = ruleRef(sim.strategy.id, idx);
      if (cs.pathRule !== ref) {
        cs.pathRule = ref;
        cs.pathStartDpd = dpd;
      }
      // Steps whose DPD has come, not yet run; only the latest per channel runs (path-run.ts dueSteps).
      const latest = new Map<string, PathStep>();
      for (const s of rule.path) {
        const key = `${ref}|${s.dpd}|${s.channel}`;
        if (cs.steps.has(key) || s.dpd > dpd) continue;
        cs.steps.add(key);
        if (s.dpd < cs.pathStartDpd) continue;
        const prev = latest.get(s.channel);
        if (!prev || prev.dpd < s.dpd) latest.set(s.channel, s);
      }
      for (const s of latest.values()) {
        if (isDigitalStep(s.channel)) onContact(notify(sim, day, date, s.channel as Channel, "COLLECTION", true, decay));
        else if (s.channel === "CALL") onContact(call(sim, day, date, decay));
        else if (s.channel === "LETTER") onContact(offline(sim, "LETTER", decay));
        else if (s.channel === "LEGAL_NOTICE") {
          // the legal-notice gate: only once the treatment is legal notice or beyond
          if (treatmentRank(treatment) >= treatmentRank("LEGAL_NOTICE") && !cs.legalNotice) {
            cs.legalNotice = true;
            onContact(offline(sim, "LEGAL_NOTICE", decay));
          } else arm.refusedByRule.LEGAL_NOTICE_GATE = (arm.refusedByRule.LEGAL_NOTICE_GATE ?? 0) + 1;
        } else if (s.channel === "AGENCY") cs.agency = true;
      }
    } else {
      // No path: notification's own Overdue cadence for the day's DPD, and the treatment's queue work.
      const fact = factOf(sim, "OVERDUE", date);
      for (const sel of selectChannels(cadence, fact)) onContact(notify(sim, day, date, sel.channel, sel.rule.category, sel.rule.useBestHour, decay));
      const rank = treatmentRank(treatment);
      if (rank >= treatmentRank("AGENT_CALLS") && rank < treatmentRank("EXTERNAL_AGENCY")) onContact(call(sim, day, date, decay));
      if (rank >= treatmentRank("LEGAL_NOTICE") && !cs.legalNotice) {
        cs.legalNotice = true;
        onContact(offline(sim, "LEGAL_NOTICE", decay));
      }
      if (treatment === "EXTERNAL_AGENCY") cs.agency = true;
    }
    if (!willPay && rng.chance(model.selfCurePerDay[sim.tier] * decay * (cs.agency ? model.agencyLift : 1))) willPay = true;
    if (willPay) pay(sim, day, date, minimumToPay(sim.acc, date, p), true);
  }

  function factOf(sim: Sim, trigger: "DUE_SOON" | "OVERDUE", date: LocalDate): Fact {
    const occurredAt = at(date, 0, 30);
    return {
      eventId: `${sim.acc.id}:${trigger}:${date}`,
      factId: `${sim.acc.id}:${trigger}:${date}`,
      factType: trigger,
      trigger,
      customerId: sim.acc.customerId,
      accountId: sim.acc.id,
      dpd: trigger === "OVERDUE" ? sim.acc.dpd : undefined,
      bucket: trigger === "OVERDUE" ? sim.acc.bucket : undefined,
      occurredAt,
      vars: {},
    };
  }

  /**
   * A digital message through notification's rules: the cap (held messages are dropped in the simulation), the send
   * time (quiet hours, best hour), then the debtor's answer. Returns whether the debtor pays because of it.
   */
  function notify(sim: Sim, day: number, date: LocalDate, channel: Channel, category: Category, useBestHour: boolean | undefined, decay: number | undefined): boolean {
    const arm = arms.get(sim.strategy.id)!;
    const today = sim.capped.get(day) ?? 0;
    let week = 0;
    for (let d = day - 6; d <= day; d++) week += sim.capped.get(d) ?? 0;
    if (capDecision(category, channel, { today, week }).hold) {
      arm.heldByCap++;
      return false;
    }
    if (DEFAULT_CAPS.counted.includes(category) && !DEFAULT_CAPS.exemptChannels.includes(channel)) sim.capped.set(day, today + 1);
    sim.capped.delete(day - 7);
    const best = { hour: sim.bestHour, engagements: sim.bestHour === null ? 0 : 5, explanation: "simulated engagement" };
    const use = useBestHour ?? (category === "REMINDER" || category === "COLLECTION");
    // notification's send-time choice, memoised on its inputs (pure): the fact arrives at 00:30 after end-of-day
    const key = `${date}|${sim.bestHour}|${use}`;
    let sendAt = sendTimes.get(key);
    if (!sendAt) sendTimes.set(key, (sendAt = chooseSendTime({ now: at(date, 0, 30), timeZone: TZ, best, useBestHour: use }).at));
    if (sim.case) {
      arm.contacts++;
      arm.costFen += costOf(channel);
    }
    if (decay === undefined) return true; // a reminder: its effect is the on-time lift
    const r = model.messageResponse[channel as keyof BehaviourModel["messageResponse"]] ?? 0;
    return sim.rng.chance(r * decay * (model.hourFactor[localHour(sendAt)] ?? 0));
  }

  /** Letters and legal notices: no hour, a flat response. */
  function offline(sim: Sim, ch: "LETTER" | "LEGAL_NOTICE", decay: number): boolean {
    const arm = arms.get(sim.strategy.id)!;
    arm.contacts++;
    arm.costFen += costOf(ch);
    return sim.rng.chance(model.messageResponse[ch] * decay);
  }

  /** An agent's call attempts for the day under the CN contact rules; a right-party contact may end in a promise. */
  function call(sim: Sim, day: number, date: LocalDate, decay: number): boolean {
    const arm = arms.get(sim.strategy.id)!;
    const cs = sim.case!;
    if (cs.promise) return false; // a pending promise is not chased
    for (let k = 0; k < cfg.costs.maxCallAttemptsPerDay; k++) {
      const hour = sim.rng.int(9, 20);
      const now = at(date, hour, sim.rng.int(0, 59));
      const refusal = checkContact({ now, timeZone: TZ, jurisdiction: "CN", channel: "CALL", contactParty: "debtor", consentOutsideHours: false, priorAttempts: cs.attempts });
      if (refusal) {
        arm.refusedByRule[refusal.rule] = (arm.refusedByRule[refusal.rule] ?? 0) + 1;
        return false;
      }
      arm.contacts++;
      arm.costFen += costOf("CALL");
      const reached = sim.rng.chance(model.rightPartyContact[sim.tier] * (model.hourFactor[hour] ?? 0));
      cs.attempts.push(attempt(sim, cs.attempts.length, now, reached ? "RIGHT_PARTY" : "NO_ANSWER"));
      if (cs.attempts.length > 20) cs.attempts.shift();
      if (!reached) continue;
      if (sim.rng.chance(model.promiseOnContact)) {
        arm.promises++;
        cs.promise = { day: day + sim.rng.int(1, model.maxPromiseDays), keep: sim.rng.chance(model.promiseKept[sim.tier]) };
        return false;
      }
      return sim.rng.chance(model.payOnContact * decay);
    }
    return false;
  }

  function pay(sim: Sim, _day: number, date: LocalDate, amount: Fen, inCase: boolean): void {
    if (amount <= 0n) return;
    const k = sim.acc.processedKeys.length + sim.acc.purchases.length + sim.acc.dues.length;
    sim.acc = postRepayment(sim.acc, { paymentId: `${sim.acc.id}-pay-${date}-${k}`, amount, channel: "app" }, date, p, at(date, 12, 0)).account;
    if (!inCase || !sim.case) return;
    const arm = arms.get(sim.strategy.id)!;
    arm.collectedFen += amount;
    if (sim.case.agency) arm.costFen += (amount * BigInt(cfg.costs.agencyCommissionPpm)) / 1_000_000n;
  }

  /** After end-of-day: a case opens at DPD 1, is cured at DPD 0, rolls when it reaches M2. */
  function track(sim: Sim, arm: ArmResult, day: number): void {
    const dpd = sim.acc.dpd;
    if (!sim.case && dpd >= 1 && sim.acc.status === "ACTIVE") {
      arm.cases++;
      sim.case = { openedDay: day, rolled: false, steps: new Set(), pathRule: "", pathStartDpd: 0, attempts: [], legalNotice: false, agency: false };
      return;
    }
    if (!sim.case) return;
    if (dpd >= 31) sim.case.rolled = true;
    if (dpd === 0 && sim.acc.status === "ACTIVE") closeCase(sim, arm, day, true);
  }

  function closeCase(sim: Sim, arm: ArmResult, _day: number, cured: boolean): void {
    const cs = sim.case!;
    if (cured) arm.cured++;
    if (cs.openedDay <= cfg.days - 31) {
      arm.rollEligible++;
      if (cs.rolled) arm.rolled++;
    }
    sim.case = undefined;
  }
}

function attempt(sim: Sim, n: number, at: Date, outcome: ContactAttempt["outcome"]): ContactAttempt {
  return {
    attemptId: `${sim.acc.id}-att-${n}-${at.getTime()}`,
    agentId: "sim-agent",
    channel: "CALL",
    outcome,
    reason: "UNSPECIFIED",
    occurredAt: at,
    note: "",
    contactParty: "debtor",
    consentOutsideHours: false,
    refused: false,
    refusedRule: "",
    suggestedSolution: "",
  };
}
