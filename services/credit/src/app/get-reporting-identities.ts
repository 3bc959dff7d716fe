/**
 * GetReportingIdentities: the decrypted identity of the customers of some accounts, for a bureau file. Credit owns
 * the personal data (sealed at rest, see register-customer.ts); credit-reporting asks for it when it renders a file
 * and keeps none of it. Only credit-reporting may call it (the service's gRPC policy); every call is audited here by
 * a log line naming the caller, the purpose and the counts — never a personal value.
 */
import { invalidArgument, type LocalDate, type FieldViolation } from "@whiteslip/core";
import type { PostalAddress } from "../domain/identity";
import type { CreditDeps } from "./deps";

/** Most accounts per call. */
export const MAX_IDENTITY_BATCH = 500;

/** One identity as a bureau file reports it (personal data: never log it). */
export interface ReportingIdentity {
  readonly accountId: string;
  readonly customerId: string;
  readonly name: string;
  /** The only kind of identification number credit holds. */
  readonly idType: "CN_RESIDENT_ID";
  readonly idNumber: string;
  readonly dateOfBirth: LocalDate;
  readonly phone: string;
  readonly address: PostalAddress | null;
}

/** Audit sink (the service logger). */
export interface AuditLogger {
  info(obj: object, msg?: string): void;
}

/** Returns the identities of the customers of `accountIds` (request order) and the ids credit does not know. */
export async function getReportingIdentities(
  d: Pick<CreditDeps, "lines" | "customers" | "pii">,
  req: { accountIds: readonly string[]; purpose: string; caller: string },
  audit: AuditLogger,
): Promise<{ identities: ReportingIdentity[]; missingAccountIds: string[] }> {
  const violations: FieldViolation[] = [];
  if (req.accountIds.length === 0) violations.push({ field: "account_ids", description: "must name at least one account" });
  if (req.accountIds.length > MAX_IDENTITY_BATCH)
    violations.push({ field: "account_ids", description: `must name at most ${MAX_IDENTITY_BATCH} accounts` });
  if (req.accountIds.some((id) => id.trim() === "")) violations.push({ field: "account_ids", description: "must not contain an empty id" });
  if (req.purpose.trim() === "") violations.push({ field: "purpose", description: "is required (it is recorded in the audit)" });
  if (violations.length > 0) throw invalidArgument(violations);
  const ids = [...new Set(req.accountIds)];
  const lines = new Map((await d.lines.getMany(ids)).map((l) => [l.id, l]));
  const customers = new Map(
    (await d.customers.getMany([...new Set([...lines.values()].map((l) => l.customerId))])).map((c) => [c.id, c]),
  );
  const identities: ReportingIdentity[] = [];
  const missingAccountIds: string[] = [];
  for (const accountId of ids) {
    const line = lines.get(accountId);
    const c = line ? customers.get(line.customerId) : undefined;
    if (!line || !c) {
      missingAccountIds.push(accountId);
      continue;
    }
    const idNumber = d.pii.decrypt(c.nationalIdEnc);
    identities.push({
      accountId,
      customerId: c.id,
      name: d.pii.decrypt(c.nameEnc),
      idType: "CN_RESIDENT_ID",
      idNumber,
      // digits 7–14 of the resident identity number (GB 11643), validated as a real date at registration
      dateOfBirth: `${idNumber.slice(6, 10)}-${idNumber.slice(10, 12)}-${idNumber.slice(12, 14)}`,
      phone: d.pii.decrypt(c.phoneEnc),
      address: c.addressEnc ? (JSON.parse(d.pii.decrypt(c.addressEnc)) as PostalAddress) : null,
    });
  }
  audit.info(
    { audit: "identities-disclosed", caller: req.caller, purpose: req.purpose, requested: ids.length, disclosed: identities.length, missing: missingAccountIds.length },
    "reporting identities disclosed",
  );
  return { identities, missingAccountIds };
}
