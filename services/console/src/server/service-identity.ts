/**
 * How the console speaks to the services: mutual TLS as the `console` identity, and for every call made while
 * serving a signed-in person, a short-lived token naming that person (user name, role, agent id), signed with the
 * console's own TLS key and addressed to the one service called (audience = its identity). Services verify it
 * against the certificate of the connection it arrives on and take the actor from it — never from a request field.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { type ChannelCredentials, credentials as grpcCredentials } from "@grpc/grpc-js";
import type { TlsConfig } from "@whiteslip/config";
import { clientTlsCredentials, type MetadataInit, USER_TOKEN_HEADER, UserTokenSigner } from "@whiteslip/grpc";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { SessionUser } from "./authz";

/** Identity of each service, by its gRPC package prefix (the token's audience). */
const AUDIENCE_BY_PACKAGE: Record<string, string> = {
  "whiteslip.credit.v1": "credit",
  "whiteslip.billing.v1": "billing",
  "whiteslip.notification.v1": "notification",
  "whiteslip.collections.v1": "collections",
  "whiteslip.creditreporting.v1": "credit-reporting",
};

/** The request being served, for the calls it makes. */
const scope = new AsyncLocalStorage<{ req: FastifyRequest & { user?: SessionUser } }>();

/** The console's gRPC transport: credentials plus the per-call user token. */
export interface ConsoleTransport {
  readonly credentials: ChannelCredentials;
  /** Per-call metadata (`callMetadata` of @whiteslip/grpc's client): the signed-in person's token, if any. */
  readonly callMetadata?: (path: string) => Promise<MetadataInit | undefined>;
}

/** Builds the transport from the validated TLS settings (plaintext, with no token, only in development mode). */
export function consoleTransport(tls: TlsConfig): ConsoleTransport {
  if (tls.GRPC_PLAINTEXT_DEV) return { credentials: grpcCredentials.createInsecure() };
  const signer = new UserTokenSigner({ identity: "console", keyFile: tls.TLS_KEY_FILE! });
  return {
    credentials: clientTlsCredentials({
      caFile: tls.TLS_CA_FILE!,
      certFile: tls.TLS_CERT_FILE!,
      keyFile: tls.TLS_KEY_FILE!,
      refreshMs: tls.TLS_REFRESH_MS,
    }),
    async callMetadata(path) {
      const user = scope.getStore()?.req.user;
      if (!user) return undefined;
      const audience = AUDIENCE_BY_PACKAGE[path.slice(1, path.lastIndexOf("."))];
      if (!audience) return undefined;
      const token = await signer.sign(
        { username: user.username, role: user.role, ...(user.agentId ? { agentId: user.agentId } : {}) },
        audience,
      );
      return { [USER_TOKEN_HEADER]: token };
    },
  };
}

/** Makes each request's signed-in user visible to the gRPC calls made while serving it (register first). */
export function forwardSignedInUser(app: FastifyInstance): void {
  app.addHook("onRequest", (req, _reply, done) => scope.run({ req }, done));
}
