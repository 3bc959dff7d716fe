import type { Clock } from "@whiteslip/core";
import type { GroupCommitOptions } from "./authorize-purchase";
import type { CreditPolicy } from "../domain/policy";
import type { ScorecardModel } from "../domain/scorecard";
import type { ApplicationRepository, AuthorizationRepository, CreditLineRepository, CustomerRepository, PiiProtector, ReservationIntentRepository } from "./ports";

/** Everything the use cases need, wired once in main.ts (or a test). */
export interface CreditDeps {
  readonly clock: Clock;
  readonly timeZone: string;
  readonly policy: CreditPolicy;
  readonly model: ScorecardModel;
  readonly customers: CustomerRepository;
  readonly applications: ApplicationRepository;
  readonly lines: CreditLineRepository;
  readonly authorizations: AuthorizationRepository;
  /** Reservation intents of AuthorizePurchase's group commits (the sweep of reservations without a record). */
  readonly intents: ReservationIntentRepository;
  /** How AuthorizePurchase groups its commits (defaults: see authorize-purchase.ts). */
  readonly groupCommit?: GroupCommitOptions;
  readonly pii: PiiProtector;
}
