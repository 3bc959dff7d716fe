/**
 * No leaked hold: a credit *process* is killed (SIGKILL) between the group commit's
 * reservations and its authorization records — the test hook AUTHORIZE_TEST_PAUSE_FILE
 * makes the batch stop there and say so — and the sweep of another instance on the
 * same database records the reservation and gives the credit back. A retry of the
 * same key before the sweep is answered with the approval and keeps the hold.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credit } from "@whiteslip/contracts";
import { ManualClock } from "@whiteslip/core";
import { createClient } from "@whiteslip/grpc";
import { freePorts } from "@whiteslip/testkit";
import { eventually, testScope } from "@whiteslip/testkit/vitest";
import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authorizationIdFor } from "../src/app/authorize-purchase";
import { type CreditService, startCredit } from "../src/main";
import { validNationalId } from "./support/fixtures";

const scope = testScope("credit-crash");
// the killed process runs on the real clock: this instance's clock starts there too and is moved past the grace
const clock = new ManualClock(new Date());
const GRACE_MS = 60_000;
let env: Record<string, string>;
let svc: CreditService;
let client: ReturnType<typeof createClient<typeof credit.CreditService>>;
let child: ChildProcess | undefined;
let mongo: MongoClient;

beforeAll(async () => {
  env = scope.serviceEnv("credit", { GRPC_HOST: "127.0.0.1", LOG_LEVEL: "warn", HOLD_SWEEP_INTERVAL_MS: "0", RESCORING_INTERVAL_MS: "0", RESERVATION_SWEEP_GRACE_MS: String(GRACE_MS) });
  svc = await startCredit({ clock, env });
  client = createClient(credit.CreditService, `127.0.0.1:${svc.grpcPort}`, { deadlineMs: 20_000 });
  mongo = await new MongoClient(env.MONGODB_URI!).connect();
});

afterAll(async () => {
  child?.kill("SIGKILL");
  client?.close();
  await svc?.stop();
  await mongo?.close();
});

/** Starts a credit process on the same database that pauses every group commit after its reservations. */
async function startPausingProcess(pauseFile: string) {
  const [port] = await freePorts(1);
  const proc = spawn(process.execPath, ["--import", "tsx", "services/credit/src/main.ts"], {
    cwd: join(import.meta.dirname, "../../.."),
    env: { ...process.env, ...env, GRPC_PORT: String(port), CONSUMER_GROUP: scope.group("crashing"), AUTHORIZE_TEST_PAUSE_FILE: pauseFile, AUTHORIZE_BATCHES_IN_FLIGHT: "2" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  proc.stderr?.on("data", (b) => (stderr += String(b)));
  const c = createClient(credit.CreditService, `127.0.0.1:${port}`, { deadlineMs: 120_000 });
  await eventually(
    "the credit process to answer",
    () => c.getCreditLine({ creditLineId: "none" }).then(() => undefined, (e) => (e.codeName === "NOT_FOUND" ? true : undefined)),
    180_000,
  ).catch((e) => {
    throw new Error(`${e}\n${stderr}`);
  });
  return { proc, client: c };
}

async function openLine(n: number) {
  const nationalId = validNationalId("19850612", "310101", String(n).padStart(3, "0"));
  const c = await client.registerCustomer({ name: "王五", nationalId, phone: "+8613912345678", email: "ww@example.cn", idempotencyKey: nationalId });
  const a = await client.applyForCredit({
    customerId: c.customerId, monthlyIncomeFen: 1_500_000n, employment: credit.Employment.SALARIED, ordersLast12m: 40, spendLast12mFen: 2_500_000n,
    accountAgeMonths: 80, returnsLast12m: 1, ageYears: 40, statementDay: 7, idempotencyKey: `apply-${c.customerId}`,
  });
  return a.creditLine!;
}

const request = (creditLineId: string, key: string) => ({
  creditLineId, amountFen: 12_300n, merchantScenario: credit.MerchantScenario.PLATFORM_RETAIL, merchantId: "m-1", orderId: `o-${key}`, idempotencyKey: key,
});

describe("a credit process killed between the reservation and the authorization record", () => {
  it("leaves a hold that the sweep records and releases; a retry before the sweep gets the approval", async () => {
    const lost = await openLine(901);
    const retried = await openLine(902);
    const dir = mkdtempSync(join(tmpdir(), "credit-crash-"));
    const pauseFile = join(dir, "paused");
    const { proc, client: dying } = await startPausingProcess(pauseFile);
    child = proc;
    // both reserved in the dying process, neither recorded: it stops after the reservations
    const calls = [dying.authorizePurchase(request(lost.creditLineId, "lost")), dying.authorizePurchase(request(retried.creditLineId, "retried"))].map((p) => p.catch((e) => e));
    await eventually("the batch to pause after its reservations", async () => (existsSync(pauseFile) ? true : undefined), 60_000);
    const holds = async (lineId: string) => (await mongo.db(env.MONGODB_DB).collection("credit_lines").findOne({ _id: lineId as never }))?.holds ?? {};
    // the process may have committed the two requests in one batch or in two: wait until both holds are there
    await eventually("both reservations on their lines", async () => (Object.keys(await holds(lost.creditLineId)).length + Object.keys(await holds(retried.creditLineId)).length === 2 ? true : undefined), 60_000);
    expect(Number(readFileSync(pauseFile, "utf8"))).toBe(proc.pid);
    proc.kill("SIGKILL");
    await Promise.all(calls);
    child = undefined;

    const auths = mongo.db(env.MONGODB_DB).collection("authorizations");
    const lostId = authorizationIdFor(lost.creditLineId, "lost");
    expect(await auths.findOne({ _id: lostId as never })).toBeNull();
    expect((await client.getCreditLine({ creditLineId: lost.creditLineId })).creditLine).toMatchObject({ openHoldsFen: 12_300n, availableFen: lost.limitFen - 12_300n });

    // the checkout retries one of them with the same key on a surviving replica: answered, the hold stays
    const again = await client.authorizePurchase(request(retried.creditLineId, "retried"));
    expect(again).toMatchObject({ authorizationId: authorizationIdFor(retried.creditLineId, "retried"), decision: credit.AuthorizationDecision.APPROVED });

    // before the grace the sweep leaves the reservations alone
    clock.set(new Date());
    expect(await svc.sweepReservations()).toBe(0);
    clock.set(new Date(Date.now() + GRACE_MS + 1_000));
    expect(await svc.sweepReservations()).toBe(1);
    expect((await client.getCreditLine({ creditLineId: lost.creditLineId })).creditLine).toMatchObject({ openHoldsFen: 0n, availableFen: lost.limitFen });
    expect(await auths.findOne({ _id: lostId as never })).toMatchObject({ decision: "APPROVED", status: "EXPIRED" });
    // the retried one is an ordinary open authorization
    expect((await client.getCreditLine({ creditLineId: retried.creditLineId })).creditLine).toMatchObject({ openHoldsFen: 12_300n });
    expect(await auths.findOne({ _id: again.authorizationId as never })).toMatchObject({ status: "OPEN" });
    expect(await client.authorizePurchase(request(retried.creditLineId, "retried"))).toEqual(again);
    expect(await mongo.db(env.MONGODB_DB).collection("reservation_intents").countDocuments({ "items.id": lostId })).toBe(0); // checked, forgotten
  });
});
