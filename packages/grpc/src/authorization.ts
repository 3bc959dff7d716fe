/**
 * Who may call what: the caller's identity from the verified client certificate of the connection (mutual TLS),
 * the person behind it from a short-lived user token signed with that same certificate's key, and each service's
 * per-method policy naming the identities allowed to call each RPC.
 *
 * No verified identity → UNAUTHENTICATED (`PEER_IDENTITY_MISSING`); an identity outside the method's policy →
 * PERMISSION_DENIED (`METHOD_NOT_ALLOWED`); a bad user token → UNAUTHENTICATED (`USER_TOKEN_INVALID`).
 */
import { X509Certificate } from "node:crypto";
import type { PeerCertificate } from "node:tls";
import type { DescService } from "@bufbuild/protobuf";
import { DomainError, permissionDenied } from "@whiteslip/core";
import { identityFromSubjectAltName, spiffeId, TRUST_DOMAIN } from "@whiteslip/identity/names";
import { jwtVerify } from "jose";
import type { AuthContext, AuthHook, CallContext, Principal, ServiceRegistration } from "./server";

/** Trust domain of the platform's SPIFFE IDs (`spiffe://whiteslip.local/<name>`; one home: @whiteslip/identity). */
export const DEFAULT_TRUST_DOMAIN = TRUST_DOMAIN;

/** Metadata key that carries the signed-in person's token (a compact JWS, ES256). */
export const USER_TOKEN_HEADER = "x-whiteslip-user";

/**
 * Which caller identities may call each RPC of a service, keyed by the method's lowerCamel name. The type asks
 * for every method, so a new RPC without a policy does not compile; `assertPolicyCovers` checks it at runtime.
 */
export type ServicePolicy<S extends DescService> = { readonly [K in keyof S["method"]]: readonly string[] };

/** A registration with the policy that guards it. */
export interface GuardedRegistration extends ServiceRegistration {
  readonly policy: Readonly<Record<string, readonly string[]>>;
}

/** Attaches `policy` to a service registration (throws when a method has none or an unknown method is named). */
export function withPolicy<S extends DescService>(
  reg: ServiceRegistration & { desc: S },
  policy: ServicePolicy<S>,
): GuardedRegistration {
  assertPolicyCovers(reg.desc, policy as Record<string, readonly string[]>);
  return { ...reg, policy: policy as Record<string, readonly string[]> };
}

/** Throws unless `policy` names every method of `desc` and nothing else. */
export function assertPolicyCovers(desc: DescService, policy: Readonly<Record<string, readonly string[]>>): void {
  const methods = desc.methods.map((m) => m.localName);
  const missing = methods.filter((m) => !Array.isArray(policy[m]));
  const unknown = Object.keys(policy).filter((k) => !methods.includes(k));
  if (missing.length > 0 || unknown.length > 0)
    throw new Error(
      `${desc.typeName} policy: ${[
        missing.length ? `no policy for ${missing.join(", ")}` : "",
        unknown.length ? `unknown methods ${unknown.join(", ")}` : "",
      ]
        .filter(Boolean)
        .join("; ")}`,
    );
}

/** `spiffe://<trustDomain>/<name>` (@whiteslip/identity's `spiffeId`). */
export const spiffeUri = spiffeId;

/** The identity in a verified peer certificate's URI SAN (exactly one of the trust domain), or undefined. */
export function peerIdentity(cert: PeerCertificate | undefined, trustDomain = DEFAULT_TRUST_DOMAIN): string | undefined {
  return identityFromSubjectAltName(cert?.subjectaltname, trustDomain);
}

/** Options of `identityAuth`. */
export interface IdentityAuthOptions {
  /** This service's identity: user tokens must name it as their audience. */
  self: string;
  /** Guarded registrations of this server (their policies decide). */
  services: readonly GuardedRegistration[];
  /** Identities allowed to speak for a signed-in person with a user token (default `["console"]`). */
  userTokenIssuers?: readonly string[];
  /**
   * Identities whose request fields naming a person (`approved_by`, `actor` …) are taken as "on behalf of", for
   * calls between services that already verified that person (default `["collections"]`).
   */
  delegates?: readonly string[];
  trustDomain?: string;
  /** Clock skew tolerated on token times, seconds (default 5). */
  clockToleranceSec?: number;
}

/** Claims of a Principal established by `identityAuth`. */
export interface IdentityClaims {
  /** The client identity of the connection (`console`, `collections`, `ops` …). */
  identity: string;
  /** The signed-in person (console user name), when a valid user token came with the call. */
  user?: string;
  /** The person's console role. */
  userRole?: string;
  /** The person's collections agent id, when they are an agent. */
  agentId?: string;
  /** `true` when the identity may speak for people in request fields (see `delegates`). */
  delegate?: "true";
}

/**
 * The auth hook of a service on mutual TLS: identity from the peer certificate, the method's policy, and the
 * person from a user token verified against the public key of that same peer certificate (so no secret is shared).
 */
