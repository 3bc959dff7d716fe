/**
 * @whiteslip/identity: who is who between the platform's processes.
 *
 * Every service and every client has one identity, carried in its X.509 certificate as a URI SAN
 * `spiffe://<trust domain>/<name>` (the SPIFFE ID form; cert-manager's `Certificate.spec.uris` sets the same in
 * Kubernetes). Locally `ensureLocalPki` keeps a CA and one certificate per identity in a folder of the cache
 * (`$WHITESLIP_CACHE/pki`): issued on first use, re-issued when missing, expired, close to expiry or signed by
 * another CA. Private keys are written with mode 0600 and never leave that folder.
 */
import { webcrypto, X509Certificate as NodeX509 } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
// @peculiar/x509 resolves its providers through tsyringe, which needs the Reflect metadata API first.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { ALL_IDENTITIES, identityFromSubjectAltName, spiffeId, TRUST_DOMAIN } from "./names";

x509.cryptoProvider.set(webcrypto as never); // Node's WebCrypto (the DOM type is not in every tsconfig)

export {
  ALL_IDENTITIES,
  CLIENT_IDENTITIES,
  type ClientIdentity,
  type Identity,
  identityFromSubjectAltName,
  SERVICE_IDENTITIES,
  type ServiceIdentity,
  spiffeId,
  TRUST_DOMAIN,
} from "./names";

/** Where one identity's files are. */
export interface IdentityFiles {
  /** PEM certificate. */
  cert: string;
  /** PEM private key (PKCS#8, mode 0600). */
  key: string;
}

/** A local PKI folder. */
export interface LocalPki {
  /** The folder. */
  readonly dir: string;
  /** PEM of the CA certificate (the trust anchor every process is given). */
  readonly caFile: string;
  /** Files of one identity. */
  files(name: string): IdentityFiles;
  /** Identities (re-)issued by this call. */
  readonly issued: readonly string[];
}

/** Options of `ensureLocalPki`. */
export interface LocalPkiOptions {
  /** Folder (default `localPkiDir()`). */
  dir?: string;
  /** Identities to hold a certificate (default `ALL_IDENTITIES`). */
  names?: readonly string[];
  /** Validity of a leaf certificate, days (default 30). */
  leafDays?: number;
  /** Validity of the CA, days (default 365). */
  caDays?: number;
  /** Re-issue when less than this share of the validity is left (default 1/3). */
  renewFraction?: number;
  /** Trust domain (default `TRUST_DOMAIN`). */
  trustDomain?: string;
  /** Now (tests move it). */
  now?: Date;
}

/** `$WHITESLIP_CACHE/pki`, the cache folder of scripts/bootstrap.sh (default `~/.cache/whiteslip`). */
export function localPkiDir(env: Record<string, string | undefined> = process.env): string {
  const cache = env.WHITESLIP_CACHE || join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "whiteslip");
  return join(cache, "pki");
}

const EC = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGN = { name: "ECDSA", hash: "SHA-256" } as const;
const DAY_MS = 86_400_000;

/**
 * Makes sure `dir` holds a CA and a valid certificate per identity, issuing what is missing, expired, near expiry
 * or not signed by the current CA (a re-issued CA re-issues every leaf). Safe to call at every start; a second
 * process calling it at the same time waits for the first (a lock folder).
 */
