/**
 * A key rotation of the credit service on the real database and gRPC: customers registered under the old keys are
 * found (RegisterCustomer returns the same random id) while the restarted service runs with new active encryption
 * and index keys, its start-up sweep moves every stored value and blind index to them, and afterwards the new keys
 * alone read and find everything.
 */
import { credit } from "@whiteslip/contracts";
import { ManualClock } from "@whiteslip/core";
import { createClient } from "@whiteslip/grpc";
import {
  activateKey,
  addKey,
  generateKeyring,
  type KeyringMaterial,
  PiiCipher,
  retireKey,
} from "@whiteslip/pii";
import { testInfra, testScope } from "@whiteslip/testkit/vitest";
import { MongoClient } from "mongodb";
import { afterAll, describe, expect, it } from "vitest";
import { type CreditService, startCredit } from "../src/main";
import { validNationalId } from "./support/fixtures";

const clock = new ManualClock("2026-03-10T02:00:00Z");
let base: Record<string, string>;
let dbName: string;
let running: CreditService | undefined;
let mongo: MongoClient | undefined;

async function start(keys: KeyringMaterial) {
  // one scope for the file: every restart is the same deployment (same database, topics, group), with other keys
  base ??= testScope("credit-keys").serviceEnv("credit", {
    GRPC_HOST: "127.0.0.1",
    HOLD_SWEEP_INTERVAL_MS: "0",
    RESCORING_INTERVAL_MS: "0",
  });
  dbName = base.MONGODB_DB!;
  running = await startCredit({ clock, env: { ...base, PII_KEYRING: JSON.stringify(keys) } });
  const client = createClient(credit.CreditService, `127.0.0.1:${running.grpcPort}`, { deadlineMs: 20_000 });
  return { svc: running, client };
}

const people = [0, 1, 2, 3].map((i) => ({
  name: `轮换客户${i}`,
  nationalId: validNationalId("19880214", "440305", String(400 + i)),
  phone: `+86137000000${10 + i}`,
  email: `rotate${i}@example.cn`,
}));
const register = (c: Awaited<ReturnType<typeof start>>["client"], p: (typeof people)[number]) =>
  c.registerCustomer({ ...p, idempotencyKey: `reg-${p.nationalId}` });

afterAll(async () => {
  await running?.stop();
  await mongo
    ?.db(dbName)
    .dropDatabase()
    .catch(() => undefined);
  await mongo?.close();
});

describe("rotating the personal-data keys of credit", () => {
  it("finds every customer during and after the rotation; the sweep leaves nothing under the old keys", async () => {
    const before = generateKeyring();
    let s = await start(before);
    const ids = [];
    for (const p of people.slice(0, 3)) {
      const r = await register(s.client, p);
      expect(r.created).toBe(true);
      ids.push(r.customerId);
    }
    await s.svc.stop();

    // phase 1 (every replica gets the new keys) and phase 2 (they become active), folded into one restart here
    const e = addKey(before, "encryption");
    const x = addKey(e.material, "index");
    const both = activateKey(activateKey(x.material, "encryption", e.id), "index", x.id);
    s = await start(both);
    // whether or not the sweep has reached them yet, the old customers are found
    expect(await register(s.client, people[0]!)).toMatchObject({ customerId: ids[0], created: false });
    const fresh = await register(s.client, people[3]!);
    expect(fresh.created).toBe(true);
    const [sweep] = await s.svc.service.piiReencryption!.finished();
    expect(sweep).toMatchObject({ _id: "customers", done: true, skipped: 0, target: `${e.id}/${x.id}` });
    // the three old customers moved (the fresh one, stored under the new keys, is scanned or not by then)
    expect(sweep!.reindexed).toBe(3);
    expect(sweep!.resealed).toBe(3 * 4);

    mongo = await MongoClient.connect(testInfra().mongoUri);
    const docs = await mongo.db(dbName).collection("customers").find().toArray();
    const cipher = new PiiCipher(both);
    expect(docs).toHaveLength(4);
    for (const d of docs) {
      for (const f of ["nameEnc", "nationalIdEnc", "phoneEnc", "emailEnc"])
        expect(cipher.keyIdOf(d[f])).toBe(e.id);
      expect(cipher.isCurrentIndex(d.nationalIdIndex)).toBe(true);
      const clear = JSON.stringify(d);
      for (const p of people) for (const v of Object.values(p)) expect(clear).not.toContain(v);
    }
    await s.svc.stop();

    // the old keys retired: the new ones alone read and find everything
    const retired = retireKey(
      retireKey(both, "encryption", before.encryption.active),
      "index",
      before.index.active,
    );
    s = await start(retired);
    for (const [i, p] of people.slice(0, 3).entries())
      expect(await register(s.client, p)).toMatchObject({ customerId: ids[i], created: false });
    expect(await register(s.client, people[3]!)).toMatchObject({
      customerId: fresh.customerId,
      created: false,
    });
    const names = docs.map((d) => new PiiCipher(retired).decrypt(d.nameEnc)).sort();
    expect(names).toEqual(people.map((p) => p.name).sort());
  });
});
