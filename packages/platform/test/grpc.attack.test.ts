/**
 * Attack suite, gRPC doors: the five services as processes (the harness, mutual TLS with the platform's own CA),
 * tried the way an intruder on the network would — plaintext, a certificate from another CA, no certificate, a
 * real identity outside a method's policy, a forged actor field, a console token replayed on another connection —
 * each expected shut with its exact code, and no money moved by any of them.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentials as grpcCredentials } from "@grpc/grpc-js";
import { billing, collections, credit } from "@whiteslip/contracts";
import {
  type ClientOptions,
  checkHealth,
  createClient,
  GrpcError,
  GrpcStatus,
  listServices,
  USER_TOKEN_HEADER,
  UserTokenSigner,
} from "@whiteslip/grpc";
import { ensureLocalPki, type LocalPki } from "@whiteslip/identity";
import { testInfra } from "@whiteslip/testkit/vitest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { syntheticNationalId } from "../src/demo";
import { credentialsOf } from "../src/driver";
import { openAccount, startTestPlatform, type TestPlatform } from "../src/harness";

const infra = testInfra();
let p: TestPlatform;
let intruder: LocalPki;
let accountId: string;
const START = "2026-12-01";

/** [code, ErrorInfo reason] of a call that must fail. */
async function refusal(call: Promise<unknown>): Promise<[number, string | undefined]> {
  try {
    await call;
  } catch (e) {
    if (e instanceof GrpcError) return [e.code, e.reason];
    throw e;
  }
  throw new Error("the call succeeded");
}

const billingAt = (o: ClientOptions) =>
  createClient(billing.BillingService, `127.0.0.1:${p.ports.billing}`, { deadlineMs: 20_000, ...o });
const repayment = (key: string) => ({ accountId, amountFen: 10_000n, idempotencyKey: key, channel: "wallet" });

beforeAll(async () => {
  p = await startTestPlatform(infra, { start: START, tag: "grpc-attack" });
  intruder = await ensureLocalPki({ dir: mkdtempSync(join(tmpdir(), "intruder-pki-")), names: ["checkout", "ops"] });
  ({ accountId } = await openAccount(p, {
    name: "Attack Test",
    nationalId: syntheticNationalId(77, "19880808"),
    phone: "+8613900139077",
    email: "attack@example.com",
    key: "attack",
  }));
  const auth = await p.clients.credit.authorizePurchase({
    creditLineId: accountId,
    amountFen: 100_000n,
    merchantScenario: credit.MerchantScenario.PLATFORM_RETAIL,
    merchantId: "jd-self",
    orderId: "attack-order",
    idempotencyKey: "attack-auth",
  });
  await p.clients.billing.postPurchase({
    accountId,
    authorizationId: auth.authorizationId,
    amountFen: 100_000n,
    merchantId: "jd-self",
    description: "attack test purchase",
    idempotencyKey: "attack-purchase",
  });
}, 420_000);

afterAll(async () => {
  await p?.stop();
});

