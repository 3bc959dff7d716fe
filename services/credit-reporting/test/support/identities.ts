/** Test identities (synthetic people) and in-memory identity provider / download audit. */
import { nationalIdCheckChar } from "../../../credit/src/domain/identity";
import type { DownloadAudit, FileDownload, IdentityProvider } from "../../src/app/ports";
import type { Furnisher } from "../../src/domain/bureau-format";
import type { ConsumerIdentity } from "../../src/domain/identity";

/** A complete furnisher configuration. */
export const FURNISHER: Furnisher = {
  identificationNumber: "WSFURN0001",
  name: "WHITESLIP CONSUMER CREDIT",
  address: "88 JIANGUO ROAD CHAOYANG DISTRICT BEIJING 100022 CN",
  telephone: "1088886666",
  programIdentifier: "WS001",
  pbocInstitutionCode: "B1234H11000001",
};

/** A synthetic resident id for Beijing Chaoyang (110105) born `yyyymmdd`, sequence `seq`. */
export function residentId(yyyymmdd: string, seq: number): string {
  const first17 = `110105${yyyymmdd}${String(seq).padStart(3, "0")}`;
  return first17 + nationalIdCheckChar(first17); // credit's GB 11643 check character: well-formed synthetic ids
}

/** A complete identity for an account. */
export function identityFor(accountId: string, over: Partial<ConsumerIdentity> = {}): ConsumerIdentity {
  const n = [...accountId].reduce((a, c) => a + c.charCodeAt(0), 0) % 900;
  return {
    accountId,
    customerId: `cus-${accountId}`,
    name: "Dan Test",
    idType: "CN_RESIDENT_ID",
    idNumber: residentId("19880612", n + 11),
    dateOfBirth: "1988-06-12",
    phone: "+8613700137052",
    address: { line1: "88 Jianguo Road", line2: "Unit 1203", city: "Beijing", provinceCode: "BJ", postalCode: "100022", countryCode: "CN" },
    ...over,
  };
}

/** Identities from a map; accounts without an entry get a complete default identity unless `onlyListed`. */
export class InMemoryIdentities implements IdentityProvider {
  readonly calls: { accountIds: string[]; purpose: string }[] = [];
  constructor(
    readonly people = new Map<string, ConsumerIdentity>(),
    private readonly onlyListed = false,
  ) {}
  async identities(accountIds: readonly string[], purpose: string) {
    this.calls.push({ accountIds: [...accountIds], purpose });
    const out = new Map<string, ConsumerIdentity>();
    for (const id of accountIds) {
      const p = this.people.get(id) ?? (this.onlyListed ? undefined : identityFor(id));
      if (p) out.set(id, p);
    }
    return out;
  }
}

/** Downloads in a list. */
export class InMemoryDownloads implements DownloadAudit {
  readonly rows: FileDownload[] = [];
  async record(d: FileDownload) {
    this.rows.push(d);
  }
}
