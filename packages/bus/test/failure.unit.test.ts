import { aborted, DomainError, failedPrecondition, invalidArgument, notFound } from "@whiteslip/core";
import { describe, expect, it } from "vitest";
import { backoffDelay, classifyFailure, PermanentEventError, UndecodableEventError } from "../src/index";

describe("failure classes of a consumed message", () => {
  it("dead-letters at once only what can never succeed", () => {
    expect(classifyFailure(new UndecodableEventError("missing header ce_id"))).toBe("permanent");
    expect(classifyFailure(invalidArgument([{ field: "amount_fen", description: "must be positive" }]))).toBe("permanent");
    expect(classifyFailure(new PermanentEventError("product p9 was withdrawn"))).toBe("permanent");
    expect(classifyFailure(new Error("wrapped", { cause: new PermanentEventError("x") }))).toBe("permanent");
  });

  it("retries infrastructure trouble for as long as it takes, even when marked permanent", () => {
    const mongoDown = Object.assign(new Error("connect ECONNREFUSED"), { name: "MongoNetworkError" });
    expect(classifyFailure(mongoDown)).toBe("infrastructure");
    expect(classifyFailure(Object.assign(new Error("14 UNAVAILABLE"), { name: "GrpcError", code: 14 }))).toBe("infrastructure");
    expect(classifyFailure(new DomainError("unavailable", "billing is down", "UNAVAILABLE"))).toBe("infrastructure");
    expect(classifyFailure(Object.assign(mongoDown, { permanent: true }))).toBe("infrastructure");
  });

  it("treats everything else as unexpected: bounded retries, then the DLQ", () => {
    expect(classifyFailure(new TypeError("Cannot read properties of undefined"))).toBe("unexpected");
    expect(classifyFailure(notFound("account", "acc_1"))).toBe("unexpected");
    expect(classifyFailure(failedPrecondition("ACCOUNT_CLOSED", "closed"))).toBe("unexpected");
    expect(classifyFailure(aborted("CONCURRENT_MODIFICATION", "lost a race"))).toBe("unexpected");
    expect(classifyFailure("a string")).toBe("unexpected");
  });

  it("backs off exponentially, capped, jittered within the upper half of each step", () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, 200, 30_000, () => 1))).toEqual([200, 400, 800, 1600]);
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, 200, 30_000, () => 0))).toEqual([100, 200, 400, 800]);
    expect(backoffDelay(40, 200, 30_000, () => 1)).toBe(30_000);
    expect(backoffDelay(10_000, 200, 30_000, () => 0)).toBe(15_000);
  });
});
