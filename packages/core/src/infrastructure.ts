/**
 * One answer, for the whole platform, to "is this failure the infrastructure's
 * (retry it, never dead-letter it) or ours / the caller's?". The bus uses it to
 * pause a partition instead of dead-lettering, the gRPC edge to answer
 * UNAVAILABLE instead of INTERNAL, the command helper and the end-of-day to
 * retry instead of quarantining.
 *
 * Duck-typed on error names, codes and labels so that `@whiteslip/core` depends
 * on no driver: the MongoDB driver, kafkajs, grpc-js and Node's sockets each
 * name their transient failures, and the cause chain is followed.
 */

/** MongoDB driver error classes that mean "the database could not be reached or answered in time". */
const MONGO_TRANSIENT_NAMES = new Set([
  "MongoNetworkError",
  "MongoNetworkTimeoutError",
  "MongoServerSelectionError",
  "MongoTopologyClosedError",
  "MongoPoolClearedError",
  "MongoNotConnectedError",
  "MongoWaitQueueTimeoutError",
  "MongoOperationTimeoutError",
]);

/**
 * MongoDB server error codes of a node that is shutting down, stepping down or
 * unreachable (the driver's own retryable set: HostUnreachable 6, HostNotFound 7,
 * NetworkTimeout 89, ShutdownInProgress 91, PrimarySteppedDown 189,
 * ExceededTimeLimit 262, SocketException 9001, NotWritablePrimary 10107,
 * InterruptedAtShutdown 11600, InterruptedDueToReplStateChange 11602,
 * NotPrimaryNoSecondaryOk 13435, NotPrimaryOrSecondary 13436).
 */
const MONGO_TRANSIENT_CODES = new Set([6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]);

/** kafkajs error classes of an unreachable or slow broker. */
const KAFKA_TRANSIENT_NAMES = new Set([
  "KafkaJSConnectionError",
  "KafkaJSConnectionClosedError",
  "KafkaJSRequestTimeoutError",
  "KafkaJSBrokerNotFound",
  "KafkaJSNumberOfRetriesExceeded",
  "KafkaJSLockTimeout",
  "KafkaJSMetadataNotLoaded",
]);

/** Node socket error codes. */
const SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/** gRPC status codes of a dependency that is down or too slow: UNAVAILABLE 14, DEADLINE_EXCEEDED 4. */
const GRPC_TRANSIENT_CODES = new Set([4, 14]);

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  kind?: unknown;
  retriable?: unknown;
  errorLabels?: unknown;
  cause?: unknown;
  originalError?: unknown;
}

/** Which part of the infrastructure failed: our database, our broker, a service we call, or the network in between. */
export type InfrastructureSource = "database" | "broker" | "dependency" | "network";

/**
 * True when `e` (or an error in its cause chain) is infrastructure trouble:
 * a database or broker that is unreachable, shutting down or timing out, a
 * socket error, or a dependency answering UNAVAILABLE / DEADLINE_EXCEEDED.
 * Such a failure is retried for as long as it takes; it is never a reason to
 * dead-letter a message or quarantine an account.
 */
export function isInfrastructureError(e: unknown): boolean {
  return infrastructureSource(e) !== undefined;
}

/**
 * The same classification, naming the failed part (the gRPC edge puts it in the
 * UNAVAILABLE answer's reason), or undefined when `e` is not infrastructure trouble.
 */
export function infrastructureSource(e: unknown): InfrastructureSource | undefined {
  const seen = new Set<unknown>();
  let cur: unknown = e;
  while (cur && typeof cur === "object" && !seen.has(cur)) {
    seen.add(cur);
    const here = sourceHere(cur as ErrorLike);
    if (here) return here;
    const x = cur as ErrorLike;
    cur = x.cause ?? x.originalError;
  }
  return undefined;
}

function sourceHere(x: ErrorLike): InfrastructureSource | undefined {
  const name = typeof x.name === "string" ? x.name : "";
  if (MONGO_TRANSIENT_NAMES.has(name)) return "database";
  if (KAFKA_TRANSIENT_NAMES.has(name)) return "broker";
  if (name === "DomainError" && x.kind === "unavailable") return "dependency";
  if (name.startsWith("Mongo")) {
    if (typeof x.code === "number" && MONGO_TRANSIENT_CODES.has(x.code)) return "database";
    const labels = Array.isArray(x.errorLabels) ? x.errorLabels : [];
    if (labels.includes("RetryableWriteError") || labels.includes("ResetPool")) return "database";
  }
  // kafkajs marks its retriable protocol errors (leader moved, coordinator loading, …)
  if (name.startsWith("KafkaJS") && x.retriable === true) return "broker";
  // our GrpcError, or grpc-js' own ServiceError (an Error with code, details and metadata)
  const grpcLike = name === "GrpcError" || ("details" in x && "metadata" in x);
  if (grpcLike && typeof x.code === "number" && GRPC_TRANSIENT_CODES.has(x.code)) return "dependency";
  if (typeof x.code === "string" && SOCKET_CODES.has(x.code)) return "network";
  return undefined;
}