describe("gRPC doors", () => {
  it("a plaintext call is refused (no TLS, no call): UNAVAILABLE", async () => {
    const c = billingAt({ credentials: grpcCredentials.createInsecure(), deadlineMs: 5_000 });
    expect((await refusal(c.postRepayment(repayment("plaintext"))))[0]).toBe(GrpcStatus.UNAVAILABLE);
    c.close();
  });

  it("a client certificate from another CA is refused: UNAUTHENTICATED", async () => {
    const f = intruder.files("checkout");
    // the intruder trusts our CA (it is public), but its own certificate is signed by its own CA
    const creds = grpcCredentials.createSsl(readFileSync(p.pki.caFile), readFileSync(f.key), readFileSync(f.cert));
    const c = billingAt({ credentials: creds });
    expect(await refusal(c.postRepayment(repayment("other-ca")))).toEqual([GrpcStatus.UNAUTHENTICATED, "PEER_IDENTITY_MISSING"]);
    c.close();
  });

  it("a TLS call with no client certificate gets UNAUTHENTICATED on a money-moving RPC, health and reflection", async () => {
    const creds = () => grpcCredentials.createSsl(readFileSync(p.pki.caFile));
    const c = billingAt({ credentials: creds() });
    expect(await refusal(c.postRepayment(repayment("no-cert")))).toEqual([GrpcStatus.UNAUTHENTICATED, "PEER_IDENTITY_MISSING"]);
    expect(await refusal(c.waiveFees({ accountId, maxAmountFen: 1n, reason: "x", approvedBy: "x", idempotencyKey: "nc" }))).toEqual([
      GrpcStatus.UNAUTHENTICATED,
      "PEER_IDENTITY_MISSING",
    ]);
    c.close();
    const address = `127.0.0.1:${p.ports.billing}`;
    await expect(listServices(address, 5_000, creds())).rejects.toMatchObject({ code: GrpcStatus.UNAUTHENTICATED });
    expect(await checkHealth(address, "", 5_000, creds())).toBe("UNREACHABLE");
    // the same doors open for any caller with a certificate of the platform's CA
    expect(await listServices(address, 5_000, credentialsOf(p.pki, "ops"))).toContain("whiteslip.billing.v1.BillingService");
  });

  it("a valid service calling a method outside its policy gets PERMISSION_DENIED", async () => {
    const asNotification = billingAt({ credentials: credentialsOf(p.pki, "notification") });
    expect(await refusal(asNotification.postRepayment(repayment("notification")))).toEqual([
      GrpcStatus.PERMISSION_DENIED,
      "METHOD_NOT_ALLOWED",
    ]);
    asNotification.close();
    const asCollections = billingAt({ credentials: credentialsOf(p.pki, "collections") });
    expect(await refusal(asCollections.runEndOfDay({ businessDate: START }))).toEqual([GrpcStatus.PERMISSION_DENIED, "METHOD_NOT_ALLOWED"]);
    asCollections.close();
    const asPartner = billingAt({ credentials: credentialsOf(p.pki, "partner") });
    expect(await refusal(asPartner.waiveFees({ accountId, maxAmountFen: 1n, reason: "x", approvedBy: "x", idempotencyKey: "p" }))).toEqual([
      GrpcStatus.PERMISSION_DENIED,
      "METHOD_NOT_ALLOWED",
    ]);
    asPartner.close();
  });

  it("a console token replayed on another client's connection gets UNAUTHENTICATED", async () => {
    const token = await new UserTokenSigner({ identity: "console", keyFile: p.pki.files("console").key }).sign(
      { username: "alice", role: "supervisor" },
      "collections",
    );
    const c = createClient(collections.CollectionsService, `127.0.0.1:${p.ports.collections}`, {
      credentials: credentialsOf(p.pki, "ops"),
      metadata: { [USER_TOKEN_HEADER]: token },
    });
    expect(await refusal(c.getStrategies({}))).toEqual([GrpcStatus.UNAUTHENTICATED, "USER_TOKEN_INVALID"]);
    c.close();
  });

  it("a forged actor field is ignored: the audit names the verified person and the client they came through", async () => {
    const signer = new UserTokenSigner({ identity: "console", keyFile: p.pki.files("console").key });
    const c = createClient(collections.CollectionsService, `127.0.0.1:${p.ports.collections}`, {
      deadlineMs: 20_000,
      credentials: credentialsOf(p.pki, "console"),
      callMetadata: async () => ({ [USER_TOKEN_HEADER]: await signer.sign({ username: "alice", role: "supervisor" }, "collections") }),
    });
    const before = (await c.getStrategies({})).current!;
    const after = (await c.updateStrategies({ table: before.table, expectedVersion: before.version, actor: "mallory" })).current!;
    expect(after.version).toBe(before.version + 1);
    expect(after.updatedBy).toBe("console:alice");
    expect((await c.getStrategies({})).current!.updatedBy).toBe("console:alice");
    c.close();
  });

  it("no refused PostRepayment moved money; the one allowed caller's did", async () => {
    const before = (await p.clients.billing.getAccountSummary({ accountId })).account!;
    expect(before.totalBalanceFen).toBe(100_000n);
    // the barrier: the storefront's own repayment, processed after every refused one above
    await p.clients.billing.postRepayment({ accountId, amountFen: 1n, idempotencyKey: "attack-legit", channel: "wallet" });
    const after = (await p.clients.billing.getAccountSummary({ accountId })).account!;
    expect(after.totalBalanceFen).toBe(99_999n);
  });
});
