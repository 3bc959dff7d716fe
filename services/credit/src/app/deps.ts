import type { Clock } from "@whiteslip/core";
import type { CreditPolicy } from "../domain/policy";
import type { ScorecardModel } from "../domain/scorecard";
import type { ApplicationRepository, AuthorizationRepository, CreditLineRepository, CustomerRepository, PiiProtector } from "./ports";

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
  readonly pii: PiiProtector;
}
