import { create, toBinary } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { status as Code, Metadata } from "@grpc/grpc-js";
import { credit, googleRpc } from "@whiteslip/contracts";
import {
  aborted,
  alreadyExists,
  DomainError,
  type ErrorKind,
  failedPrecondition,
  invalidArgument,
  notFound,
  permissionDenied,
  resourceExhausted,
} from "@whiteslip/core";
import { KafkaJSConnectionError, KafkaJSRequestTimeoutError } from "kafkajs";
import { MongoNetworkError, MongoNetworkTimeoutError, MongoServerError, MongoServerSelectionError } from "mongodb";
import { describe, expect, it } from "vitest";
import {
  codeName,
  decodeStatusDetails,
  encodeStatusDetails,
  GrpcError,
  methodPath,
  STATUS_DETAILS_KEY,
  StatusError,
  service,
  serviceDefinition,
  toStatus,
} from "../src/index";

/** What a client sees when the server sends `toStatus(err)`. */
function roundTrip(err: unknown): GrpcError {
  const st = toStatus(err);
  return GrpcError.fromServiceError({ code: st.code, details: st.details, metadata: st.metadata });
}

describe("DomainError → gRPC status", () => {
  const cases: [ErrorKind, Code][] = [
    ["invalid_argument", Code.INVALID_ARGUMENT],
    ["not_found", Code.NOT_FOUND],
    ["already_exists", Code.ALREADY_EXISTS],
    ["failed_precondition", Code.FAILED_PRECONDITION],
    ["resource_exhausted", Code.RESOURCE_EXHAUSTED],
    ["permission_denied", Code.PERMISSION_DENIED],
    ["unauthenticated", Code.UNAUTHENTICATED],
    ["aborted", Code.ABORTED],
    ["unavailable", Code.UNAVAILABLE],
  ];
  it.each(cases)("maps kind %s to code %i and back", (kind, code) => {
    const e = roundTrip(new DomainError(kind, `a ${kind} error`, "SOME_REASON"));
    expect(e.code).toBe(code);
    expect(e.kind).toBe(kind);
    expect(e.message).toBe(`a ${kind} error`);
    expect(e.reason).toBe("SOME_REASON");
    expect(e.domain).toBe("whiteslip");
  });

  it("carries field violations as google.rpc.BadRequest", () => {
    const e = roundTrip(
      invalidArgument([
        { field: "amount_fen", description: "must be positive, got -5" },
        { field: "items[2].sku", description: "is empty" },
      ]),
    );
    expect(e.code).toBe(Code.INVALID_ARGUMENT);
    expect(e.codeName).toBe("INVALID_ARGUMENT");
    expect(e.violations).toEqual([
      { field: "amount_fen", description: "must be positive, got -5" },
      { field: "items[2].sku", description: "is empty" },
    ]);
    expect(e.reason).toBe("INVALID_ARGUMENT");
    expect(e.message).toBe("amount_fen: must be positive, got -5; items[2].sku: is empty");
  });

  it("carries reason and metadata as google.rpc.ErrorInfo", () => {
    const e = roundTrip(failedPrecondition("ACCOUNT_CLOSED", "account a-1 is closed", { accountId: "a-1" }));
    expect(e.code).toBe(Code.FAILED_PRECONDITION);
    expect(e.reason).toBe("ACCOUNT_CLOSED");
    expect(e.metadata).toEqual({ accountId: "a-1" });
    expect(e.violations).toEqual([]);
    expect(roundTrip(notFound("CreditLine", "cl-9")).metadata).toEqual({
      resource: "CreditLine",
      id: "cl-9",
    });
    expect(roundTrip(notFound("CreditLine", "cl-9")).reason).toBe("CREDIT_LINE_NOT_FOUND");
    expect(roundTrip(alreadyExists("Customer", "c-1")).code).toBe(Code.ALREADY_EXISTS);
    expect(roundTrip(resourceExhausted("LIMIT", "over limit")).code).toBe(Code.RESOURCE_EXHAUSTED);
    expect(roundTrip(permissionDenied("NOT_OWNER", "no")).code).toBe(Code.PERMISSION_DENIED);
    expect(roundTrip(aborted("CONFLICT", "retry")).code).toBe(Code.ABORTED);
  });

  it("round-trips back into an equal DomainError", () => {
    const original = invalidArgument([{ field: "x", description: "bad" }]);
    const back = roundTrip(original).toDomainError();
    expect(back).toBeInstanceOf(DomainError);
    expect(back).toMatchObject({
      kind: "invalid_argument",
      reason: "INVALID_ARGUMENT",
      violations: [{ field: "x", description: "bad" }],
    });
  });

  it("hides unknown errors behind INTERNAL with a generic message", () => {
    const st = toStatus(new Error("connection string mongodb://user:secret@db"));
    expect(st.code).toBe(Code.INTERNAL);
    expect(st.details).toBe("internal error");
    expect(st.unexpected).toBe(true);
    const raw = st.metadata.get(STATUS_DETAILS_KEY)[0] as Buffer;
    expect(Buffer.from(raw).toString("latin1")).not.toContain("secret");
    expect(toStatus("a string").code).toBe(Code.INTERNAL);
  });

  it("maps other downstream errors (a dependency's NOT_FOUND) to INTERNAL", () => {
    expect(toStatus(new GrpcError(Code.NOT_FOUND, "their resource")).code).toBe(Code.INTERNAL);
  });

  it("passes explicit StatusErrors through", () => {
    const e = roundTrip(new StatusError(Code.UNIMPLEMENTED, "nope"));
    expect(e.code).toBe(Code.UNIMPLEMENTED);
    expect(e.reason).toBe("UNIMPLEMENTED");
  });
});

