import { billing } from "@whiteslip/contracts";
import { assertPolicyCovers } from "@whiteslip/grpc";
import { ALL_IDENTITIES } from "@whiteslip/identity";
import { describe, expect, it } from "vitest";
import { billingPolicy } from "../src/adapters/grpc-policy";

describe("BillingService policy", () => {
  it("names the callers of every RPC, and only RPCs that exist", () => {
    expect(() => assertPolicyCovers(billing.BillingService, billingPolicy)).not.toThrow();
    expect(Object.keys(billingPolicy).sort()).toEqual(billing.BillingService.methods.map((m) => m.localName).sort());
  });

  it("names only identities the platform issues certificates for", () => {
    const unknown = Object.values(billingPolicy).flat().filter((id) => !(ALL_IDENTITIES as readonly string[]).includes(id));
    expect(unknown).toEqual([]);
  });

  it("fails when a method has no policy", () => {
    const [first, ...rest] = Object.keys(billingPolicy);
    const partial = Object.fromEntries(rest.map((k) => [k, billingPolicy[k as keyof typeof billingPolicy]]));
    expect(() => assertPolicyCovers(billing.BillingService, partial)).toThrow(`no policy for ${first}`);
  });
});
