import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";
import { type Keyring, KeyringError, type KeyringMaterial, LEGACY_KEY_ID, parseKeyring } from "./keyring";

/** A sealed value this keyring cannot open (unknown key id, bad format, or tampered). */
export class SealedValueError extends Error {
  override readonly name = "SealedValueError";
}

function legacyKeys(master: Buffer): { enc: Buffer; mac: Buffer } {
  return {
    enc: createHmac("sha256", master).update("whiteslip/pii/enc/v1").digest(),
    mac: createHmac("sha256", master).update("whiteslip/pii/index/v1").digest(),
  };
}

function normalise(plain: string): string {
  return plain.trim().toUpperCase();
}

/**
 * Field-level encryption of personal data (names, ID numbers, phone, email) at rest, under a keyring.
 *
 * - `encrypt` seals with the active encryption key: AES-256-GCM, a random 96-bit IV per value, the key id bound as
 *   additional authenticated data, stored as `v2:<key id>:<iv>:<tag>:<ciphertext>` (base64url).
 * - `decrypt` opens a value under any key of the ring, and the older `v1:<iv>:<tag>:<ciphertext>` (no key id) under
 *   the ring's `legacyV1` key.
 * - `blindIndex` is a keyed HMAC-SHA256 of the normalised value under the active index key, written
 *   `<index key id>.<hmac>`, so equality lookups ("is this ID number registered?") work without the clear value;
 *   `blindIndexes` gives the value under every index key of the ring (the lookup set while re-indexing).
 */
export class PiiCipher {
  private readonly ring: Keyring;
  private readonly legacy: { enc: Buffer; mac: Buffer } | undefined;

  /** @param keys the keyring (JSON or object); validated here (KeyringError names the bad part). */
  constructor(keys: KeyringMaterial | string) {
    this.ring = parseKeyring(keys);
    this.legacy = this.ring.legacyV1 ? legacyKeys(this.ring.legacyV1) : undefined;
  }

  /** Id of the key new values are encrypted with. */
  get activeKeyId(): string {
    return this.ring.encryption.active;
  }

  /** Id of the key new blind indexes are made with. */
  get activeIndexKeyId(): string {
    return this.ring.index.active;
  }

  /** Encrypts a value under the active key; the same input gives a different output every time. */
  encrypt(plain: string): string {
    const kid = this.ring.encryption.active;
    const iv = randomBytes(12);
    const c = createCipheriv("aes-256-gcm", this.ring.encryption.keys.get(kid)!, iv);
    c.setAAD(Buffer.from(`whiteslip/pii/v2:${kid}`));
    const ct = Buffer.concat([c.update(plain, "utf8"), c.final()]);
    return `v2:${kid}:${iv.toString("base64url")}:${c.getAuthTag().toString("base64url")}:${ct.toString("base64url")}`;
  }

  /** Decrypts a value made by `encrypt` under any key of the ring (or the legacy `v1:` format); throws SealedValueError otherwise. */
  decrypt(sealed: string): string {
    const parts = sealed.split(":");
    let key: Buffer | undefined;
    let aad: Buffer | undefined;
    let iv: string | undefined;
    let tag: string | undefined;
    let ct: string | undefined;
    if (parts[0] === "v2" && parts.length === 5) {
      const kid = parts[1]!;
      key = this.ring.encryption.keys.get(kid);
      if (!key) throw new SealedValueError(`sealed value under key ${kid}, which this keyring does not hold`);
      aad = Buffer.from(`whiteslip/pii/v2:${kid}`);
      [, , iv, tag, ct] = parts;
    } else if (parts[0] === "v1" && parts.length === 4) {
      if (!this.legacy)
        throw new SealedValueError("sealed value in the v1 format, and the keyring has no legacyV1 key");
      key = this.legacy.enc;
      [, iv, tag, ct] = parts;
    } else throw new SealedValueError("not a sealed value (v1 or v2)");
    try {
      const d = createDecipheriv("aes-256-gcm", key, Buffer.from(iv!, "base64url"));
      if (aad) d.setAAD(aad);
      d.setAuthTag(Buffer.from(tag!, "base64url"));
      return Buffer.concat([d.update(Buffer.from(ct!, "base64url")), d.final()]).toString("utf8");
    } catch {
      throw new SealedValueError("sealed value does not authenticate (tampered, or another key)");
    }
  }

  /** Key id of a sealed value (`v1` for the legacy format); undefined when it is not a sealed value. */
  keyIdOf(sealed: string): string | undefined {
    const parts = sealed.split(":");
    if (parts[0] === "v2" && parts.length === 5) return parts[1];
    if (parts[0] === "v1" && parts.length === 4) return LEGACY_KEY_ID;
    return undefined;
  }

  /** The value sealed again under the active key, or null when it already is (rotation; decrypts with any key). */
  reseal(sealed: string): string | null {
    if (this.keyIdOf(sealed) === this.ring.encryption.active) return null;
    return this.encrypt(this.decrypt(sealed));
  }

  /** Blind index of the trimmed, upper-cased value under the active index key: `<key id>.<hmac>`. */
  blindIndex(plain: string): string {
    const kid = this.ring.index.active;
    return this.indexUnder(kid, this.ring.index.keys.get(kid)!, plain);
  }

  /** The value's blind index under every index key of the ring (and the legacy one): what a lookup matches. */
  blindIndexes(plain: string): string[] {
    const out = [this.blindIndex(plain)];
    for (const [kid, key] of this.ring.index.keys)
      if (kid !== this.ring.index.active) out.push(this.indexUnder(kid, key, plain));
    if (this.legacy)
      out.push(createHmac("sha256", this.legacy.mac).update(normalise(plain)).digest("base64url"));
    return out;
  }

  /** Whether a stored blind index was made with the active index key (else re-index it). */
  isCurrentIndex(index: string): boolean {
    return index.startsWith(`${this.ring.index.active}.`);
  }

  private indexUnder(kid: string, key: Buffer, plain: string): string {
    return `${kid}.${createHmac("sha256", key).update(normalise(plain)).digest("base64url")}`;
  }
}

export { KeyringError };
