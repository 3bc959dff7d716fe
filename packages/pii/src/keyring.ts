import { randomBytes } from "node:crypto";

/**
 * The key material of a deployment, as a Secret or a key provider hands it over (JSON):
 *
 *     { "encryption": { "active": "2026-12", "keys": { "2026-06": "<b64>", "2026-12": "<b64>" } },
 *       "index":      { "active": "idx-1",   "keys": { "idx-1": "<b64>" } },
 *       "legacyV1": "<the PII_KEY of the versions before key ids, while `v1:` values remain>" }
 *
 * Every key is 32 random bytes (base64). Encryption keys and blind-index keys are separate random keys — never
 * derived from one secret — so either can be rotated (or leaked) without the other.
 */
export interface KeyringMaterial {
  /** Keys that encrypt personal data: every one decrypts, the active one encrypts. */
  encryption: KeySet;
  /** Keys of the blind indexes (equality lookups on encrypted fields): the active one indexes new values. */
  index: KeySet;
  /** The single key of the `v1:` format (no key id; encryption and index keys derived from it). Read-only. */
  legacyV1?: string;
}

/** Keys by id and the id of the one in use. */
export interface KeySet {
  active: string;
  keys: Record<string, string>;
}

/** Key id written for a `v1:` value (no id of its own: the legacy key decrypts it). */
export const LEGACY_KEY_ID = "v1";

const KEY_ID = /^[A-Za-z0-9_-]{1,40}$/;

/** A keyring problem; the message names the bad part, never a key. */
export class KeyringError extends Error {
  override readonly name = "KeyringError";
}

function decodeKey(where: string, b64: unknown): Buffer {
  if (typeof b64 !== "string") throw new KeyringError(`${where}: must be a base64 string`);
  const key = Buffer.from(b64, "base64");
  if (key.length !== 32) throw new KeyringError(`${where}: must be 32 bytes (base64), got ${key.length}`);
  return key;
}

function keySet(where: string, s: unknown): { active: string; keys: Map<string, Buffer> } {
  if (!s || typeof s !== "object") throw new KeyringError(`${where}: missing (need { active, keys })`);
  const { active, keys } = s as Partial<KeySet>;
  if (!keys || typeof keys !== "object" || Object.keys(keys).length === 0)
    throw new KeyringError(`${where}.keys: at least one key`);
  const out = new Map<string, Buffer>();
  for (const [id, b64] of Object.entries(keys)) {
    if (!KEY_ID.test(id) || id === LEGACY_KEY_ID)
      throw new KeyringError(
        `${where}.keys: key id ${JSON.stringify(id)} must be 1–40 of A-Z a-z 0-9 _ - and not "v1"`,
      );
    out.set(id, decodeKey(`${where}.keys.${id}`, b64));
  }
  if (typeof active !== "string" || !out.has(active))
    throw new KeyringError(`${where}.active: must name one of its keys (${[...out.keys()].join(", ")})`);
  return { active, keys: out };
}

/** Validated key material: decoded keys, active ids checked, encryption and index keys distinct. */
export interface Keyring {
  readonly encryption: { readonly active: string; readonly keys: ReadonlyMap<string, Buffer> };
  readonly index: { readonly active: string; readonly keys: ReadonlyMap<string, Buffer> };
  readonly legacyV1?: Buffer;
}

/** Validates key material (from JSON or an object); throws KeyringError naming the bad part. */
export function parseKeyring(material: KeyringMaterial | string): Keyring {
  let m: unknown = material;
  if (typeof material === "string") {
    try {
      m = JSON.parse(material);
    } catch {
      throw new KeyringError("keyring: not valid JSON");
    }
  }
  if (!m || typeof m !== "object") throw new KeyringError("keyring: must be an object");
  const o = m as Partial<KeyringMaterial>;
  const encryption = keySet("encryption", o.encryption);
  const index = keySet("index", o.index);
  const seen = new Set([...encryption.keys.values()].map((k) => k.toString("base64")));
  for (const [id, k] of index.keys)
    if (seen.has(k.toString("base64")))
      throw new KeyringError(
        `index.keys.${id}: the same key as an encryption key; blind indexes need their own key`,
      );
  return {
    encryption,
    index,
    ...(o.legacyV1 !== undefined ? { legacyV1: decodeKey("legacyV1", o.legacyV1) } : {}),
  };
}

/** A fresh key id: `<prefix>-<YYYYMMDD>-<6 hex>` (the date says when it was made; the suffix keeps ids unique). */
export function newKeyId(prefix: string, now: Date = new Date()): string {
  return `${prefix}-${now.toISOString().slice(0, 10).replaceAll("-", "")}-${randomBytes(3).toString("hex")}`;
}

/** A fresh 32-byte key, base64. */
export function newKey(): string {
  return randomBytes(32).toString("base64");
}

/** New key material with one random encryption key and one random (separate) index key. */
export function generateKeyring(now: Date = new Date()): KeyringMaterial {
  const enc = newKeyId("pii", now);
  const idx = newKeyId("idx", now);
  return {
    encryption: { active: enc, keys: { [enc]: newKey() } },
    index: { active: idx, keys: { [idx]: newKey() } },
  };
}

/** Which set a rotation step works on. */
export type KeyKind = "encryption" | "index";

/**
 * Adds a random key to one set (not active: every replica must hold a key before any encrypts with it) and
 * returns the new material and the key's id.
 */
export function addKey(
  m: KeyringMaterial,
  kind: KeyKind,
  now: Date = new Date(),
): { material: KeyringMaterial; id: string } {
  const id = newKeyId(kind === "encryption" ? "pii" : "idx", now);
  const material = { ...m, [kind]: { ...m[kind], keys: { ...m[kind].keys, [id]: newKey() } } };
  parseKeyring(material);
  return { material, id };
}

/** Makes a key of the set the one that encrypts (or indexes) from now on. */
export function activateKey(m: KeyringMaterial, kind: KeyKind, id: string): KeyringMaterial {
  if (!(id in m[kind].keys)) throw new KeyringError(`${kind}: no key ${JSON.stringify(id)}`);
  return { ...m, [kind]: { ...m[kind], active: id } };
}

/** Drops a key that is not active (after the re-encryption reported nothing left under it). */
export function retireKey(m: KeyringMaterial, kind: KeyKind, id: string): KeyringMaterial {
  if (id === LEGACY_KEY_ID && kind === "encryption") {
    const { legacyV1: _dropped, ...rest } = m;
    return rest;
  }
  if (!(id in m[kind].keys)) throw new KeyringError(`${kind}: no key ${JSON.stringify(id)}`);
  if (m[kind].active === id) throw new KeyringError(`${kind}: ${id} is active; activate another first`);
  const { [id]: _dropped, ...keys } = m[kind].keys;
  return { ...m, [kind]: { ...m[kind], keys } };
}

/** The ids of a keyring, never its keys (for logs and the CLI). */
export function describeKeyring(m: KeyringMaterial): {
  encryption: { active: string; keys: string[] };
  index: { active: string; keys: string[] };
  legacyV1: boolean;
} {
  return {
    encryption: { active: m.encryption.active, keys: Object.keys(m.encryption.keys) },
    index: { active: m.index.active, keys: Object.keys(m.index.keys) },
    legacyV1: m.legacyV1 !== undefined,
  };
}
