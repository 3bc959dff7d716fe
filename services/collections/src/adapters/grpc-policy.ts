/**
 * Who may call each RPC of CollectionsService: the caller identities (URI SAN `spiffe://whiteslip.local/<name>` of the
 * client certificate) allowed per method. Every method is listed (the type and a unit test insist); an identity
 * outside its list gets PERMISSION_DENIED (`METHOD_NOT_ALLOWED`), a caller with no verified identity
 * UNAUTHENTICATED. The README's "Who may call what" table is this file.
 */
import type { collections } from "@whiteslip/contracts";
import type { ServicePolicy } from "@whiteslip/grpc";

/** Identities allowed per CollectionsService method. */
export const collectionsPolicy: ServicePolicy<typeof collections.CollectionsService> = {
  /** Read. */
  listCases: ["console", "ops"],
  /** Read. */
  getCase: ["console", "ops"],
  /** Agents and supervisors. */
  assignCase: ["console"],
  /** Agents. */
  logContactAttempt: ["console"],
  /** Agents. */
  recordPromiseToPay: ["console"],
  /** Agents; money moves in billing. */
  offerRepaymentPlan: ["console"],
  /** Agents. */
  sendLegalNotice: ["console"],
  /** Read. */
  getCollectionsStats: ["console", "ops"],
  /** Staff administration. */
  upsertAgent: ["console", "ops"],
  /** Read. */
  listAgents: ["console", "ops"],
  /** Agents. */
  resolveDispute: ["console"],
  /** Agents; money moves in billing. */
  requestFeeWaiver: ["console"],
  /** Agents; money moves in billing. */
  grantDeferral: ["console"],
  /** Operations. */
  runPromiseCheck: ["ops"],
  /** Read. */
  getStrategies: ["console", "ops"],
  /** A supervisor edits the strategies. */
  updateStrategies: ["console"],
  /** A risk manager (console) or an operator (ops CLI) promotes a challenger; audited with the verified actor. */
  promoteChallenger: ["console", "ops"],
  /** Read. */
  listStrategyChanges: ["console", "ops"],
};
