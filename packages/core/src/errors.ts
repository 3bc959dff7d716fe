/**
 * Domain errors: named kinds whose message names the offending field or rule.
 * The gRPC edge (@whiteslip/grpc) maps each kind to a status code with
 * `google.rpc` details; domain code never imports gRPC.
 */

/** One bad field of a request, as in google.rpc.BadRequest.FieldViolation. */
export interface FieldViolation {
  /** Path of the field, e.g. `amount_fen` or `items[2].sku`. */
  field: string;
  /** What is wrong with it, naming the bad value where it is not personal data. */
  description: string;
}

export type ErrorKind =
  | "invalid_argument"
  | "not_found"
  | "already_exists"
  | "failed_precondition"
  | "resource_exhausted"
  | "permission_denied"
  | "unauthenticated"
  | "aborted"
  | "unavailable";

/** An expected failure that a caller can act on. */
export class DomainError extends Error {
  override readonly name = "DomainError";
  constructor(
    readonly kind: ErrorKind,
    message: string,
    /** Machine-readable reason (google.rpc.ErrorInfo.reason), UPPER_SNAKE_CASE. */
    readonly reason: string,
    readonly violations: readonly FieldViolation[] = [],
    readonly metadata: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** Bad input: one or more fields are invalid. */
export function invalidArgument(violations: FieldViolation[]): DomainError {
  const message = violations.map((v) => `${v.field}: ${v.description}`).join("; ");
  return new DomainError("invalid_argument", message || "invalid request", "INVALID_ARGUMENT", violations);
}

/** A resource named by the caller does not exist. */
export function notFound(resource: string, id: string): DomainError {
  return new DomainError("not_found", `${resource} ${id} not found`, `${toReason(resource)}_NOT_FOUND`, [], {
    resource,
    id,
  });
}

/** The resource exists already (e.g. a second create with a different idempotency key). */
export function alreadyExists(resource: string, id: string): DomainError {
  return new DomainError("already_exists", `${resource} ${id} already exists`, `${toReason(resource)}_ALREADY_EXISTS`, [], {
    resource,
    id,
  });
}

/** The system is not in a state where the operation is allowed; `reason` names the rule. */
export function failedPrecondition(reason: string, message: string, metadata: Record<string, string> = {}): DomainError {
  return new DomainError("failed_precondition", message, reason, [], metadata);
}

/** A quota or limit was reached. */
export function resourceExhausted(reason: string, message: string, metadata: Record<string, string> = {}): DomainError {
  return new DomainError("resource_exhausted", message, reason, [], metadata);
}

/** The caller is authenticated but not allowed to do this. */
export function permissionDenied(reason: string, message: string): DomainError {
  return new DomainError("permission_denied", message, reason);
}

/** A concurrent change won; the caller may retry. */
export function aborted(reason: string, message: string): DomainError {
  return new DomainError("aborted", message, reason);
}

/** Collects field violations while validating a request, then throws them all at once. */
export class Violations {
  private readonly list: FieldViolation[] = [];
  add(field: string, description: string): this {
    this.list.push({ field, description });
    return this;
  }
  /** Adds a violation when `bad` is true. */
  check(bad: boolean, field: string, description: string): this {
    if (bad) this.add(field, description);
    return this;
  }
  get size(): number {
    return this.list.length;
  }
  /** Throws an INVALID_ARGUMENT DomainError if any violation was added. */
  throwIfAny(): void {
    if (this.list.length > 0) throw invalidArgument([...this.list]);
  }
}

export function isDomainError(e: unknown): e is DomainError {
  return e instanceof DomainError;
}

function toReason(resource: string): string {
  return resource
    .replace(/([a-z])([A-Z])/g, "$1_$2")
    .replace(/[\s-]+/g, "_")
    .toUpperCase();
}
