/**
 * Who may call each RPC of CreditService: the caller identities (URI SAN `spiffe://whiteslip.local/<name>` of the
 * client certificate) allowed per method. Every method is listed (the type and a unit test insist); an identity
 * outside its list gets PERMISSION_DENIED (`METHOD_NOT_ALLOWED`), a caller with no verified identity
 * UNAUTHENTICATED. The README's "Who may call what" table is this file.
 */
import type { credit } from "@whiteslip/contracts";
import type { ServicePolicy } from "@whiteslip/grpc";

/** Identities allowed per CreditService method. */
export const creditPolicy: ServicePolicy<typeof credit.CreditService> = {
  /** Onboarding at checkout. */
  registerCustomer: ["checkout"],
  /** The customer applies at checkout. */
  applyForCredit: ["checkout"],
  /** Read. */
  getCreditLine: ["checkout", "console", "ops"],
  /** An operator changes a limit; the actor is the verified one. */
  adjustCreditLine: ["console", "ops"],
  /** Money: only the storefront holds credit. */
  authorizePurchase: ["checkout"],
  /** Money: only the storefront releases its holds. */
  releaseAuthorization: ["checkout"],
  /** Read. */
  getRestrictions: ["checkout", "console", "ops"],
  /** Personal data, decrypted for a bureau file: credit-reporting only (each call audited with its caller). */
  getReportingIdentities: ["credit-reporting"],
};