export function identityAuth(opts: IdentityAuthOptions): AuthHook {
  const trustDomain = opts.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  const issuers = new Set(opts.userTokenIssuers ?? ["console"]);
  const delegates = new Set(opts.delegates ?? ["collections"]);
  const byMethod = new Map<string, readonly string[]>();
  for (const reg of opts.services) {
    assertPolicyCovers(reg.desc, reg.policy);
    for (const m of reg.desc.methods) byMethod.set(`${reg.desc.typeName}/${m.name}`, reg.policy[m.localName]!);
  }
  return async (ctx: AuthContext) => {
    const identity = peerIdentity(ctx.peerCertificate, trustDomain);
    if (!identity)
      return new DomainError(
        "unauthenticated",
        "no verified client certificate: call with a certificate of the platform's CA (mutual TLS)",
        "PEER_IDENTITY_MISSING",
      );
    const allowed = byMethod.get(ctx.method);
    if (!allowed?.includes(identity))
      return new DomainError(
        "permission_denied",
        `${identity} may not call ${ctx.method}`,
        "METHOD_NOT_ALLOWED",
        [],
        { identity, method: ctx.method },
      );
    const claims: IdentityClaims = { identity };
    if (delegates.has(identity)) claims.delegate = "true";
    const token = ctx.metadata.get(USER_TOKEN_HEADER)[0];
    if (token !== undefined) {
      if (!issuers.has(identity))
        return new DomainError("unauthenticated", `${identity} may not speak for a person`, "USER_TOKEN_INVALID");
      const user = await verifyUserToken(String(token), ctx.peerCertificate!, {
        issuer: spiffeUri(identity, trustDomain),
        audience: spiffeUri(opts.self, trustDomain),
        clockToleranceSec: opts.clockToleranceSec ?? 5,
      });
      if (user instanceof DomainError) return user;
      Object.assign(claims, user);
    }
    const principal: Principal = { subject: claims.user ?? identity, claims: claims as unknown as Record<string, string> };
    return principal;
  };
}

async function verifyUserToken(
  token: string,
  cert: PeerCertificate,
  o: { issuer: string; audience: string; clockToleranceSec: number },
): Promise<Pick<IdentityClaims, "user" | "userRole" | "agentId"> | DomainError> {
  try {
    const key = new X509Certificate(cert.raw).publicKey;
    const { payload } = await jwtVerify(token, key, {
      issuer: o.issuer,
      audience: o.audience,
      algorithms: ["ES256"],
      clockTolerance: o.clockToleranceSec,
      requiredClaims: ["sub", "exp", "iat"],
      maxTokenAge: "5m",
    });
    const out: Pick<IdentityClaims, "user" | "userRole" | "agentId"> = { user: String(payload.sub) };
    if (typeof payload.role === "string") out.userRole = payload.role;
    if (typeof payload.agent_id === "string" && payload.agent_id) out.agentId = payload.agent_id;
    return out;
  } catch (e) {
    return new DomainError("unauthenticated", `user token refused: ${(e as Error).message}`, "USER_TOKEN_INVALID");
  }
}

/**
 * The auth hook of the explicit development mode (plaintext, no certificates): every call proceeds, the
 * principal says it is unverified, and request fields naming an actor are taken as given.
 */
export const developmentAuth: AuthHook = () => ({
  subject: "unverified",
  claims: { identity: "unverified", delegate: "true" },
});

/** Who acted, for an audit record. */
export interface VerifiedActor {
  /** The person (console user, or a person a trusted service speaks for) or, with no person, the identity. */
  actor: string;
  /** The client identity the call came through (`console`, `collections`, `ops` …; `unverified` in development). */
  via: string;
  /** The person's collections agent id, when the console says they are one. */
  agentId?: string;
}

/**
 * The actor of a call, from the verified identity — never from the request. `claimed` is what a request field
 * says (`actor`, `approved_by`, `agent_id` …): it is used only when the caller is a trusted delegate (a service
 * speaking for a person it verified, or development mode); otherwise it is ignored and the verified actor is
 * recorded (the decision is written down in docs/architecture.md, "Trust").
 */
export function verifiedActor(ctx: Pick<CallContext, "principal">, claimed?: string): VerifiedActor {
  const c = (ctx.principal?.claims ?? {}) as Partial<IdentityClaims>;
  const via = c.identity ?? "unverified";
  if (c.user) return { actor: c.user, via, ...(c.agentId ? { agentId: c.agentId } : {}) };
  if (c.delegate === "true" && claimed) return { actor: claimed, via };
  return { actor: via, via };
}

/** `permissionDenied` re-exported for policy helpers. */
export { permissionDenied };

/**
 * The actor to write in an audit record: `<client>:<person>` when a person acted through a client
 * (`console:alice`, `collections:agent-m1-1`), the identity alone when none did (`ops`). `claimed` (a request
 * field) counts only as `verifiedActor` allows; in development mode (no identities) it is written as given.
 */
export function auditActor(ctx: Pick<CallContext, "principal">, claimed?: string): string {
  const v = verifiedActor(ctx, claimed);
  if (v.via === "unverified") return claimed ?? "";
  return v.actor === v.via ? v.actor : `${v.via}:${v.actor}`;
}

/**
 * The collections agent acting: the agent id in the console's token when the signed-in person is an agent
 * (a request field naming another agent is ignored), otherwise the requested one (a supervisor or a tool acting
 * for an agent's case).
 */
export function actingAgent(ctx: Pick<CallContext, "principal">, requested: string): string {
  return verifiedActor(ctx).agentId ?? requested;
}
