import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";

/**
 * Field-level encryption of personal data (names, ID numbers, phone, email)
 * at rest: AES-256-GCM with a random 96-bit IV per value, stored as
 * `v1:<iv>:<tag>:<ciphertext>` (base64url). `blindIndex` gives a keyed
 * HMAC-SHA256 of a normalised value so equality lookups (e.g. "is this ID
 * number registered?") work without storing the clear value.
 */
export class PiiCipher {
  private readonly encKey: Buffer;
  private readonly macKey: Buffer;

  /** @param keyBase64 32 random bytes, base64; encryption and index keys are derived from it. */
  constructor(keyBase64: string) {
    const master = Buffer.from(keyBase64, "base64");
    if (master.length !== 32) throw new RangeError(`PII key must be 32 bytes (base64), got ${master.length}`);
    this.encKey = createHmac("sha256", master).update("whiteslip/pii/enc/v1").digest();
    this.macKey = createHmac("sha256", master).update("whiteslip/pii/index/v1").digest();
  }

  /** Encrypts a value; the same input gives a different output every time. */
  encrypt(plain: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv("aes-256-gcm", this.encKey, iv);
    const ct = Buffer.concat([c.update(plain, "utf8"), c.final()]);
    return `v1:${iv.toString("base64url")}:${c.getAuthTag().toString("base64url")}:${ct.toString("base64url")}`;
  }

  /** Decrypts a value made by `encrypt`; throws if it was tampered with. */
  decrypt(sealed: string): string {
    const [v, iv, tag, ct] = sealed.split(":");
    if (v !== "v1" || !iv || !tag || ct === undefined) throw new Error("not a v1 sealed value");
    const d = createDecipheriv("aes-256-gcm", this.encKey, Buffer.from(iv, "base64url"));
    d.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([d.update(Buffer.from(ct, "base64url")), d.final()]).toString("utf8");
  }

  /** Keyed hash of the trimmed, upper-cased value, for equality lookups on encrypted fields. */
  blindIndex(plain: string): string {
    return createHmac("sha256", this.macKey).update(plain.trim().toUpperCase()).digest("base64url");
  }
}

/** A fixed development key: refuse it in production (`NODE_ENV=production`). */
export const DEV_PII_KEY = Buffer.alloc(32, 7).toString("base64");

/** `+86 138****8000` style: keeps country code, first 3 and last 4 digits. */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/[^\d+]/g, "");
  if (digits.length <= 7) return "*".repeat(digits.length);
  return `${digits.slice(0, digits.length - 8)}****${digits.slice(-4)}`;
}

/** `z***@example.com`. */
export function maskEmail(email: string): string {
  const at = email.indexOf("@");
  if (at <= 0) return "***";
  return `${email[0]}***${email.slice(at)}`;
}

/** `1101**********1234`: region prefix and last 4 characters. */
export function maskNationalId(id: string): string {
  if (id.length <= 8) return "*".repeat(id.length);
  return `${id.slice(0, 4)}${"*".repeat(id.length - 8)}${id.slice(-4)}`;
}

/** `张*` / `J*** D***`. */
export function maskName(name: string): string {
  return name
    .split(/\s+/)
    .map((w) => (w.length <= 1 ? w : `${[...w][0]}${"*".repeat(Math.max(1, [...w].length - 1))}`))
    .join(" ");
}
