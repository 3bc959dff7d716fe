/**
 * Facts the credit service publishes, in domain terms. The adapter maps each to
 * its protobuf message and topic `whiteslip.credit.<event-kebab>.v1`, keyed by
 * the credit line id (= billing account id).
 */
import type { Fen, LocalDate } from "@whiteslip/core";
import type { Feature } from "./policy";
import type { Tier } from "./scorecard";

/** State of a line. */
export type LineStatus = "ACTIVE" | "FROZEN" | "CLOSED";

/** Common envelope fields of an event. */
interface Base {
  /** Deterministic id of the fact (consumers deduplicate on it). */
  readonly id: string;
  /** When the fact happened. */
  readonly time: Date;
}

/** An application was approved and a line opened; billing opens the account with the same id. */
export interface CreditLineOpenedEvent extends Base {
  readonly type: "CreditLineOpened";
  readonly data: {
    readonly creditLineId: string;
    readonly customerId: string;
    readonly limitFen: Fen;
    readonly tier: Tier;
    readonly statementDay: number;
    readonly productCode: string;
    readonly modelVersion: string;
  };
}

/** The limit, status or tier of a line changed. */
export interface CreditLineChangedEvent extends Base {
  readonly type: "CreditLineChanged";
  readonly data: {
    readonly creditLineId: string;
    readonly customerId: string;
    readonly previousLimitFen: Fen;
    readonly limitFen: Fen;
    readonly status: LineStatus;
    readonly previousTier: Tier;
    readonly tier: Tier;
    readonly reason: string;
    readonly actor: string;
  };
}

/** The set of restricted features changed. */
export interface RestrictionChangedEvent extends Base {
  readonly type: "RestrictionChanged";
  readonly data: {
    readonly creditLineId: string;
    readonly customerId: string;
    readonly features: readonly Feature[];
    readonly reason: string;
    readonly businessDate: LocalDate;
  };
}

/** A high-risk account approaches a due date. */
export interface RiskFlagRaisedEvent extends Base {
  readonly type: "RiskFlagRaised";
  readonly data: {
    readonly creditLineId: string;
    readonly customerId: string;
    readonly tier: Tier;
    readonly flag: string;
    readonly dueDate: LocalDate;
    readonly amountDueFen: Fen;
  };
}

/** Any event the credit service publishes. */
export type CreditEvent = CreditLineOpenedEvent | CreditLineChangedEvent | RestrictionChangedEvent | RiskFlagRaisedEvent;
