import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  activateKey,
  addKey,
  describeKeyring,
  FileKeyProvider,
  generateKeyring,
  type KeyringMaterial,
  KmsKeyProvider,
  keyProviderFor,
  LocalKeyProvider,
  maskEmail,
  maskName,
  maskNationalId,
  maskPhone,
  PiiCipher,
  retireKey,
} from "../src/index";
import { sealV1 } from "../src/testing";

const key = () => randomBytes(32).toString("base64");

describe("PiiCipher", () => {
  const material = generateKeyring();
  const cipher = new PiiCipher(material);

  it("round-trips, never stores the clear value and names its key", () => {
    const sealed = cipher.encrypt("110101199003074578");
    expect(sealed).not.toContain("110101");
    expect(sealed.startsWith(`v2:${material.encryption.active}:`)).toBe(true);
    expect(cipher.keyIdOf(sealed)).toBe(material.encryption.active);
    expect(cipher.decrypt(sealed)).toBe("110101199003074578");
    expect(cipher.encrypt("x")).not.toBe(cipher.encrypt("x"));
  });

  it("detects tampering, also of the key id", () => {
    const sealed = cipher.encrypt("13800138000");
    const parts = sealed.split(":");
    parts[4] = Buffer.from("13800138001").toString("base64url");
    expect(() => cipher.decrypt(parts.join(":"))).toThrow(/authenticate/);
    // the same key under another id: the id is authenticated data, so the value does not open
    const k = material.encryption.keys[material.encryption.active]!;
    const twin = new PiiCipher({
      ...material,
      encryption: { active: "twin", keys: { twin: k, [material.encryption.active]: k } },
    });
    const relabelled = sealed.replace(`v2:${material.encryption.active}:`, "v2:twin:");
    expect(() => twin.decrypt(relabelled)).toThrow(/authenticate/);
  });

  it("a keyring decrypts with any of its keys and encrypts with the active one; an unknown key id is refused", () => {
    const old = cipher.encrypt("Alice Wang");
    const { material: both, id } = addKey(material, "encryption");
    const rotated = new PiiCipher(activateKey(both, "encryption", id));
    expect(rotated.decrypt(old)).toBe("Alice Wang");
    const fresh = rotated.encrypt("Alice Wang");
    expect(rotated.keyIdOf(fresh)).toBe(id);
    expect(() => cipher.decrypt(fresh)).toThrow(/does not hold/);
    expect(rotated.reseal(fresh)).toBeNull();
    const resealed = rotated.reseal(old)!;
    expect(rotated.keyIdOf(resealed)).toBe(id);
    expect(rotated.decrypt(resealed)).toBe("Alice Wang");
  });

  it("keeps reading the v1 format with the legacy key, and re-seals it under a key id", () => {
    const legacy = key();
    const v1 = sealV1(legacy, "李博");
    expect(() => cipher.decrypt(v1)).toThrow(/legacyV1/);
    const withLegacy = new PiiCipher({ ...material, legacyV1: legacy });
    expect(withLegacy.keyIdOf(v1)).toBe("v1");
    expect(withLegacy.decrypt(v1)).toBe("李博");
    expect(withLegacy.keyIdOf(withLegacy.reseal(v1)!)).toBe(material.encryption.active);
  });

  it("blind index: stable, normalised, under its own key, and the lookup set spans every index key", () => {
    expect(cipher.blindIndex(" 11010119900307457x")).toBe(cipher.blindIndex("11010119900307457X"));
    expect(cipher.blindIndex("a").startsWith(`${material.index.active}.`)).toBe(true);
    // The encryption key alone does not give the index: same encryption key, another index key, another index.
    const otherIndex = new PiiCipher({ ...material, index: { active: "idx-b", keys: { "idx-b": key() } } });
    expect(otherIndex.blindIndex("a")).not.toBe(cipher.blindIndex("a"));
    const { material: two, id } = addKey(material, "index");
    const reindexing = new PiiCipher(activateKey(two, "index", id));
    expect(reindexing.isCurrentIndex(cipher.blindIndex("a"))).toBe(false);
    expect(reindexing.blindIndexes("a")).toEqual([reindexing.blindIndex("a"), cipher.blindIndex("a")]);
  });

  it("refuses a short key, a missing active key, and an index key equal to an encryption key", () => {
    expect(
      () =>
        new PiiCipher({
          ...material,
          encryption: { active: "a", keys: { a: randomBytes(16).toString("base64") } },
        }),
    ).toThrow(/32 bytes/);
    expect(() => new PiiCipher({ ...material, encryption: { active: "b", keys: { a: key() } } })).toThrow(
      /encryption.active/,
    );
    const k = key();
    expect(
      () =>
        new PiiCipher({
          encryption: { active: "a", keys: { a: k } },
          index: { active: "i", keys: { i: k } },
        }),
    ).toThrow(/own key/);
  });

  it("rotation steps: add (inactive), activate, retire; describe never shows a key", () => {
    const { material: added, id } = addKey(material, "encryption");
    expect(added.encryption.active).toBe(material.encryption.active);
    expect(() => retireKey(activateKey(added, "encryption", id), "encryption", id)).toThrow(/active/);
    const retired = retireKey(activateKey(added, "encryption", id), "encryption", material.encryption.active);
    expect(Object.keys(retired.encryption.keys)).toEqual([id]);
    const shown = JSON.stringify(describeKeyring(added));
    for (const k of Object.values(added.encryption.keys)) expect(shown).not.toContain(k);
  });
});

