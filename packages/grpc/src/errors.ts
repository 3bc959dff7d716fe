/**
 * Error mapping between the domain and the wire: `DomainError` kinds → gRPC
 * status codes with `google.rpc.Status` details in the `grpc-status-details-bin`
 * trailer (BadRequest for field violations, ErrorInfo for reason + metadata),
 * and back again on the client as `GrpcError`.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { anyIs, anyPack, anyUnpack } from "@bufbuild/protobuf/wkt";
import { status as Code, Metadata, type ServiceError, type StatusObject } from "@grpc/grpc-js";
import { googleRpc } from "@whiteslip/contracts";
import { DomainError, type ErrorKind, type FieldViolation, type InfrastructureSource, infrastructureSource } from "@whiteslip/core";

/** Trailer carrying a serialized `google.rpc.Status`. */
export const STATUS_DETAILS_KEY = "grpc-status-details-bin";

/** `google.rpc.ErrorInfo.domain` of every error raised by Whiteslip services. */
export const ERROR_DOMAIN = "whiteslip";

/** gRPC status code of each domain error kind. */
export const codeOfKind: Readonly<Record<ErrorKind, Code>> = {
  invalid_argument: Code.INVALID_ARGUMENT,
  not_found: Code.NOT_FOUND,
  already_exists: Code.ALREADY_EXISTS,
  failed_precondition: Code.FAILED_PRECONDITION,
  resource_exhausted: Code.RESOURCE_EXHAUSTED,
  permission_denied: Code.PERMISSION_DENIED,
  unauthenticated: Code.UNAUTHENTICATED,
  aborted: Code.ABORTED,
  unavailable: Code.UNAVAILABLE,
};

const kindOfCode = new Map<number, ErrorKind>(
  Object.entries(codeOfKind).map(([kind, code]) => [code, kind as ErrorKind]),
);

/** Name of a status code, e.g. `INVALID_ARGUMENT` (`CODE_<n>` for unknown numbers). */
export function codeName(code: number): string {
  return (Code as unknown as Record<number, string>)[code] ?? `CODE_${code}`;
}

/** Error details carried by a failed call, decoded from `grpc-status-details-bin`. */
export interface StatusDetails {
  /** Field violations (google.rpc.BadRequest). */
  violations: FieldViolation[];
  /** google.rpc.ErrorInfo.reason, e.g. `CREDIT_LINE_NOT_FOUND`. */
  reason: string | undefined;
  /** google.rpc.ErrorInfo.domain. */
  domain: string | undefined;
  /** google.rpc.ErrorInfo.metadata. */
  metadata: Record<string, string>;
}

/** Serializes `google.rpc.Status{code, message, details:[BadRequest?, ErrorInfo?]}`. */
export function encodeStatusDetails(
  code: number,
  message: string,
  details: {
    violations?: readonly FieldViolation[];
    reason?: string;
    metadata?: Readonly<Record<string, string>>;
  },
): Uint8Array {
  const anys = [];
  if (details.violations && details.violations.length > 0) {
    anys.push(
      anyPack(
        googleRpc.BadRequestSchema,
        create(googleRpc.BadRequestSchema, {
          fieldViolations: details.violations.map((v) => ({ field: v.field, description: v.description })),
        }),
      ),
    );
  }
  if (details.reason) {
    anys.push(
      anyPack(
        googleRpc.ErrorInfoSchema,
        create(googleRpc.ErrorInfoSchema, {
          reason: details.reason,
          domain: ERROR_DOMAIN,
          metadata: { ...(details.metadata ?? {}) },
        }),
      ),
    );
  }
  return toBinary(googleRpc.StatusSchema, create(googleRpc.StatusSchema, { code, message, details: anys }));
}

/** Decodes a serialized `google.rpc.Status`; unknown detail types are ignored. Throws on malformed bytes. */
export function decodeStatusDetails(bytes: Uint8Array): StatusDetails & { code: number; message: string } {
  const st = fromBinary(googleRpc.StatusSchema, bytes);
  const out: StatusDetails & { code: number; message: string } = {
    code: st.code,
    message: st.message,
    violations: [],
    reason: undefined,
    domain: undefined,
    metadata: {},
  };
  for (const any of st.details) {
    if (anyIs(any, googleRpc.BadRequestSchema)) {
      const br = anyUnpack(any, googleRpc.BadRequestSchema);
      for (const v of br?.fieldViolations ?? [])
        out.violations.push({ field: v.field, description: v.description });
    } else if (anyIs(any, googleRpc.ErrorInfoSchema)) {
      const info = anyUnpack(any, googleRpc.ErrorInfoSchema);
      if (info) {
        out.reason = info.reason;
        out.domain = info.domain;
        out.metadata = { ...info.metadata };
      }
    }
  }
  return out;
}

/**
 * An explicit gRPC status raised inside the server pipeline (UNIMPLEMENTED,
 * DEADLINE_EXCEEDED, undecodable request …). Handlers should throw
 * `DomainError` instead.
 */
export class StatusError extends Error {
  override readonly name = "StatusError";
  constructor(
    readonly code: Code,
    message: string,
    readonly violations: readonly FieldViolation[] = [],
    readonly reason?: string,
  ) {
    super(message);
  }
}

