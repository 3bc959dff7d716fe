/**
 * Failed gRPC calls → HTTP responses, keeping the google.rpc details: field violations (BadRequest) and the
 * ErrorInfo reason and metadata (a compliance refusal's reason is the rule that refused, e.g. `CN_QUIET_HOURS`).
 * Status codes follow the HTTP mapping documented in google/rpc/code.proto.
 */
import { GrpcStatus, isGrpcError } from "@whiteslip/grpc";

/** HTTP status of each gRPC status code (google/rpc/code.proto). */
export const HTTP_OF_GRPC: Readonly<Record<number, number>> = {
  [GrpcStatus.OK]: 200,
  [GrpcStatus.CANCELLED]: 499,
  [GrpcStatus.UNKNOWN]: 500,
  [GrpcStatus.INVALID_ARGUMENT]: 400,
  [GrpcStatus.DEADLINE_EXCEEDED]: 504,
  [GrpcStatus.NOT_FOUND]: 404,
  [GrpcStatus.ALREADY_EXISTS]: 409,
  [GrpcStatus.PERMISSION_DENIED]: 403,
  [GrpcStatus.RESOURCE_EXHAUSTED]: 429,
  [GrpcStatus.FAILED_PRECONDITION]: 400,
  [GrpcStatus.ABORTED]: 409,
  [GrpcStatus.OUT_OF_RANGE]: 400,
  [GrpcStatus.UNIMPLEMENTED]: 501,
  [GrpcStatus.INTERNAL]: 500,
  [GrpcStatus.UNAVAILABLE]: 503,
  [GrpcStatus.DATA_LOSS]: 500,
  [GrpcStatus.UNAUTHENTICATED]: 401,
};

/** The JSON error body every /api route returns. */
export interface ApiError {
  error: {
    /** gRPC-style code name, e.g. `FAILED_PRECONDITION`, or `FORBIDDEN`/`UNAUTHENTICATED` for the console's own checks. */
    code: string;
    /** Human message. */
    message: string;
    /** Machine reason (google.rpc.ErrorInfo.reason), e.g. `CN_QUIET_HOURS`. */
    reason?: string;
    /** ErrorInfo metadata (e.g. `rule`, `citation`). */
    metadata?: Record<string, string>;
    /** Field violations (google.rpc.BadRequest). */
    violations?: { field: string; description: string }[];
    /** The service that answered, when the error came from one. */
    service?: string;
  };
}

/** An error the routes throw to answer with a status and body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiError,
  ) {
    super(body.error.message);
  }
}

/** 403 with the reason of a refused authorization. */
export function forbidden(reason: string, message: string): HttpError {
  return new HttpError(403, { error: { code: "PERMISSION_DENIED", reason, message } });
}

/** 400 for bad input found by the console itself (before any service is called). */
export function badRequest(violations: { field: string; description: string }[]): HttpError {
  return new HttpError(400, {
    error: { code: "INVALID_ARGUMENT", message: "invalid request", reason: "INVALID_ARGUMENT", violations },
  });
}

/** Maps anything a route threw to an HTTP status and body; unexpected errors become a generic 500. */
export function toHttpError(
  err: unknown,
  service?: string,
): { status: number; body: ApiError; unexpected: boolean } {
  if (err instanceof HttpError) return { status: err.status, body: err.body, unexpected: false };
  if (isGrpcError(err)) {
    const status = HTTP_OF_GRPC[err.code] ?? 500;
    const internal = status === 500;
    return {
      status,
      unexpected: internal,
      body: {
        error: {
          code: err.codeName,
          message: internal ? "internal error in a service" : err.message,
          ...(err.reason ? { reason: err.reason } : {}),
          ...(Object.keys(err.metadata).length > 0 && !internal ? { metadata: err.metadata } : {}),
          ...(err.violations.length > 0 ? { violations: err.violations } : {}),
          ...(service ? { service } : {}),
        },
      },
    };
  }
  return { status: 500, unexpected: true, body: { error: { code: "INTERNAL", message: "internal error" } } };
}
