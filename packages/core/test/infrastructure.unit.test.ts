import { describe, expect, it } from "vitest";
import { aborted, failedPrecondition, infrastructureSource, invalidArgument, isInfrastructureError } from "../src";
import { DomainError } from "../src/errors";

function named(name: string, extra: Record<string, unknown> = {}): Error {
  const e = new Error(`${name} happened`);
  Object.defineProperty(e, "name", { value: name });
  return Object.assign(e, extra);
}

describe("isInfrastructureError", () => {
  it("treats an unreachable or slow database as infrastructure", () => {
    expect(isInfrastructureError(named("MongoServerSelectionError"))).toBe(true);
    expect(isInfrastructureError(named("MongoNetworkError"))).toBe(true);
    expect(isInfrastructureError(named("MongoServerError", { code: 91 }))).toBe(true); // shutting down
    expect(isInfrastructureError(named("MongoServerError", { code: 11000 }))).toBe(false); // duplicate key: ours
  });

  it("treats an unreachable broker as infrastructure, a broker's refusal as not", () => {
    expect(isInfrastructureError(named("KafkaJSConnectionError"))).toBe(true);
    expect(isInfrastructureError(named("KafkaJSProtocolError", { retriable: true }))).toBe(true);
    expect(isInfrastructureError(named("KafkaJSProtocolError", { retriable: false }))).toBe(false);
  });

  it("treats a dependency's UNAVAILABLE and DEADLINE_EXCEEDED as infrastructure, its NOT_FOUND as not", () => {
    expect(isInfrastructureError(named("GrpcError", { code: 14 }))).toBe(true);
    expect(isInfrastructureError(named("GrpcError", { code: 4 }))).toBe(true);
    expect(isInfrastructureError(named("GrpcError", { code: 5 }))).toBe(false);
  });

  it("follows the cause chain and knows socket errors", () => {
    const wrapped = new Error("could not load account", {
      cause: Object.assign(new Error("x"), { code: "ECONNREFUSED" }),
    });
    expect(isInfrastructureError(wrapped)).toBe(true);
  });

  it("never treats a caller's mistake, a rule or a bug as infrastructure", () => {
    expect(
      isInfrastructureError(invalidArgument([{ field: "amount_fen", description: "must be > 0" }])),
    ).toBe(false);
    expect(isInfrastructureError(failedPrecondition("ACCOUNT_CLOSED", "closed"))).toBe(false);
    expect(isInfrastructureError(aborted("CONCURRENT_MODIFICATION", "retry"))).toBe(false);
    expect(isInfrastructureError(new TypeError("cannot read properties of undefined"))).toBe(false);
    expect(
      isInfrastructureError(new DomainError("unavailable", "billing down", "DEPENDENCY_UNAVAILABLE")),
    ).toBe(true);
    expect(isInfrastructureError(undefined)).toBe(false);
  });
});

describe("infrastructureSource", () => {
  it("names the failed part, following the cause chain, and nothing for our own errors", () => {
    expect(infrastructureSource(named("MongoServerSelectionError"))).toBe("database");
    expect(infrastructureSource(new Error("load", { cause: named("MongoNetworkError") }))).toBe("database");
    expect(infrastructureSource(named("KafkaJSConnectionError"))).toBe("broker");
    expect(infrastructureSource(named("GrpcError", { code: 14 }))).toBe("dependency");
    expect(infrastructureSource(Object.assign(new Error("x"), { code: "ETIMEDOUT" }))).toBe("network");
    expect(infrastructureSource(aborted("CONCURRENT_MODIFICATION", "retry"))).toBeUndefined();
    expect(infrastructureSource(named("MongoServerError", { code: 11000 }))).toBeUndefined();
  });
});
