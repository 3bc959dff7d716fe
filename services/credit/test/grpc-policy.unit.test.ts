import { credit } from "@whiteslip/contracts";
import { assertPolicyCovers } from "@whiteslip/grpc";
import { ALL_IDENTITIES } from "@whiteslip/identity";
import { describe, expect, it } from "vitest";
import { creditPolicy } from "../src/adapters/grpc-policy";

describe("CreditService policy", () => {
  it("names the callers of every RPC, and only RPCs that exist", () => {
    expect(() => assertPolicyCovers(credit.CreditService, creditPolicy)).not.toThrow();
    expect(Object.keys(creditPolicy).sort()).toEqual(credit.CreditService.methods.map((m) => m.localName).sort());
  });

  it("names only identities the platform issues certificates for", () => {
    const unknown = Object.values(creditPolicy).flat().filter((id) => !(ALL_IDENTITIES as readonly string[]).includes(id));
    expect(unknown).toEqual([]);
  });

  it("fails when a method has no policy", () => {
    const [first, ...rest] = Object.keys(creditPolicy);
    const partial = Object.fromEntries(rest.map((k) => [k, creditPolicy[k as keyof typeof creditPolicy]]));
    expect(() => assertPolicyCovers(credit.CreditService, partial)).toThrow(`no policy for ${first}`);
  });
});