describe("status details decoding", () => {
  it("decodes what it encodes and ignores unknown detail types", () => {
    const bytes = encodeStatusDetails(Code.INVALID_ARGUMENT, "bad", {
      violations: [{ field: "f", description: "d" }],
      reason: "R",
      metadata: { k: "v" },
    });
    expect(decodeStatusDetails(bytes)).toEqual({
      code: Code.INVALID_ARGUMENT,
      message: "bad",
      violations: [{ field: "f", description: "d" }],
      reason: "R",
      domain: "whiteslip",
      metadata: { k: "v" },
    });
    const withOther = toBinary(
      googleRpc.StatusSchema,
      create(googleRpc.StatusSchema, {
        code: 9,
        message: "m",
        details: [anyPack(googleRpc.RetryInfoSchema, create(googleRpc.RetryInfoSchema))],
      }),
    );
    expect(decodeStatusDetails(withOther)).toMatchObject({ code: 9, violations: [], reason: undefined });
  });

  it("keeps code and message when the details trailer is malformed or absent", () => {
    const md = new Metadata();
    md.set(STATUS_DETAILS_KEY, Buffer.from([0xff, 0xff, 0xff]));
    const e = GrpcError.fromServiceError({ code: Code.NOT_FOUND, details: "gone", metadata: md });
    expect(e).toMatchObject({
      code: Code.NOT_FOUND,
      message: "gone",
      violations: [],
      reason: undefined,
      kind: "not_found",
    });
    expect(GrpcError.fromServiceError({ code: Code.INTERNAL, details: "x" }).violations).toEqual([]);
    expect(codeName(Code.DEADLINE_EXCEEDED)).toBe("DEADLINE_EXCEEDED");
    expect(codeName(99)).toBe("CODE_99");
  });
});

