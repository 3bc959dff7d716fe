/**
 * @whiteslip/grpc: protobuf-es services over grpc-js — typed clients, a server
 * with health, reflection, tracing, logging, auth and deadline handling, and
 * DomainError ↔ gRPC status mapping with google.rpc details.
 */

/** grpc-js status codes and metadata, re-exported for convenience. */
export { Metadata, status as GrpcStatus } from "@grpc/grpc-js";
export * from "./client";
export * from "./definition";
export * from "./errors";
export * from "./logger";
export * from "./reflection";
export * from "./server";
export * from "./health-client";
export * from "./authorization";
export * from "./tls";
export * from "./user-token";
