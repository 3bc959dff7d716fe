/**
 * The clients the demo and the end-to-end tests drive the platform with. They play several real clients at once
 * — the storefront (`checkout`), a supervisor at the console (`console`, with a signed user token), operations
 * (`ops`) — so each RPC goes through the identity that its service's policy allows (the first of those three
 * the policy names), over mutual TLS like any other client. Nothing here widens a policy.
 */
import type { ChannelCredentials } from "@grpc/grpc-js";
import { clientTlsCredentials, USER_TOKEN_HEADER, type TokenUser, UserTokenSigner } from "@whiteslip/grpc";
import type { LocalPki } from "@whiteslip/identity";
import { type Addresses, type PlatformClients, platformClients } from "@whiteslip/ops";
import { billingPolicy } from "../../../services/billing/src/adapters/grpc-policy";
import { collectionsPolicy } from "../../../services/collections/src/adapters/grpc-policy";
import { creditPolicy } from "../../../services/credit/src/adapters/grpc-policy";
import { creditReportingPolicy } from "../../../services/credit-reporting/src/adapters/grpc-policy";
import { notificationPolicy } from "../../../services/notification/src/adapters/grpc-policy";

const POLICIES: Record<keyof PlatformClients, Readonly<Record<string, readonly string[]>>> = {
  credit: creditPolicy,
  billing: billingPolicy,
  notification: notificationPolicy,
  collections: collectionsPolicy,
  creditReporting: creditReportingPolicy,
};

/** Service identity (token audience) of each client key. */
const AUDIENCE: Record<keyof PlatformClients, string> = {
  credit: "credit",
  billing: "billing",
  notification: "notification",
  collections: "collections",
  creditReporting: "credit-reporting",
};

const ROLES = ["checkout", "console", "ops"] as const;

/** The person the driver's console calls speak for. */
export const DRIVER_CONSOLE_USER: TokenUser = { username: "demo-supervisor", role: "supervisor" };

/** TLS credentials of `identity` from `pki`. */
export function credentialsOf(pki: LocalPki, identity: string): ChannelCredentials {
  const f = pki.files(identity);
  return clientTlsCredentials({ caFile: pki.caFile, certFile: f.cert, keyFile: f.key });
}

/** Typed clients of the five services, each RPC sent as the identity its policy allows. */
export function driverClients(addr: Addresses, pki: LocalPki, deadlineMs = 10_000): PlatformClients {
  const signer = new UserTokenSigner({ identity: "console", keyFile: pki.files("console").key });
  const as: Record<(typeof ROLES)[number], PlatformClients> = {
    checkout: platformClients(addr, deadlineMs, credentialsOf(pki, "checkout")),
    ops: platformClients(addr, deadlineMs, credentialsOf(pki, "ops")),
    console: consoleClients(addr, deadlineMs, credentialsOf(pki, "console"), signer),
  };
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(POLICIES) as (keyof PlatformClients)[]) {
    const routed: Record<string, unknown> = {
      close: () => {
        for (const r of ROLES) as[r][key].close();
      },
      grpcClient: as.ops[key].grpcClient,
    };
    for (const [method, allowed] of Object.entries(POLICIES[key])) {
      const role = ROLES.find((r) => allowed.includes(r)) ?? "ops";
      const client = as[role][key] as unknown as Record<string, (...a: unknown[]) => unknown>;
      routed[method] = (...a: unknown[]) => client[method]!(...a);
    }
    out[key] = routed;
  }
  return out as unknown as PlatformClients;
}

function consoleClients(addr: Addresses, deadlineMs: number, credentials: ChannelCredentials, signer: UserTokenSigner): PlatformClients {
  const clients = platformClients(addr, deadlineMs, credentials);
  // the same clients, each call carrying the supervisor's token for that service
  for (const key of Object.keys(AUDIENCE) as (keyof PlatformClients)[]) {
    const c = clients[key] as unknown as Record<string, unknown>;
    for (const method of Object.keys(POLICIES[key])) {
      const call = c[method] as (req: unknown, o?: { metadata?: Record<string, string> }) => Promise<unknown>;
      c[method] = async (req: unknown, o: { metadata?: Record<string, string> } = {}) =>
        call(req, {
          ...o,
          metadata: { ...(o.metadata ?? {}), [USER_TOKEN_HEADER]: await signer.sign(DRIVER_CONSOLE_USER, AUDIENCE[key]) },
        });
    }
  }
  return clients;
}
