import { dateInZone, type Fen } from "@whiteslip/core";
import { chain, recordPayment } from "../domain/credit-line";
import { rescore } from "../domain/rescoring";
import type { CreditDeps } from "./deps";
import { type MutationOutcome, mutateLine } from "./mutate-line";

/** The PaymentReceived facts credit uses. */
export interface PaymentReceivedFact {
  readonly eventId: string;
  readonly accountId: string;
  readonly amountFen: Fen;
  readonly onTime: boolean;
}

/**
 * Billing received a payment: the posted balance falls, on-time/late behaviour
 * is counted and the line is rescored (a tier change applies the line policy).
 */
export async function recordPaymentReceived(d: Pick<CreditDeps, "clock" | "lines" | "model" | "policy" | "timeZone">, f: PaymentReceivedFact): Promise<MutationOutcome["outcome"]> {
  const at = d.clock.now();
  const r = await mutateLine(d.lines, f.accountId, f.eventId, (line) =>
    chain(line, { line: recordPayment(line, f.amountFen, f.onTime), events: [], changes: [] }, (l) => rescore(l, d.model, d.policy, { causeId: f.eventId, at, today: dateInZone(at, d.timeZone) })),
  );
  return r.outcome;
}
