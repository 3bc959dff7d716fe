import { randomBytes } from "node:crypto";
import {
  chmodSync,
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { generateKeyring, KeyringError, type KeyringMaterial, parseKeyring } from "./keyring";

/**
 * Where a service gets its keys. Production uses a Secret (mounted file or environment) or a KMS-style provider;
 * a local run generates keys once into the machine's cache.
 */
export interface KeyProvider {
  /** Says where the keys come from, for the start-up log (never a key). */
  readonly source: string;
  /** Whether production may use it (a generated local key may not). */
  readonly production: boolean;
  /** The key material (validated by the caller). */
  load(): Promise<KeyringMaterial>;
}

/** The keyring JSON in an environment variable (a Kubernetes Secret through `secretKeyRef`). */
export class EnvKeyProvider implements KeyProvider {
  readonly production = true;
  constructor(
    private readonly json: string,
    readonly source = "environment PII_KEYRING",
  ) {}
  async load(): Promise<KeyringMaterial> {
    return toMaterial(this.json, this.source);
  }
}

/**
 * The keyring from a mounted Secret: a JSON file, or a directory holding `encryption.json` and `index.json` (each a
 * `{ active, keys }` set) and optionally `legacyV1` — so the blind-index keys can live in a Secret key of their own.
 * The kubelet updates the files in place when the Secret changes; a service reads them at start.
 */
export class FileKeyProvider implements KeyProvider {
  readonly production = true;
  constructor(private readonly path: string) {}
  get source(): string {
    return `mounted ${this.path}`;
  }
  async load(): Promise<KeyringMaterial> {
    if (!statSync(this.path).isDirectory()) return toMaterial(readFileSync(this.path, "utf8"), this.source);
    const part = (name: string) =>
      toMaterial(readFileSync(join(this.path, name), "utf8"), join(this.path, name));
    const legacy = join(this.path, "legacyV1");
    return {
      encryption: part("encryption.json") as unknown as KeyringMaterial["encryption"],
      index: part("index.json") as unknown as KeyringMaterial["index"],
      ...(existsSync(legacy) ? { legacyV1: readFileSync(legacy, "utf8").trim() } : {}),
    };
  }
}

/**
 * A key-management service that unwraps data keys (envelope encryption: the keyring file holds the keys wrapped by
 * the KMS, the KMS's master key never leaves it). An adapter per KMS (Alibaba Cloud KMS, AWS KMS, Vault transit)
 * implements this; none is shipped in this repository.
 */
export interface KmsClient {
  /** The plaintext of a data key the KMS wrapped; `context` is the encryption context it was wrapped with. */
  decrypt(wrapped: Buffer, context: Record<string, string>): Promise<Buffer>;
}

/** Keyring material whose keys are KMS-wrapped (base64 of the KMS ciphertext) instead of plain keys. */
export class KmsKeyProvider implements KeyProvider {
  readonly production = true;
  constructor(
    private readonly kms: KmsClient,
    private readonly wrapped: () => Promise<KeyringMaterial>,
    readonly source = "KMS-wrapped keyring",
  ) {}
  async load(): Promise<KeyringMaterial> {
    const w = await this.wrapped();
    const unwrap = async (kind: string, set: KeyringMaterial["encryption"]) => {
      const keys: Record<string, string> = {};
      for (const [id, b64] of Object.entries(set.keys))
        keys[id] = (
          await this.kms.decrypt(Buffer.from(b64, "base64"), { purpose: `whiteslip/pii/${kind}`, keyId: id })
        ).toString("base64");
      return { active: set.active, keys };
    };
    return {
      encryption: await unwrap("encryption", w.encryption),
      index: await unwrap("index", w.index),
      ...(w.legacyV1
        ? {
            legacyV1: (
              await this.kms.decrypt(Buffer.from(w.legacyV1, "base64"), {
                purpose: "whiteslip/pii/legacy-v1",
                keyId: "v1",
              })
            ).toString("base64"),
          }
        : {}),
    };
  }
}

/**
 * The local run's keys: generated once (random) into `<dir>/pii-keyring.json`, mode 0600, and read by every
 * service of the machine afterwards, so a restarted local platform still reads its data. Five services starting at
 * once agree on one file (it is created with an atomic link; the losers read the winner's). A file readable by
 * group or others is refused. Never for production.
 */
export class LocalKeyProvider implements KeyProvider {
  readonly production = false;
  readonly path: string;
  constructor(dir: string) {
    this.path = join(dir, "pii-keyring.json");
  }
  get source(): string {
    return `local keyring ${this.path} (generated once, mode 0600)`;
  }
  async load(): Promise<KeyringMaterial> {
    return readLocalKeyring(this.path) ?? createLocalKeyring(this.path);
  }
  /** Writes new material over the file (the rotation commands use it), keeping mode 0600. */
  save(m: KeyringMaterial): void {
    parseKeyring(m);
    writeKeyringFile(this.path, m);
  }
}

function toMaterial(json: string, source: string): KeyringMaterial {
  try {
    return JSON.parse(json) as KeyringMaterial;
  } catch {
    throw new KeyringError(`${source}: not valid JSON`);
  }
}

function readLocalKeyring(path: string): KeyringMaterial | undefined {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  if ((mode & 0o077) !== 0)
    throw new KeyringError(
      `${path}: readable by group or others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`,
    );
  return toMaterial(readFileSync(path, "utf8"), path);
}

function createLocalKeyring(path: string): KeyringMaterial {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(generateKeyring(), null, 2)}\n`, { mode: 0o600, flag: "wx" });
  try {
    linkSync(tmp, path); // fails with EEXIST when another process made it first
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  } finally {
    unlinkSync(tmp);
  }
  return readLocalKeyring(path)!;
}

/** Replaces a keyring file atomically (write a 0600 temporary, rename over). */
export function writeKeyringFile(path: string, m: KeyringMaterial): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(m, null, 2)}\n`, { mode: 0o600, flag: "wx" });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path); // atomic replace on POSIX
}

/** The settings that choose a provider (from the validated configuration). */
export interface KeySettings {
  NODE_ENV: "development" | "test" | "production";
  /** Keyring JSON (a Secret through the environment). */
  PII_KEYRING?: string | undefined;
  /** Path of a keyring JSON file (a mounted Secret). */
  PII_KEYRING_PATH?: string | undefined;
}

/**
 * The provider the settings name: PII_KEYRING_PATH, else PII_KEYRING, else (outside production only) the local
 * keyring in `localDir`. Production without a Secret fails, naming the variables.
 */
export function keyProviderFor(s: KeySettings, localDir: string): KeyProvider {
  if (s.PII_KEYRING_PATH && s.PII_KEYRING)
    throw new KeyringError("set one of PII_KEYRING_PATH and PII_KEYRING, not both");
  if (s.PII_KEYRING_PATH) return new FileKeyProvider(s.PII_KEYRING_PATH);
  if (s.PII_KEYRING) return new EnvKeyProvider(s.PII_KEYRING);
  if (s.NODE_ENV === "production")
    throw new KeyringError(
      "production needs the personal-data keys from a Secret: PII_KEYRING_PATH (mounted) or PII_KEYRING (environment); see packages/pii/README.md",
    );
  return new LocalKeyProvider(localDir);
}
