/**
 * The platform's identity names, with no certificate machinery (so @whiteslip/grpc and the deploy checks read them
 * without loading an X.509 library): the trust domain, the identities, and the one parser of a certificate's
 * subjectAltName into an identity.
 */
/** Trust domain of the platform's SPIFFE IDs. */
export const TRUST_DOMAIN = "whiteslip.local";

/** The five services. */
export const SERVICE_IDENTITIES = ["credit", "billing", "notification", "collections", "credit-reporting"] as const;

/**
 * The clients: `ops` (the ops CLI), `console` (the operations console's server), `checkout` (the storefront;
 * the local demo plays it), `eod` (the end-of-day CronJob), `partner` (a partner integration, read-only).
 */
export const CLIENT_IDENTITIES = ["ops", "console", "checkout", "eod", "partner"] as const;

/** A service identity. */
export type ServiceIdentity = (typeof SERVICE_IDENTITIES)[number];
/** A client identity. */
export type ClientIdentity = (typeof CLIENT_IDENTITIES)[number];
/** Any identity of the platform. */
export type Identity = ServiceIdentity | ClientIdentity;

/** Every identity the local PKI issues a certificate for. */
export const ALL_IDENTITIES: readonly Identity[] = [...SERVICE_IDENTITIES, ...CLIENT_IDENTITIES];

/** `spiffe://whiteslip.local/<name>`. */
export function spiffeId(name: string, trustDomain = TRUST_DOMAIN): string {
  return `spiffe://${trustDomain}/${name}`;
}

/**
 * The identity named by a certificate's subjectAltName text (as Node's `PeerCertificate.subjectaltname` or
 * `X509Certificate.subjectAltName` give it: `URI:spiffe://whiteslip.local/billing, DNS:billing, …`), or undefined
 * when it holds no URI of the trust domain, or more than one (ambiguous).
 */
export function identityFromSubjectAltName(san: string | undefined, trustDomain = TRUST_DOMAIN): string | undefined {
  if (!san) return undefined;
  const prefix = `spiffe://${trustDomain}/`;
  const names = san
    .split(/,\s*/)
    .filter((entry) => entry.startsWith("URI:"))
    .map((entry) => entry.slice(4))
    .filter((uri) => uri.startsWith(prefix))
    .map((uri) => uri.slice(prefix.length));
  if (names.length !== 1) return undefined;
  const name = names[0]!;
  return /^[a-z0-9][a-z0-9-]{0,62}$/.test(name) ? name : undefined;
}
