/**
 * Mutual TLS on a real loopback server: identity from the client certificate's URI SAN, the per-method policy,
 * health/reflection only for authenticated callers, the plaintext health-only listener, and user tokens verified
 * against the certificate of the connection that carries them.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { credit } from "@whiteslip/contracts";
import { ensureLocalPki, type LocalPki } from "@whiteslip/identity";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkHealth,
  clientTlsCredentials,
  createClient,
  GrpcError,
  type GrpcServer,
  identityAuth,
  listServices,
  service,
  startGrpcServer,
  USER_TOKEN_HEADER,
  UserTokenSigner,
  verifiedActor,
  withPolicy,
} from "../src/index";
import { serverTlsCredentials } from "../src/tls";

let pki: LocalPki;
let other: LocalPki;
let server: GrpcServer;
let address: string;
const seen: { actor?: ReturnType<typeof verifiedActor> } = {};

const tls = (p: LocalPki, name: string) => clientTlsCredentials({ caFile: p.caFile, certFile: p.files(name).cert, keyFile: p.files(name).key });
const as = (p: LocalPki, name: string, extra: Partial<Parameters<typeof createClient>[2]> = {}) =>
  createClient(credit.CreditService, address, { deadlineMs: 3_000, credentials: tls(p, name), ...extra });
async function codeOf(p: Promise<unknown>): Promise<[number, string | undefined]> {
  try {
    await p;
    return [grpc.status.OK, undefined];
  } catch (e) {
    if (!(e instanceof GrpcError)) throw e;
    return [e.code, e.reason];
  }
}

beforeAll(async () => {
  pki = await ensureLocalPki({ dir: mkdtempSync(join(tmpdir(), "mtls-")), names: ["credit", "checkout", "ops", "console"] });
  other = await ensureLocalPki({ dir: mkdtempSync(join(tmpdir(), "mtls-other-")), names: ["checkout"] });
  const guarded = withPolicy(
    service(credit.CreditService, {
      authorizePurchase: async () => ({ authorizationId: "a-1", availableFen: 1n }),
      adjustCreditLine: async (req, ctx) => {
        seen.actor = verifiedActor(ctx, req.actor);
        return {};
      },
    }),
    {
      registerCustomer: ["checkout"],
      applyForCredit: ["checkout"],
      getCreditLine: ["checkout", "console", "ops"],
      adjustCreditLine: ["console", "ops"],
      authorizePurchase: ["checkout"],
      releaseAuthorization: ["checkout"],
      getRestrictions: ["checkout", "console", "ops"],
      getReportingIdentities: [],
    },
  );
  server = await startGrpcServer({
    port: 0,
    host: "127.0.0.1",
    services: [guarded],
    credentials: serverTlsCredentials({ caFile: pki.caFile, certFile: pki.files("credit").cert, keyFile: pki.files("credit").key }),
    auth: identityAuth({ self: "credit", services: [guarded] }),
    authenticateBuiltins: true,
    healthPort: 0,
  });
  address = `127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server?.stop(1_000);
});

describe("mutual TLS and per-method policy", () => {
  it("lets an identity in the policy call the method", async () => {
    const c = as(pki, "checkout");
    await expect(c.authorizePurchase({ creditLineId: "l", amountFen: 1n, orderId: "o" })).resolves.toMatchObject({ authorizationId: "a-1" });
    c.close();
  });

  it("refuses an identity outside the policy with PERMISSION_DENIED / METHOD_NOT_ALLOWED", async () => {
    const c = as(pki, "ops");
    expect(await codeOf(c.authorizePurchase({ creditLineId: "l", amountFen: 1n, orderId: "o" }))).toEqual([grpc.status.PERMISSION_DENIED, "METHOD_NOT_ALLOWED"]);
    c.close();
  });

  it("refuses a TLS caller without a client certificate with UNAUTHENTICATED", async () => {
    const c = createClient(credit.CreditService, address, { credentials: grpc.credentials.createSsl(Buffer.from((await import("node:fs")).readFileSync(pki.caFile))) });
    expect(await codeOf(c.authorizePurchase({ creditLineId: "l", amountFen: 1n, orderId: "o" }))).toEqual([grpc.status.UNAUTHENTICATED, "PEER_IDENTITY_MISSING"]);
    c.close();
  });

  it("refuses a client certificate from another CA with UNAUTHENTICATED", async () => {
    const fs = await import("node:fs");
    const creds = grpc.credentials.createSsl(fs.readFileSync(pki.caFile), fs.readFileSync(other.files("checkout").key), fs.readFileSync(other.files("checkout").cert));
    const c = createClient(credit.CreditService, address, { credentials: creds });
    expect(await codeOf(c.authorizePurchase({ creditLineId: "l", amountFen: 1n, orderId: "o" }))).toEqual([grpc.status.UNAUTHENTICATED, "PEER_IDENTITY_MISSING"]);
    c.close();
  });

  it("refuses a plaintext caller (the connection never becomes a call)", async () => {
    const c = createClient(credit.CreditService, address, { deadlineMs: 1_500 });
    const [code] = await codeOf(c.authorizePurchase({ creditLineId: "l", amountFen: 1n, orderId: "o" }));
    expect(code).toBe(grpc.status.UNAVAILABLE);
    c.close();
  });

  it("answers health and reflection to an authenticated caller only; health alone in plaintext on the health port", async () => {
    expect(await checkHealth(address, "", 2_000, tls(pki, "ops"))).toBe("SERVING");
    expect(await listServices(address, 2_000, tls(pki, "ops"))).toContain("whiteslip.credit.v1.CreditService");
    const fs = await import("node:fs");
    expect(await checkHealth(address, "", 2_000, grpc.credentials.createSsl(fs.readFileSync(pki.caFile)))).toBe("UNREACHABLE");
    expect(await checkHealth(`127.0.0.1:${server.healthPort}`)).toBe("SERVING");
    await expect(listServices(`127.0.0.1:${server.healthPort}`, 2_000)).rejects.toMatchObject({ code: grpc.status.UNIMPLEMENTED });
  });
});

describe("people behind the console", () => {
  const user = { username: "alice", role: "supervisor" };
  it("takes the actor from the console's token, not from the request field", async () => {
    const signer = new UserTokenSigner({ identity: "console", keyFile: pki.files("console").key });
    const c = as(pki, "console", { callMetadata: async () => ({ [USER_TOKEN_HEADER]: await signer.sign(user, "credit") }) });
    await c.adjustCreditLine({ creditLineId: "l", newLimitFen: 1n, actor: "mallory", reason: "r", idempotencyKey: "k" });
    expect(seen.actor).toEqual({ actor: "alice", via: "console" });
    c.close();
  });

  it("records the identity itself when no person is named, ignoring a forged field", async () => {
    const c = as(pki, "ops");
    await c.adjustCreditLine({ creditLineId: "l", newLimitFen: 1n, actor: "mallory", reason: "r", idempotencyKey: "k" });
    expect(seen.actor).toEqual({ actor: "ops", via: "ops" });
    c.close();
  });

  it("refuses a console token carried over another client's connection", async () => {
    const signer = new UserTokenSigner({ identity: "console", keyFile: pki.files("console").key });
    const token = await signer.sign(user, "credit");
    const c = as(pki, "ops", { metadata: { [USER_TOKEN_HEADER]: token } });
    expect(await codeOf(c.adjustCreditLine({ creditLineId: "l", newLimitFen: 1n, reason: "r", idempotencyKey: "k" }))).toEqual([grpc.status.UNAUTHENTICATED, "USER_TOKEN_INVALID"]);
    c.close();
  });

  it("refuses a token for another service's audience", async () => {
    const signer = new UserTokenSigner({ identity: "console", keyFile: pki.files("console").key });
    const token = await signer.sign(user, "billing");
    const c = as(pki, "console", { metadata: { [USER_TOKEN_HEADER]: token } });
    expect(await codeOf(c.adjustCreditLine({ creditLineId: "l", newLimitFen: 1n, reason: "r", idempotencyKey: "k" }))).toEqual([grpc.status.UNAUTHENTICATED, "USER_TOKEN_INVALID"]);
    c.close();
  });
});
