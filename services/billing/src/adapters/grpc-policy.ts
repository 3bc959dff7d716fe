/**
 * Who may call each RPC of BillingService: the caller identities (URI SAN `spiffe://whiteslip.local/<name>` of the
 * client certificate) allowed per method. Every method is listed (the type and a unit test insist); an identity
 * outside its list gets PERMISSION_DENIED (`METHOD_NOT_ALLOWED`), a caller with no verified identity
 * UNAUTHENTICATED. The README's "Who may call what" table is this file.
 */
import type { billing } from "@whiteslip/contracts";
import type { ServicePolicy } from "@whiteslip/grpc";

/** Identities allowed per BillingService method. */
export const billingPolicy: ServicePolicy<typeof billing.BillingService> = {
  /** Accounts open from CreditLineOpened; no caller needs it. */
  openAccount: [],
  /** Money: the storefront posts what credit authorized. */
  postPurchase: ["checkout"],
  /** Money: the storefront refunds its own orders. */
  refundPurchase: ["checkout"],
  /** Money: payments arrive through the storefront/wallet channel. */
  postRepayment: ["checkout"],
  /** Read. */
  getAccountSummary: ["checkout", "console", "ops", "collections"],
  /** Read. */
  listStatements: ["checkout", "console", "ops"],
  /** The ops CLI and the end-of-day CronJob. */
  runEndOfDay: ["ops", "eod"],
  /** Read. */
  getEndOfDayRun: ["ops", "eod", "console"],
  /** Read. */
  getBusinessDate: ["ops", "eod", "console", "checkout"],
  /** Money: plans are agreed in collections. */
  createRepaymentPlan: ["collections"],
  /** Money: hardship waivers (collections speaks for the approving agent). */
  waiveFees: ["collections", "console"],
  /** Read. */
  getPortfolioStats: ["console", "ops"],
  /** Money: deferrals are granted in collections. */
  deferPayment: ["collections"],
  /** Read: collections checks plans and deferrals against the product's terms (the console sees them through GetCase). */
  getProductTerms: ["collections", "console", "ops"],
  /** Read, but a full scan of the book: the operator only (npm run ops -- portfolio --recount). */
  recountPortfolio: ["ops"],
};
