/**
 * Typed unary client for a protobuf-es service over grpc-js.
 */
import { create, type DescService, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { ChannelCredentials, type ChannelOptions, Client, status as Code, Metadata } from "@grpc/grpc-js";
import { assertUnary, deserializer, methodPath, serializer } from "./definition";
import { GrpcError } from "./errors";

/** Default deadline of a call when none is given. */
export const DEFAULT_DEADLINE_MS = 5_000;

/** Metadata as a grpc-js `Metadata` or a plain record of text entries. */
export type MetadataInit = Metadata | Readonly<Record<string, string>>;

/** Options of one call. */
export interface CallOptions {
  /** Relative deadline; defaults to the client's `deadlineMs` (5 s). */
  deadlineMs?: number;
  /** Absolute deadline (e.g. `ctx.deadline` of the server call being handled); the earlier of the two wins. */
  deadline?: Date;
  /** Extra metadata for this call (merged over the client's). */
  metadata?: MetadataInit;
  /** Cancels the call when aborted (rejects with CANCELLED). */
  signal?: AbortSignal;
}

/** Options of a client. */
export interface ClientOptions {
  /** Default deadline of each call (default 5000). */
  deadlineMs?: number;
  /** Metadata sent with every call. */
  metadata?: MetadataInit;
  /** Channel credentials (default insecure; `clientTlsCredentials` for mutual TLS). */
  credentials?: ChannelCredentials;
  /**
   * Metadata computed for each call (after `metadata`, before the call's own), e.g. the console's signed token
   * for the person acting; gets the method path `/package.Service/Method`.
   */
  callMetadata?: (path: string) => MetadataInit | undefined | Promise<MetadataInit | undefined>;
  /** grpc-js channel options. */
  channelOptions?: ChannelOptions;
}

/** One typed unary method: request init → response message. */
export type UnaryMethod<I, O> = (request: I, options?: CallOptions) => Promise<O>;

/** A typed client: one method per RPC, named in lowerCamel case (`getAccountSummary`). */
export type ServiceClient<S extends DescService> = {
  [K in keyof S["method"]]: UnaryMethod<
    MessageInitShape<S["method"][K]["input"]>,
    MessageShape<S["method"][K]["output"]>
  >;
} & {
  /** Closes the channel. */
  close(): void;
  /** The underlying grpc-js client (e.g. for `waitForReady`). */
  readonly grpcClient: Client;
};

function toMetadata(init: MetadataInit | undefined, into = new Metadata()): Metadata {
  if (!init) return into;
  if (init instanceof Metadata) {
    into.merge(init);
    return into;
  }
  for (const [k, v] of Object.entries(init)) into.set(k, v);
  return into;
}

/**
 * Creates a typed client of `desc` at `address` (`host:port`). Each method
 * takes the request init shape and resolves to the response message, or
 * rejects with a `GrpcError` carrying the code and google.rpc details.
 * The CLIENT span and the `traceparent` in metadata are OpenTelemetry's grpc-js
 * instrumentation's (packages/telemetry registers it).
 */
export function createClient<S extends DescService>(
  desc: S,
  address: string,
  options: ClientOptions = {},
): ServiceClient<S> {
  assertUnary(desc);
  const grpcClient = new Client(
    address,
    options.credentials ?? ChannelCredentials.createInsecure(),
    options.channelOptions,
  );
  const defaultDeadline = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const out: Record<string, unknown> = {
    close: () => grpcClient.close(),
    grpcClient,
  };
  for (const m of desc.methods) {
    const path = methodPath(m);
    const serialize = serializer(m.input);
    const deserialize = deserializer(m.output);
    out[m.localName] = async (init: MessageInitShape<typeof m.input>, callOptions: CallOptions = {}) => {
      const perCall = options.callMetadata ? await options.callMetadata(path) : undefined;
      return new Promise((resolve, reject) => {
        const { signal } = callOptions;
        if (signal?.aborted) {
          reject(new GrpcError(Code.CANCELLED, "call cancelled by the caller before it started"));
          return;
        }
        let request: MessageShape<typeof m.input>;
        try {
          request = create(m.input, init);
        } catch (e) {
          reject(
            new GrpcError(Code.INVALID_ARGUMENT, `cannot build ${m.input.typeName}: ${(e as Error).message}`),
          );
          return;
        }
        const metadata = toMetadata(callOptions.metadata, toMetadata(perCall, toMetadata(options.metadata)));
        let deadline = Date.now() + (callOptions.deadlineMs ?? defaultDeadline);
        if (callOptions.deadline) deadline = Math.min(deadline, callOptions.deadline.getTime());
        const onAbort = () => call.cancel();
        const call = grpcClient.makeUnaryRequest(
          path,
          serialize,
          deserialize,
          request,
          metadata,
          { deadline },
          (err, value) => {
            signal?.removeEventListener("abort", onAbort);
            if (err) reject(GrpcError.fromServiceError(err));
            else resolve(value);
          },
        );
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    };
  }
  return out as ServiceClient<S>;
}
