/**
 * How a service's gRPC server and clients talk: mutual TLS from the TLS_* files (identity checked against the
 * service's name), or — only with the explicit development flag GRPC_PLAINTEXT_DEV=1, which @whiteslip/config
 * refuses under NODE_ENV=production — plaintext with no caller identity.
 */
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { type ChannelCredentials, credentials, ServerCredentials } from "@grpc/grpc-js";
import type { BaseConfig } from "@whiteslip/config";
import {
  type AuthHook,
  clientTlsCredentials,
  developmentAuth,
  type GuardedRegistration,
  identityAuth,
  peerIdentity,
  type ServiceRegistration,
  serverTlsCredentials,
} from "@whiteslip/grpc";
import type { Logger } from "@whiteslip/telemetry";

/** The transport of one service. */
export interface GrpcTransport {
  readonly plaintext: boolean;
  readonly serverCredentials: ServerCredentials;
  readonly clientCredentials: ChannelCredentials;
  /** The auth hook for these registrations: identity + per-method policy, or the development hook. */
  auth(services: readonly ServiceRegistration[]): AuthHook;
}

/** Builds the transport from the validated config; throws when the certificate is not `name`'s. */
export function grpcTransport(config: BaseConfig, name: string, logger: Pick<Logger, "warn">): GrpcTransport {
  if (config.GRPC_PLAINTEXT_DEV) {
    logger.warn("GRPC_PLAINTEXT_DEV=1: gRPC in plaintext with no caller identity (development only)");
    return {
      plaintext: true,
      serverCredentials: ServerCredentials.createInsecure(),
      clientCredentials: credentials.createInsecure(),
      auth: () => developmentAuth,
    };
  }
  const files = {
    caFile: config.TLS_CA_FILE!,
    certFile: config.TLS_CERT_FILE!,
    keyFile: config.TLS_KEY_FILE!,
    refreshMs: config.TLS_REFRESH_MS,
  };
  const own = peerIdentity({ subjectaltname: new X509Certificate(readFileSync(files.certFile)).subjectAltName } as never);
  if (own !== name) throw new Error(`TLS_CERT_FILE names the identity ${own ?? "(none)"}, not ${name}`);
  return {
    plaintext: false,
    serverCredentials: serverTlsCredentials(files),
    clientCredentials: clientTlsCredentials(files),
    auth(services) {
      const unguarded = services.filter((s) => !("policy" in s)).map((s) => s.desc.typeName);
      if (unguarded.length > 0) throw new Error(`no per-method policy for ${unguarded.join(", ")} (withPolicy)`);
      return identityAuth({ self: name, services: services as GuardedRegistration[] });
    },
  };
}
