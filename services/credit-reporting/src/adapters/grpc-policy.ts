/**
 * Who may call each RPC of CreditReportingService: the caller identities (URI SAN `spiffe://whiteslip.local/<name>` of the
 * client certificate) allowed per method. Every method is listed (the type and a unit test insist); an identity
 * outside its list gets PERMISSION_DENIED (`METHOD_NOT_ALLOWED`), a caller with no verified identity
 * UNAUTHENTICATED. The README's "Who may call what" table is this file.
 */
import type { creditreporting } from "@whiteslip/contracts";
import type { ServicePolicy } from "@whiteslip/grpc";

/** Identities allowed per CreditReportingService method. */
export const creditReportingPolicy: ServicePolicy<typeof creditreporting.CreditReportingService> = {
  /** Read. */
  getCreditScore: ["console", "ops"],
  /** Read. */
  listScoreHistory: ["console", "ops"],
  /** Operations: the monthly bureau file. */
  generateBureauFile: ["ops"],
  /** The customer (app) or an agent for them. */
  fileDispute: ["checkout", "console"],
  /** An agent. */
  resolveDispute: ["console"],
  /** Read. */
  getBureauFile: ["console", "ops"],
};
