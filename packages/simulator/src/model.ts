/**
 * The behaviour model (README "Behaviour model"): how a synthetic debtor pays, answers and keeps promises. Every
 * parameter lives in `DEFAULT_MODEL`, every draw comes from a seeded PRNG (`Rng`), one stream per account, so a run is
 * a function of (seed, accounts, days, strategies) and an account's draws do not depend on the other accounts.
 */
import type { RiskTier } from "../../../services/collections/src/domain/types";

/** Tiers simulated (collections' tiers without the unknown ""). */
export type Tier = Exclude<RiskTier, "">;
export const TIERS: readonly Tier[] = ["A", "B", "C", "D", "E"];

/** Channels that can reach a debtor in the simulation. */
export type SimChannel = "SMS" | "EMAIL" | "IN_APP" | "PUSH" | "VOICE" | "CALL" | "LETTER" | "LEGAL_NOTICE" | "AGENCY";

export interface BehaviourModel {
  /** Share of the book per tier (sums to 1). */
  tierShare: Record<Tier, number>;
  /** Credit limit per tier, fen. */
  creditLimitFen: Record<Tier, bigint>;
  /** Share of the limit drawn by the opening purchase: uniform in [min, max]. */
  utilisation: [number, number];
  /** Probability of a further purchase on any day (amount: 5–25% of the limit, capped by what is left). */
  purchasePerDay: number;
  /** Probability the statement is paid in full by its due date, per tier. */
  payOnTime: Record<Tier, number>;
  /** Added to payOnTime when a DueSoon reminder reached the customer. */
  reminderLift: number;
  /** Daily probability of self-cure (paying the overdue amount unprompted) at DPD 1, per tier. */
  selfCurePerDay: Record<Tier, number>;
  /** Propensities fall with DPD: multiplied by exp(−dpd / dpdDecayDays). */
  dpdDecayDays: number;
  /** Probability a delivered message makes the debtor pay the overdue amount that day (before DPD decay and hour). */
  messageResponse: Record<"SMS" | "EMAIL" | "IN_APP" | "PUSH" | "VOICE" | "LETTER" | "LEGAL_NOTICE", number>;
  /** Probability a call attempt reaches the debtor (right-party contact), per tier, before the hour factor. */
  rightPartyContact: Record<Tier, number>;
  /** On a right-party contact: probability of a promise to pay; otherwise of paying at once. */
  promiseOnContact: number;
  payOnContact: number;
  /** Days until the promised date: uniform 1..maxPromiseDays. */
  maxPromiseDays: number;
  /** Probability a promise is kept, per tier. */
  promiseKept: Record<Tier, number>;
  /** Response factor by local hour of contact (0–23); 0 where no one answers. */
  hourFactor: number[];
  /** Share of customers whose engagement peaks in the evening (notification's best hour = 19:00); others have none. */
  eveningEngagers: number;
  /** Multiplier on self-cure while an external agency works the account. */
  agencyLift: number;
}

const hours = Array.from({ length: 24 }, (_, h) =>
  h < 8 ? 0.2 : h < 12 ? 0.9 : h < 14 ? 0.7 : h < 18 ? 0.85 : h < 21 ? 1.25 : h < 22 ? 1 : 0.2,
);

/** The documented default model (README lists the same numbers). */
export const DEFAULT_MODEL: BehaviourModel = {
  tierShare: { A: 0.2, B: 0.25, C: 0.25, D: 0.18, E: 0.12 },
  creditLimitFen: { A: 3_000_000n, B: 2_000_000n, C: 1_200_000n, D: 800_000n, E: 500_000n },
  utilisation: [0.3, 0.9],
  purchasePerDay: 0.02,
  payOnTime: { A: 0.97, B: 0.93, C: 0.86, D: 0.76, E: 0.62 },
  reminderLift: 0.02,
  selfCurePerDay: { A: 0.06, B: 0.045, C: 0.03, D: 0.018, E: 0.01 },
  dpdDecayDays: 45,
  messageResponse: { SMS: 0.03, EMAIL: 0.012, IN_APP: 0.01, PUSH: 0.012, VOICE: 0.03, LETTER: 0.02, LEGAL_NOTICE: 0.06 },
  rightPartyContact: { A: 0.6, B: 0.55, C: 0.45, D: 0.38, E: 0.3 },
  promiseOnContact: 0.55,
  payOnContact: 0.1,
  maxPromiseDays: 5,
  promiseKept: { A: 0.9, B: 0.82, C: 0.7, D: 0.56, E: 0.42 },
  hourFactor: hours,
  eveningEngagers: 0.5,
  agencyLift: 1.5,
};

/**
 * mulberry32: a 32-bit PRNG small enough to read (Tommy Ettinger's constants); not cryptographic, only reproducible.
 * Each account gets its own stream, seeded by splitmix32(seed ⊕ account index).
 */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** Integer uniform in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  /** A key of `weights` drawn by weight. */
  pick<K extends string>(weights: Record<K, number>): K {
    const keys = Object.keys(weights) as K[];
    let u = this.next() * keys.reduce((s, k) => s + weights[k], 0);
    for (const k of keys) {
      u -= weights[k];
      if (u < 0) return k;
    }
    return keys[keys.length - 1] as K;
  }
}

/** splitmix32 of `x`: spreads neighbouring seeds apart. */
export function mixSeed(x: number): number {
  let z = (x + 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** Propensity decay with days past due. */
export function dpdDecay(m: BehaviourModel, dpd: number): number {
  return Math.exp(-Math.max(dpd, 0) / m.dpdDecayDays);
}