describe("service definition adapter", () => {
  it("builds grpc-js definitions with /package.Service/Method paths and protobuf-es (de)serializers", () => {
    const def = serviceDefinition(credit.CreditService);
    expect(def.getCreditLine.path).toBe("/whiteslip.credit.v1.CreditService/GetCreditLine");
    expect(methodPath(credit.CreditService.method.authorizePurchase)).toBe(
      "/whiteslip.credit.v1.CreditService/AuthorizePurchase",
    );
    const req = create(credit.AuthorizePurchaseRequestSchema, { creditLineId: "cl-1", amountFen: 12_345n });
    const back = def.authorizePurchase.requestDeserialize(def.authorizePurchase.requestSerialize(req));
    expect(back.amountFen).toBe(12_345n);
    expect(back.creditLineId).toBe("cl-1");
  });

  it("rejects streaming methods and unknown handler names at registration", () => {
    const streaming = {
      ...credit.CreditService,
      typeName: "x.Streamy",
      methods: [{ ...credit.CreditService.methods[0], name: "Watch", methodKind: "server_streaming" }],
    } as unknown as typeof credit.CreditService;
    expect(() => serviceDefinition(streaming)).toThrow(/unary methods only.*Watch \(server_streaming\)/);
    expect(() => service(streaming, {})).toThrow(/streaming/);
    expect(() => service(credit.CreditService, { nope: async () => ({}) } as never)).toThrow(
      /no method "nope"/,
    );
  });
});

/** Infrastructure trouble reaches callers as UNAVAILABLE (retryable) with a reason naming the part, never INTERNAL. */
describe("infrastructure errors → UNAVAILABLE", () => {
  const address = new MongoServerSelectionError("connect ECONNREFUSED 10.0.0.7:27017", {
    type: "Unknown",
  } as never);
  const cases: [string, unknown, string][] = [
    ["the database cannot be selected (down)", address, "DATABASE_UNAVAILABLE"],
    ["the database connection broke", new MongoNetworkError("connection 3 to 10.0.0.7:27017 closed"), "DATABASE_UNAVAILABLE"],
    ["the database timed out", new MongoNetworkTimeoutError("connection timed out"), "DATABASE_UNAVAILABLE"],
    ["the database is shutting down", Object.assign(new MongoServerError({ errmsg: "shutdown in progress" }), { code: 91 }), "DATABASE_UNAVAILABLE"],
    ["the broker cannot be reached", new KafkaJSConnectionError("Connection error: connect ECONNREFUSED 10.0.0.8:9092"), "BROKER_UNAVAILABLE"],
    ["the broker timed out", new KafkaJSRequestTimeoutError("Request Produce(key: 0, version: 7) timed out"), "BROKER_UNAVAILABLE"],
    ["a dependency answered UNAVAILABLE", new GrpcError(Code.UNAVAILABLE, "billing is down"), "DEPENDENCY_UNAVAILABLE"],
    ["a dependency answered DEADLINE_EXCEEDED", new GrpcError(Code.DEADLINE_EXCEEDED, "slow"), "DEPENDENCY_UNAVAILABLE"],
    [
      "a raw grpc-js ServiceError UNAVAILABLE",
      Object.assign(new Error("14 UNAVAILABLE: No connection established"), { code: Code.UNAVAILABLE, details: "No connection established", metadata: new Metadata() }),
      "DEPENDENCY_UNAVAILABLE",
    ],
    ["a socket was refused", Object.assign(new Error("connect ECONNREFUSED 10.0.0.9:443"), { code: "ECONNREFUSED" }), "DEPENDENCY_UNAVAILABLE"],
    ["a wrapped database error", new Error("could not load account", { cause: address }), "DATABASE_UNAVAILABLE"],
  ];
  it.each(cases)("%s → UNAVAILABLE %s", (_what, err, reason) => {
    const st = toStatus(err);
    expect(st.code).toBe(Code.UNAVAILABLE);
    expect(st.unexpected).toBe(false);
    expect(st.infrastructure).toBe(true);
    const e = roundTrip(err);
    expect(e.code).toBe(Code.UNAVAILABLE);
    expect(e.reason).toBe(reason);
    expect(e.domain).toBe("whiteslip");
    // the answer names no host or port of our infrastructure
    expect(e.message).not.toMatch(/10\.0\.0\.|27017|9092/);
  });

  it("keeps a database error that is ours (duplicate key) INTERNAL", () => {
    expect(toStatus(Object.assign(new MongoServerError({ errmsg: "E11000 duplicate key" }), { code: 11000 })).code).toBe(Code.INTERNAL);
  });
});