/** A status to send, with the `grpc-status-details-bin` trailer when there are details. */
export interface MappedStatus extends Partial<StatusObject> {
  code: Code;
  details: string;
  metadata: Metadata;
  /** True when the error was not expected (INTERNAL): log it. */
  unexpected: boolean;
  /** True when infrastructure failed (UNAVAILABLE): log it as a warning, the caller may retry. */
  infrastructure?: boolean;
}

/**
 * The UNAVAILABLE answer for each failed part of the infrastructure
 * (`isInfrastructureError` in @whiteslip/core is the one classifier): a retryable
 * code with a reason a client can act on, and a message that names no host.
 */
const UNAVAILABLE: Readonly<Record<InfrastructureSource, { reason: string; message: string }>> = {
  database: { reason: "DATABASE_UNAVAILABLE", message: "the database is unavailable; retry" },
  broker: { reason: "BROKER_UNAVAILABLE", message: "the message broker is unavailable; retry" },
  dependency: { reason: "DEPENDENCY_UNAVAILABLE", message: "a dependency is unavailable; retry" },
  network: { reason: "DEPENDENCY_UNAVAILABLE", message: "a dependency could not be reached; retry" },
};

/**
 * Maps anything a handler threw to the status sent to the client:
 * `DomainError` by kind with google.rpc details, `StatusError` as is, any
 * infrastructure failure (database or broker unreachable or timing out, a
 * dependency's UNAVAILABLE / DEADLINE_EXCEEDED, a socket error) to UNAVAILABLE
 * with an ErrorInfo reason naming the part (`DATABASE_UNAVAILABLE`,
 * `BROKER_UNAVAILABLE`, `DEPENDENCY_UNAVAILABLE`), and everything else to
 * INTERNAL with a generic message (never leaking the error).
 */
export function toStatus(err: unknown): MappedStatus {
  const metadata = new Metadata();
  const build = (
    code: Code,
    message: string,
    d: Parameters<typeof encodeStatusDetails>[2],
    unexpected = false,
  ) => {
    metadata.set(STATUS_DETAILS_KEY, Buffer.from(encodeStatusDetails(code, message, d)));
    return { code, details: message, metadata, unexpected };
  };
  if (err instanceof DomainError) {
    return build(codeOfKind[err.kind] ?? Code.UNKNOWN, err.message, {
      violations: err.violations,
      reason: err.reason,
      metadata: err.metadata,
    });
  }
  if (err instanceof StatusError) {
    return build(err.code, err.message, {
      violations: err.violations,
      reason: err.reason ?? codeName(err.code),
    });
  }
  const source = infrastructureSource(err);
  if (source) {
    const u = UNAVAILABLE[source];
    return { ...build(Code.UNAVAILABLE, u.message, { reason: u.reason }), infrastructure: true };
  }
  return build(Code.INTERNAL, "internal error", { reason: "INTERNAL" }, true);
}

/** A failed call as seen by a client: status code, message and decoded google.rpc details. */
export class GrpcError extends Error {
  override readonly name = "GrpcError";
  /** Status code name, e.g. `NOT_FOUND`. */
  readonly codeName: string;
  /** The domain error kind this code maps to, if any. */
  readonly kind: ErrorKind | undefined;
  /** Field violations from google.rpc.BadRequest (empty when none). */
  readonly violations: FieldViolation[];
  /** google.rpc.ErrorInfo.reason. */
  readonly reason: string | undefined;
  /** google.rpc.ErrorInfo.domain. */
  readonly domain: string | undefined;
  /** google.rpc.ErrorInfo.metadata. */
  readonly metadata: Record<string, string>;

  constructor(
    /** gRPC status code. */
    readonly code: Code,
    message: string,
    /** Decoded google.rpc details (violations, reason, domain, metadata). */
    readonly details: StatusDetails = { violations: [], reason: undefined, domain: undefined, metadata: {} },
    /** Trailing metadata of the call. */
    readonly trailers: Metadata = new Metadata(),
  ) {
    super(message);
    this.codeName = codeName(code);
    this.kind = kindOfCode.get(code);
    this.violations = details.violations;
    this.reason = details.reason;
    this.domain = details.domain;
    this.metadata = details.metadata;
  }

  /** Builds a `GrpcError` from a grpc-js `ServiceError`, parsing its details trailer. */
  static fromServiceError(err: Partial<ServiceError>): GrpcError {
    const code = typeof err.code === "number" ? err.code : Code.UNKNOWN;
    const trailers = err.metadata ?? new Metadata();
    let message = err.details ?? err.message ?? codeName(code);
    let details: StatusDetails | undefined;
    const raw = trailers.get(STATUS_DETAILS_KEY)[0];
    if (raw !== undefined && typeof raw !== "string") {
      try {
        const st = decodeStatusDetails(raw);
        details = st;
        if (!message && st.message) message = st.message;
      } catch {
        details = undefined; // malformed details: keep code and message
      }
    }
    return new GrpcError(code, message, details, trailers);
  }

  /** The equivalent `DomainError` (for re-throwing a downstream caller mistake), or undefined. */
  toDomainError(): DomainError | undefined {
    if (!this.kind) return undefined;
    return new DomainError(
      this.kind,
      this.message,
      this.reason ?? this.codeName,
      this.violations,
      this.metadata,
    );
  }
}

/** True when `e` is a `GrpcError`. */
export function isGrpcError(e: unknown): e is GrpcError {
  return e instanceof GrpcError;
}
