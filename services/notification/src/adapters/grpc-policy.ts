/**
 * Who may call each RPC of NotificationService: the caller identities (URI SAN `spiffe://whiteslip.local/<name>` of the
 * client certificate) allowed per method. Every method is listed (the type and a unit test insist); an identity
 * outside its list gets PERMISSION_DENIED (`METHOD_NOT_ALLOWED`), a caller with no verified identity
 * UNAUTHENTICATED. The README's "Who may call what" table is this file.
 */
import type { notification } from "@whiteslip/contracts";
import type { ServicePolicy } from "@whiteslip/grpc";

/** Identities allowed per NotificationService method. */
export const notificationPolicy: ServicePolicy<typeof notification.NotificationService> = {
  /** Personal data: the customer app and agents. */
  upsertContactPoints: ["checkout", "console"],
  /** The customer's own choices. */
  setPreferences: ["checkout", "console"],
  /** Read. */
  listNotifications: ["console", "ops"],
  /** The customer's inbox. */
  listInbox: ["checkout", "console"],
  /** The customer app. */
  markInboxRead: ["checkout"],
  /** The customer app reports opens/clicks. */
  recordEngagement: ["checkout"],
  /** Read. */
  getCadencePolicy: ["console", "ops"],
  /** A supervisor edits the cadence; the actor is the verified one. */
  updateCadencePolicy: ["console"],
  /** Read. */
  getNotificationStats: ["console", "ops"],
  /** Read: the operator's reconciliation queue. */
  listReconciliations: ["console", "ops"],
  /** An operator resolves a lost send with the provider's log as evidence; the actor is the verified one. */
  resolveReconciliation: ["console", "ops"],
};
