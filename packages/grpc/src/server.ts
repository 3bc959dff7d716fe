/**
 * gRPC server for protobuf-es services: typed unary handlers wrapped in a
 * fixed chain (logging → auth → decode → interceptors → deadline → handler),
 * error mapping to google.rpc details, health and reflection. The SERVER span
 * and trace context come from OpenTelemetry's grpc-js instrumentation.
 */
import {
  create,
  type DescMethod,
  type DescService,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import type { PeerCertificate } from "node:tls";
import {
  status as Code,
  type Metadata,
  Server,
  ServerCredentials,
  type ServerOptions,
  ServerInterceptingCall,
  type ServerInterceptor,
  type ServerUnaryCall,
  type sendUnaryData,
  Metadata as GrpcMetadata,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { context, isSpanContextValid, trace } from "@opentelemetry/api";
import { DomainError } from "@whiteslip/core";
import { HealthImplementation } from "grpc-health-check";
import { assertUnary, methodName, methodPath } from "./definition";
import { codeName, StatusError, toStatus } from "./errors";
import { type LoggerLike, silentLogger } from "./logger";
import { addReflection, HEALTH_SERVICE_NAME } from "./reflection";

/** Who is calling, as established by the `auth` hook. */
export interface Principal {
  /** Stable id of the caller (user id, service name …). */
  subject: string;
  /** Roles or scopes granted to the caller. */
  roles?: readonly string[];
  /** Further claims (never personal data in clear). */
  claims?: Readonly<Record<string, string>>;
}

/** What the `auth` hook sees of a call. */
export interface AuthContext {
  /** `package.Service/Method`. */
  method: string;
  /** Request metadata (headers). */
  metadata: Metadata;
  /** Peer address. */
  peer: string;
  /** The client certificate of the connection, when TLS verified it against the server's CA. */
  peerCertificate?: PeerCertificate;
}

/**
 * Decides who the caller is. Return a `Principal` (or undefined for an
 * anonymous caller) to proceed; throw or return a `DomainError`
 * (`unauthenticated` / `permission_denied`) to refuse.
 */
export type AuthHook = (
  ctx: AuthContext,
) => Principal | DomainError | undefined | Promise<Principal | DomainError | undefined>;

/** The context a handler receives with each request. */
export interface CallContext {
  /** `package.Service/Method`, e.g. `whiteslip.credit.v1.CreditService/GetCreditLine`. */
  method: string;
  /** Request metadata (headers). */
  metadata: Metadata;
  /** When the caller stops waiting (undefined: no deadline). Pass it on to downstream calls. */
  deadline: Date | undefined;
  /** Aborted when the call is cancelled or its deadline passes. */
  signal: AbortSignal;
  /** Logger bound to the method and, when there is a valid trace, `trace_id`/`span_id`. */
  logger: LoggerLike;
  /** The caller, as established by the `auth` hook. */
  principal: Principal | undefined;
  /** Peer address. */
  peer: string;
}

/** A unary handler: decoded request in, response init shape out; throw `DomainError` for caller mistakes. */
export type UnaryHandler<I, O> = (request: I, ctx: CallContext) => Promise<O>;

/** Handlers of a service, by lowerCamel method name; a missing handler answers UNIMPLEMENTED. */
export type ServiceHandlers<S extends DescService> = {
  [K in keyof S["method"]]?: UnaryHandler<
    MessageShape<S["method"][K]["input"]>,
    MessageInitShape<S["method"][K]["output"]>
  >;
};

/** A service with its handlers, ready for `startGrpcServer`. */
export interface ServiceRegistration {
  readonly desc: DescService;
  readonly handlers: Readonly<Record<string, UnaryHandler<unknown, unknown> | undefined>>;
}

/**
 * Middleware around every handler call (after auth and decoding). Call
 * `next()` to continue; throw to fail the call.
 */
export type UnaryInterceptor = (
  call: { method: DescMethod; request: unknown; ctx: CallContext },
  next: () => Promise<unknown>,
) => Promise<unknown>;

/** Pairs a service descriptor with its handlers. Throws if the service has streaming methods or unknown handler names. */
export function service<S extends DescService>(desc: S, handlers: ServiceHandlers<S>): ServiceRegistration {
  assertUnary(desc);
  const known = new Set(desc.methods.map((m) => m.localName));
  for (const name of Object.keys(handlers)) {
    if (!known.has(name))
      throw new Error(`${desc.typeName} has no method "${name}" (methods: ${[...known].join(", ")})`);
  }
  return { desc, handlers: handlers as ServiceRegistration["handlers"] };
}

/** Options of `startGrpcServer`. */
export interface GrpcServerOptions {
  /** Port to listen on; 0 picks a free one (see the returned `port`). */
  port: number;
  /** Interface to bind (default `0.0.0.0`). */
  host?: string;
  /** Logger (a pino logger fits); one line per call. */
  logger?: LoggerLike;
  /** Services with their handlers. */
  services: readonly ServiceRegistration[];
  /** Authentication/authorization hook run before each handler. */
  auth?: AuthHook;
  /** Extra middleware around handlers, outermost first. */
  interceptors?: readonly UnaryInterceptor[];
  /** Server credentials (default insecure). */
  credentials?: ServerCredentials;
  /** grpc-js server options. */
  serverOptions?: ServerOptions;
  /**
   * Health and reflection answer only callers with a verified client certificate (UNAUTHENTICATED otherwise);
   * set with mutual TLS. The kubelet's plaintext probe goes to `healthPort` instead.
   */
  authenticateBuiltins?: boolean;
  /** Also serve grpc.health.v1 alone, in plaintext, on this port (the kubelet's gRPC probe); 0 picks a free one. */
  healthPort?: number;
}

/** A running server. */
export interface GrpcServer {
  /** The bound port. */
  readonly port: number;
  /** The grpc-js server. */
  readonly server: Server;
  /** Port of the plaintext health-only listener, when one was asked for. */
  readonly healthPort: number | undefined;
  /**
   * Readiness: sets the health status of `readiness`, of the server ("") and of
   * every service to SERVING or NOT_SERVING. `liveness` is not touched: it stays
   * SERVING while the process runs (until `stop`).
   */
  setServing(serving: boolean): void;
  /** Marks NOT_SERVING, waits up to `graceMs` for calls in flight, then forces shutdown. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Health service name of liveness: SERVING while the process runs and its event
 * loop answers (a wedged loop answers nothing, so the probe's timeout fails it);
 * never follows dependencies, so a database or broker outage restarts no pod.
 */
export const LIVENESS = "liveness";

/**
 * Health service name of readiness (the server "" and every service follow it):
 * SERVING while the dependencies are reachable (see `setServing`).
 */
export const READINESS = "readiness";

/** Longest delay setTimeout accepts (longer ones fire at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

function deadlineOf(call: ServerUnaryCall<unknown, unknown>): Date | undefined {
  const d = call.getDeadline();
  const ms = d instanceof Date ? d.getTime() : d;
  return Number.isFinite(ms) ? new Date(ms) : undefined;
}

function sleepUntilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const fail = () => reject(new StatusError(Code.CANCELLED, "call cancelled"));
    if (signal.aborted) fail();
    else signal.addEventListener("abort", fail, { once: true });
  });
}

interface PipelineDeps {
  logger: LoggerLike;
  auth: AuthHook | undefined;
  interceptors: readonly UnaryInterceptor[];
}

function unaryHandler(
  method: DescMethod,
  handler: UnaryHandler<unknown, unknown> | undefined,
  deps: PipelineDeps,
) {
  const name = methodName(method);
  return (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>): void => {
    const started = performance.now();
    // The SERVER span is OpenTelemetry's grpc-js instrumentation's (packages/telemetry), active while this runs;
    // the call's logger carries its trace so every line of the call correlates.
    const spanCtx = context.active();
    const span = trace.getActiveSpan();
    const sc = span?.spanContext();
    const bindings: Record<string, unknown> = { method: name };
    if (sc && isSpanContextValid(sc)) {
      bindings.trace_id = sc.traceId;
      bindings.span_id = sc.spanId;
    }
    const logger = deps.logger.child(bindings);

    // Abort the handler's signal on cancellation or when the deadline passes.
    const abort = new AbortController();
    const deadline = deadlineOf(call);
    const expired = () => deadline !== undefined && deadline.getTime() <= Date.now();
    const deadlineExceeded = () => new StatusError(Code.DEADLINE_EXCEEDED, "deadline exceeded");
    let deadlineTimer: NodeJS.Timeout | undefined;
    if (deadline) {
      const left = deadline.getTime() - Date.now();
      if (left <= 0) abort.abort(deadlineExceeded());
      else if (left < MAX_TIMER_MS) deadlineTimer = setTimeout(() => abort.abort(deadlineExceeded()), left);
    }
    const onCancel = () =>
      abort.abort(expired() ? deadlineExceeded() : new StatusError(Code.CANCELLED, "call cancelled"));
    call.on("cancelled", onCancel);

    const ctx: CallContext = {
      method: name,
      metadata: call.metadata,
      deadline,
      signal: abort.signal,
      logger,
      principal: undefined,
      peer: call.getPeer(),
    };

    const run = async (): Promise<Buffer> => {
      if (!handler) throw new StatusError(Code.UNIMPLEMENTED, `${name} is not implemented`);
      if (deps.auth) {
        const peerCertificate = call.getAuthContext().sslPeerCertificate;
        const who = await deps.auth({
          method: name,
          metadata: call.metadata,
          peer: ctx.peer,
          ...(peerCertificate ? { peerCertificate } : {}),
        });
        if (who instanceof DomainError) throw who;
        ctx.principal = who;
      }
      let request: unknown;
      try {
        request = fromBinary(method.input, call.request);
      } catch {
        throw new StatusError(
          Code.INVALID_ARGUMENT,
          `request is not a valid ${method.input.typeName}`,
          [],
          "MALFORMED_REQUEST",
        );
      }
      const invoke = async (i: number): Promise<unknown> => {
        const interceptor = deps.interceptors[i];
        if (interceptor) return interceptor({ method, request, ctx }, () => invoke(i + 1));
        if (expired()) {
          throw new StatusError(Code.DEADLINE_EXCEEDED, "deadline passed before the handler started");
        }
        if (abort.signal.aborted) throw abort.signal.reason;
        return handler(request, ctx);
      };
      // Stop waiting when the call is gone; the handler sees ctx.signal aborted.
      const init = await Promise.race([invoke(0), sleepUntilAborted(abort.signal)]);
      const response = create(method.output, init as MessageInitShape<typeof method.output>);
      const bytes = toBinary(method.output, response);
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    };

    context.with(spanCtx, run).then(
      (bytes) => context.with(spanCtx, () => finish(Code.OK, undefined, bytes)),
      (err: unknown) => {
        // A cancelled/expired call: report why, whatever the handler threw afterwards.
        const reason = abort.signal.aborted ? abort.signal.reason : err;
        context.with(spanCtx, () => finish(undefined, reason));
      },
    );

    function finish(ok: Code.OK | undefined, err: unknown, bytes?: Buffer): void {
      clearTimeout(deadlineTimer);
      call.removeListener("cancelled", onCancel);
      const durationMs = Math.round((performance.now() - started) * 10) / 10;
      if (ok === Code.OK) {
        callback(null, bytes);
        logger.info({ code: "OK", durationMs }, "grpc call");
        return;
      }
      const st = toStatus(err);
      // The instrumentation records the code and status; the exception of an unexpected failure is ours to add.
      if (st.unexpected) span?.recordException(err instanceof Error ? err : String(err));
      callback({ code: st.code, details: st.details, metadata: st.metadata });
      const line = { code: codeName(st.code), durationMs };
      if (st.unexpected) logger.error({ ...line, err }, "grpc call failed");
      else if (st.infrastructure) logger.warn({ ...line, err: String(err) }, "grpc call failed: infrastructure unavailable");
      else logger.info(err instanceof DomainError ? { ...line, reason: err.reason } : line, "grpc call");
    }
  };
}

function rawDefinition(desc: DescService) {
  const def: Record<string, import("@grpc/grpc-js").MethodDefinition<Buffer, Buffer>> = {};
  for (const m of desc.methods) {
    def[m.localName] = {
      path: methodPath(m),
      requestStream: false,
      responseStream: false,
      // Decoding happens in the pipeline so a bad request maps to INVALID_ARGUMENT.
      requestSerialize: (b: Buffer) => b,
      requestDeserialize: (b: Buffer) => b,
      responseSerialize: (b: Buffer) => b,
      responseDeserialize: (b: Buffer) => b,
      originalName: m.name,
    };
  }
  return def;
}

function hostPort(host: string, port: number): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Starts a gRPC server with the given services plus `grpc.health.v1.Health`
 * (`liveness`, `readiness`, "" and every service SERVING) and server reflection
 * v1/v1alpha.
 */
export async function startGrpcServer(opts: GrpcServerOptions): Promise<GrpcServer> {
  const logger = opts.logger ?? silentLogger;
  const server = new Server(
    opts.authenticateBuiltins
      ? { ...opts.serverOptions, interceptors: [...(opts.serverOptions?.interceptors ?? []), builtinsNeedIdentity] }
      : opts.serverOptions,
  );
  const deps: PipelineDeps = { logger, auth: opts.auth, interceptors: opts.interceptors ?? [] };
  const names = new Set<string>();
  for (const reg of opts.services) {
    if (names.has(reg.desc.typeName)) throw new Error(`service ${reg.desc.typeName} registered twice`);
    names.add(reg.desc.typeName);
    const impl: UntypedServiceImplementation = {};
    for (const m of reg.desc.methods) impl[m.localName] = unaryHandler(m, reg.handlers[m.localName], deps);
    server.addService(rawDefinition(reg.desc), impl);
  }

  const health = new HealthImplementation();
  const setServing = (serving: boolean) => {
    const st = serving ? "SERVING" : "NOT_SERVING";
    for (const n of [READINESS, "", HEALTH_SERVICE_NAME, ...names]) health.setStatus(n, st);
  };
  health.setStatus(LIVENESS, "SERVING");
  setServing(true);
  health.addToServer(server);
  addReflection(
    server,
    opts.services.map((s) => s.desc),
  );

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(
      hostPort(opts.host ?? "0.0.0.0", opts.port),
      opts.credentials ?? ServerCredentials.createInsecure(),
      (err, bound) => (err ? reject(err) : resolve(bound)),
    );
  });
  logger.info({ port, services: [...names] }, "grpc server listening");
  const healthListener =
    opts.healthPort === undefined ? undefined : await startHealthListener(health, opts.host ?? "0.0.0.0", opts.healthPort);
  if (healthListener) logger.info({ port: healthListener.port }, "plaintext health listener (grpc.health.v1 only)");

  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 5_000): Promise<void> => {
    stopping ??= new Promise<void>((resolve) => {
      setServing(false);
      health.setStatus(LIVENESS, "NOT_SERVING");
      const timer = setTimeout(() => {
        logger.warn({ graceMs }, "grpc server: forcing shutdown");
        server.forceShutdown();
        resolve();
      }, graceMs);
      healthListener?.server.forceShutdown();
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    }).then(() => logger.info({ port }, "grpc server stopped"));
    return stopping;
  };

  return { port, server, healthPort: healthListener?.port, setServing, stop };
}

/** Paths served by the built-in services (health, reflection), which do not go through the handler pipeline. */
const BUILTIN_PREFIXES = ["/grpc.health.v1.Health/", "/grpc.reflection."];

/** Refuses health and reflection calls that come without a verified client certificate. */
const builtinsNeedIdentity: ServerInterceptor = (method, call) =>
  new ServerInterceptingCall(call, {
    start: (next) => {
      next({
        onReceiveMetadata: (metadata, mdNext) => {
          const builtin = BUILTIN_PREFIXES.some((p) => method.path.startsWith(p));
          if (builtin && !call.getAuthContext().sslPeerCertificate) {
            call.sendStatus({
              code: Code.UNAUTHENTICATED,
              details: "no verified client certificate: call with a certificate of the platform's CA (mutual TLS)",
              metadata: new GrpcMetadata(),
            });
            return;
          }
          mdNext(metadata);
        },
      });
    },
  });

/** grpc.health.v1 alone, plaintext, sharing the main server's statuses. */
async function startHealthListener(
  health: HealthImplementation,
  host: string,
  port: number,
): Promise<{ server: Server; port: number }> {
  const server = new Server();
  health.addToServer(server);
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(hostPort(host, port), ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    );
  });
  return { server, port: bound };
}