export async function ensureLocalPki(opts: LocalPkiOptions = {}): Promise<LocalPki> {
  const dir = opts.dir ?? localPkiDir();
  const names = opts.names ?? ALL_IDENTITIES;
  const now = opts.now ?? new Date();
  const renew = opts.renewFraction ?? 1 / 3;
  const trustDomain = opts.trustDomain ?? TRUST_DOMAIN;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caFile = join(dir, "ca.pem");
  const caKeyFile = join(dir, "ca.key");
  const files = (name: string): IdentityFiles => ({ cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) });
  const issued: string[] = [];
  await withLock(join(dir, ".lock"), async () => {
    let ca = readCert(caFile);
    if (!ca || !existsSync(caKeyFile) || needsRenewal(ca, now, renew)) {
      const keys = (await webcrypto.subtle.generateKey(EC, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
      const cert = await x509.X509CertificateGenerator.createSelfSigned({
        serialNumber: serial(),
        name: `CN=Whiteslip local CA (${trustDomain})`,
        notBefore: new Date(now.getTime() - 60_000),
        notAfter: new Date(now.getTime() + (opts.caDays ?? 365) * DAY_MS),
        signingAlgorithm: SIGN,
        keys,
        extensions: [
          new x509.BasicConstraintsExtension(true, 0, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
          await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        ],
      });
      await writeKey(caKeyFile, keys.privateKey);
      writeAtomic(caFile, cert.toString("pem"), 0o644);
      ca = new NodeX509(cert.toString("pem"));
      issued.push("ca");
    }
    const caKey = await importKey(readFileSync(caKeyFile, "utf8"));
    const caPeculiar = new x509.X509Certificate(ca.toString());
    for (const name of names) {
      const f = files(name);
      const leaf = readCert(f.cert);
      const fresh =
        leaf &&
        existsSync(f.key) &&
        !needsRenewal(leaf, now, renew) &&
        leaf.checkIssued(ca) &&
        leaf.verify(ca.publicKey) &&
        identityFromSubjectAltName(leaf.subjectAltName, trustDomain) === name;
      if (fresh) continue;
      const keys = (await webcrypto.subtle.generateKey(EC, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: serial(),
        subject: `CN=${name}`,
        issuer: caPeculiar.subject,
        notBefore: new Date(now.getTime() - 60_000),
        notAfter: new Date(now.getTime() + (opts.leafDays ?? 30) * DAY_MS),
        signingAlgorithm: SIGN,
        publicKey: keys.publicKey,
        signingKey: caKey,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
          new x509.SubjectAlternativeNameExtension([
            { type: "url", value: spiffeId(name, trustDomain) },
            { type: "dns", value: name },
            { type: "dns", value: "localhost" },
            { type: "ip", value: "127.0.0.1" },
          ]),
          await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
          await x509.AuthorityKeyIdentifierExtension.create(caPeculiar),
        ],
      });
      // key first: a watcher that sees the new certificate must find its key
      await writeKey(f.key, keys.privateKey);
      writeAtomic(f.cert, cert.toString("pem"), 0o644);
      issued.push(name);
    }
  });
  return { dir, caFile, files, issued };
}

function serial(): string {
  const b = webcrypto.getRandomValues(new Uint8Array(16));
  b[0] = b[0]! & 0x7f; // positive
  return Buffer.from(b).toString("hex");
}

function needsRenewal(cert: NodeX509, now: Date, fraction: number): boolean {
  const from = new Date(cert.validFrom).getTime();
  const to = new Date(cert.validTo).getTime();
  return now.getTime() < from || to - now.getTime() < (to - from) * fraction;
}

function readCert(file: string): NodeX509 | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return new NodeX509(readFileSync(file));
  } catch {
    return undefined;
  }
}

async function importKey(pem: string): Promise<webcrypto.CryptoKey> {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
  return webcrypto.subtle.importKey("pkcs8", der, EC, false, ["sign"]) as Promise<webcrypto.CryptoKey>;
}

async function writeKey(file: string, key: webcrypto.CryptoKey): Promise<void> {
  const der = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key));
  const b64 = der.toString("base64").replace(/(.{64})/g, "$1\n").trimEnd();
  writeAtomic(file, `-----BEGIN PRIVATE KEY-----\n${b64}\n-----END PRIVATE KEY-----\n`, 0o600);
}

function writeAtomic(file: string, text: string, mode: number): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, file);
}

async function withLock(lock: string, fn: () => Promise<void>): Promise<void> {
  const until = Date.now() + 30_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > until) rmSync(lock, { recursive: true, force: true }); // a crashed holder
      else await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
