/**
 * Mutual TLS for servers and clients, from PEM files that are re-read while the process runs, so a re-issued
 * certificate (cert-manager renewing a Secret, the local PKI re-issuing one) is picked up without a restart.
 * Built on grpc-js' file-watcher certificate provider (`@grpc/grpc-js/experimental`, grpc-js ≥ 1.12).
 */
import type { PeerCertificate } from "node:tls";
import { type ChannelCredentials, experimental, type ServerCredentials } from "@grpc/grpc-js";

/** Where a process finds its trust anchor and its own certificate. */
export interface TlsFiles {
  /** PEM of the CA(s) that sign the platform's certificates. */
  caFile: string;
  /** PEM of this process's certificate. */
  certFile: string;
  /** PEM of its private key. */
  keyFile: string;
  /** How often the files are re-read, ms (default 60 000). */
  refreshMs?: number;
}

const providers = new Map<string, experimental.FileWatcherCertificateProvider>();

/** One watcher per set of files and interval: every channel and the server of a process share it. */
function providerOf(files: TlsFiles): experimental.FileWatcherCertificateProvider {
  const refreshIntervalMs = files.refreshMs ?? 60_000;
  const key = JSON.stringify([files.caFile, files.certFile, files.keyFile, refreshIntervalMs]);
  let p = providers.get(key);
  if (!p) {
    p = new experimental.FileWatcherCertificateProvider({
      caCertificateFile: files.caFile,
      certificateFile: files.certFile,
      privateKeyFile: files.keyFile,
      refreshIntervalMs,
    });
    providers.set(key, p);
  }
  return p;
}

/**
 * Server credentials that present `certFile` and ask every client for a certificate signed by `caFile`. A
 * client without one (or with one from another CA) still completes the handshake but has no verified identity,
 * so the server's auth step answers it with UNAUTHENTICATED and an ErrorInfo reason — a gRPC status rather
 * than a dropped connection, which tells a caller what is wrong.
 */
export function serverTlsCredentials(files: TlsFiles): ServerCredentials {
  const p = providerOf(files);
  return experimental.createCertificateProviderServerCredentials(p, p, false);
}

/** Channel credentials that trust `caFile` for the server and present `certFile` as this client's identity. */
export function clientTlsCredentials(files: TlsFiles): ChannelCredentials {
  const p = providerOf(files);
  return experimental.createCertificateProviderChannelCredentials(p, p);
}

/** The verified peer certificate of a call's connection, or undefined (plaintext, no client certificate, or one the CA did not sign). */
export type PeerCertificateOf = PeerCertificate | undefined;
