/**
 * Product configuration of the score engine and of bureau reporting. Every
 * number here is a *default* (domain.md, "Credit reporting"), not a constant:
 * the service reads overrides from its environment.
 */
import type { Fen } from "@whiteslip/core";

/** One DPD threshold and the points lost when an account first crosses it in a delinquency. */
export interface ThresholdDrop {
  /** Days past due at which the drop applies. */
  readonly dpd: number;
  /** Points lost (positive number). */
  readonly points: number;
}

/** An overdue amount from which drops are deepened by `extraPercent`. */
export interface AmountTier {
  /** Overdue amount (fen) from which this tier applies. */
  readonly minFen: Fen;
  /** Extra drop in percent of the threshold drop, e.g. 50 = 1.5× the drop. */
  readonly extraPercent: number;
  /** Reason code for the extra drop. */
  readonly code: string;
}

/** How the internal score moves. */
export interface ScorePolicy {
  /** Score of a new account. */
  readonly initial: number;
  /** Lowest score. */
  readonly min: number;
  /** Highest score. */
  readonly max: number;
  /** Drops per DPD threshold (1/30/60/90/120/180), deeper for deeper delinquency. */
  readonly thresholds: readonly ThresholdDrop[];
  /** Amount tiers, largest first; the first tier the overdue amount reaches applies. */
  readonly amountTiers: readonly AmountTier[];
  /** Points for a payment made on time while current. */
  readonly onTimeGain: number;
  /** Points for curing a delinquency. */
  readonly cureGain: number;
  /** Points lost at charge-off (deepened by the amount tier too). */
  readonly chargeOffDrop: number;
  /** Most points gained in one calendar month while in good standing. */
  readonly monthlyGainCap: number;
  /** Most points gained in one calendar month during recovery after a cure (slow recovery). */
  readonly recoveryMonthlyGainCap: number;
  /** Months after a cure during which the recovery cap applies. */
  readonly recoveryMonths: number;
}

/** Default score policy on the 350–950 scale. */
export const DEFAULT_SCORE_POLICY: ScorePolicy = {
  initial: 650,
  min: 350,
  max: 950,
  thresholds: [
    { dpd: 1, points: 15 },
    { dpd: 30, points: 40 },
    { dpd: 60, points: 50 },
    { dpd: 90, points: 60 },
    { dpd: 120, points: 60 },
    { dpd: 180, points: 70 },
  ],
  amountTiers: [
    { minFen: 1_000_000n, extraPercent: 50, code: "OVERDUE_AMOUNT_OVER_10000_CNY" },
    { minFen: 100_000n, extraPercent: 25, code: "OVERDUE_AMOUNT_OVER_1000_CNY" },
  ],
  onTimeGain: 5,
  cureGain: 5,
  chargeOffDrop: 100,
  monthlyGainCap: 10,
  recoveryMonthlyGainCap: 5,
  recoveryMonths: 6,
};

/** Bureau reporting rules. */
export interface ReportingPolicy {
  /** DPD at which a negative record exists and the pre-report notice is sent (delinquent only from 30 DPD). */
  readonly noticeAtDpd: number;
  /** Days after the notice was delivered before the negative record may be reported (*default* 7). */
  readonly waitingDays: number;
  /** Years after the delinquency ended when negative information is purged (*default* 5). */
  readonly purgeAfterYears: number;
  /** Days after a corrected dispute's resolution during which XH is reported. */
  readonly resolvedDisputeReportDays: number;
  /** Bureau named on the notice. */
  readonly bureau: string;
}

/** Default reporting policy. */
export const DEFAULT_REPORTING_POLICY: ReportingPolicy = {
  noticeAtDpd: 30,
  waitingDays: 7,
  purgeAfterYears: 5,
  resolvedDisputeReportDays: 31,
  bureau: "METRO2",
};
