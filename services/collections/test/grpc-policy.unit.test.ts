import { collections } from "@whiteslip/contracts";
import { assertPolicyCovers } from "@whiteslip/grpc";
import { ALL_IDENTITIES } from "@whiteslip/identity";
import { describe, expect, it } from "vitest";
import { collectionsPolicy } from "../src/adapters/grpc-policy";

describe("CollectionsService policy", () => {
  it("names the callers of every RPC, and only RPCs that exist", () => {
    expect(() => assertPolicyCovers(collections.CollectionsService, collectionsPolicy)).not.toThrow();
    expect(Object.keys(collectionsPolicy).sort()).toEqual(collections.CollectionsService.methods.map((m) => m.localName).sort());
  });

  it("names only identities the platform issues certificates for", () => {
    const unknown = Object.values(collectionsPolicy).flat().filter((id) => !(ALL_IDENTITIES as readonly string[]).includes(id));
    expect(unknown).toEqual([]);
  });

  it("fails when a method has no policy", () => {
    const [first, ...rest] = Object.keys(collectionsPolicy);
    const partial = Object.fromEntries(rest.map((k) => [k, collectionsPolicy[k as keyof typeof collectionsPolicy]]));
    expect(() => assertPolicyCovers(collections.CollectionsService, partial)).toThrow(`no policy for ${first}`);
  });
});