describe("key providers", () => {
  it("production needs a Secret: no local keys, the error names the variables", () => {
    expect(() => keyProviderFor({ NODE_ENV: "production" }, "/nowhere")).toThrow(
      /PII_KEYRING_PATH.*PII_KEYRING/,
    );
    expect(keyProviderFor({ NODE_ENV: "production", PII_KEYRING: "{}" }, "/nowhere").production).toBe(true);
    expect(keyProviderFor({ NODE_ENV: "development" }, "/x")).toBeInstanceOf(LocalKeyProvider);
  });

  it("a local run generates random keys once, mode 0600, and every later load (or racing process) gets the same", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "pii-local-")), "keys");
    const loads = await Promise.all([1, 2, 3, 4, 5].map(() => new LocalKeyProvider(dir).load()));
    for (const m of loads) expect(m).toEqual(loads[0]);
    const path = join(dir, "pii-keyring.json");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual(loads[0]);
    const other = await new LocalKeyProvider(join(mkdtempSync(join(tmpdir(), "pii-local-")), "keys")).load();
    expect(other.encryption.keys).not.toEqual(loads[0]!.encryption.keys);
    chmodSync(path, 0o644);
    await expect(new LocalKeyProvider(dir).load()).rejects.toThrow(/chmod 600/);
  });

  it("a mounted Secret: one JSON file, or a directory with the encryption and index sets in files of their own", async () => {
    const m = { ...generateKeyring(), legacyV1: key() };
    const dir = mkdtempSync(join(tmpdir(), "pii-secret-"));
    writeFileSync(join(dir, "keyring.json"), JSON.stringify(m));
    expect(
      await keyProviderFor(
        { NODE_ENV: "production", PII_KEYRING_PATH: join(dir, "keyring.json") },
        "/x",
      ).load(),
    ).toEqual(m);
    const mounted = join(dir, "mounted");
    mkdirSync(mounted);
    writeFileSync(join(mounted, "encryption.json"), JSON.stringify(m.encryption));
    writeFileSync(join(mounted, "index.json"), JSON.stringify(m.index));
    writeFileSync(join(mounted, "legacyV1"), `${m.legacyV1}\n`);
    const loaded = await new FileKeyProvider(mounted).load();
    expect(loaded).toEqual(m);
    expect(new PiiCipher(loaded).activeIndexKeyId).toBe(m.index.active);
  });

  it("a KMS-style provider unwraps each data key with its context", async () => {
    const plain = generateKeyring();
    const wrap = (b64: string) =>
      Buffer.from(Buffer.from(b64, "base64").map((b) => b ^ 0x5a)).toString("base64");
    const wrapped: KeyringMaterial = {
      encryption: {
        active: plain.encryption.active,
        keys: Object.fromEntries(Object.entries(plain.encryption.keys).map(([k, v]) => [k, wrap(v)])),
      },
      index: {
        active: plain.index.active,
        keys: Object.fromEntries(Object.entries(plain.index.keys).map(([k, v]) => [k, wrap(v)])),
      },
    };
    const contexts: string[] = [];
    const kms = {
      decrypt: async (w: Buffer, ctx: Record<string, string>) => {
        contexts.push(ctx.purpose!);
        return Buffer.from(w.map((b) => b ^ 0x5a));
      },
    };
    expect(await new KmsKeyProvider(kms, async () => wrapped).load()).toEqual(plain);
    expect(contexts).toEqual(["whiteslip/pii/encryption", "whiteslip/pii/index"]);
  });
});

describe("masks", () => {
  it("mask personal data", () => {
    expect(maskPhone("+8613800138000")).toBe("+86138****8000");
    expect(maskEmail("zhang.san@example.com")).toBe("z***@example.com");
    expect(maskNationalId("110101199003074578")).toBe("1101**********4578");
    expect(maskName("张三")).toBe("张*");
  });
});
