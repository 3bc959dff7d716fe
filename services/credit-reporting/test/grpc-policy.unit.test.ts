import { creditreporting } from "@whiteslip/contracts";
import { assertPolicyCovers } from "@whiteslip/grpc";
import { ALL_IDENTITIES } from "@whiteslip/identity";
import { describe, expect, it } from "vitest";
import { creditReportingPolicy } from "../src/adapters/grpc-policy";

describe("CreditReportingService policy", () => {
  it("names the callers of every RPC, and only RPCs that exist", () => {
    expect(() => assertPolicyCovers(creditreporting.CreditReportingService, creditReportingPolicy)).not.toThrow();
    expect(Object.keys(creditReportingPolicy).sort()).toEqual(creditreporting.CreditReportingService.methods.map((m) => m.localName).sort());
  });

  it("names only identities the platform issues certificates for", () => {
    const unknown = Object.values(creditReportingPolicy).flat().filter((id) => !(ALL_IDENTITIES as readonly string[]).includes(id));
    expect(unknown).toEqual([]);
  });

  it("fails when a method has no policy", () => {
    const [first, ...rest] = Object.keys(creditReportingPolicy);
    const partial = Object.fromEntries(rest.map((k) => [k, creditReportingPolicy[k as keyof typeof creditReportingPolicy]]));
    expect(() => assertPolicyCovers(creditreporting.CreditReportingService, partial)).toThrow(`no policy for ${first}`);
  });
});
