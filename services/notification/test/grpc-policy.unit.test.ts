import { notification } from "@whiteslip/contracts";
import { assertPolicyCovers } from "@whiteslip/grpc";
import { ALL_IDENTITIES } from "@whiteslip/identity";
import { describe, expect, it } from "vitest";
import { notificationPolicy } from "../src/adapters/grpc-policy";

describe("NotificationService policy", () => {
  it("names the callers of every RPC, and only RPCs that exist", () => {
    expect(() => assertPolicyCovers(notification.NotificationService, notificationPolicy)).not.toThrow();
    expect(Object.keys(notificationPolicy).sort()).toEqual(notification.NotificationService.methods.map((m) => m.localName).sort());
  });

  it("names only identities the platform issues certificates for", () => {
    const unknown = Object.values(notificationPolicy).flat().filter((id) => !(ALL_IDENTITIES as readonly string[]).includes(id));
    expect(unknown).toEqual([]);
  });

  it("fails when a method has no policy", () => {
    const [first, ...rest] = Object.keys(notificationPolicy);
    const partial = Object.fromEntries(rest.map((k) => [k, notificationPolicy[k as keyof typeof notificationPolicy]]));
    expect(() => assertPolicyCovers(notification.NotificationService, partial)).toThrow(`no policy for ${first}`);
  });
});
