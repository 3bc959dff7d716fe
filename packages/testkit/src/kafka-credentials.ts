import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { type KafkaCredentials, type KafkaSasl, parseKafkaCredentials, saslEnv, saslFor } from "@whiteslip/config";
import type { SASLOptions } from "kafkajs";
import { withFileLock } from "./lock";
import { cacheRoot } from "./paths";

/** The local broker's super user. */
export const KAFKA_ADMIN_PRINCIPAL = "admin";

/** Where the local broker's credentials live: `<cache>/kafka-credentials.json`. */
export function kafkaCredentialsPath(root = cacheRoot()): string {
  return join(root, "kafka-credentials.json");
}

/** A random password: 24 bytes, URL-safe base64 (no character SCRAM or JAAS would need escaped). */
export function randomPassword(): string {
  return randomBytes(24).toString("base64url");
}

/**
 * The local broker's credentials: a random password per principal, generated once into
 * `file` (mode 0600) and kept; a principal added later gets a password on the next call.
 * Never in the repository.
 */
export async function ensureKafkaCredentials(
  principals: readonly string[],
  file = kafkaCredentialsPath(),
): Promise<KafkaCredentials> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  return withFileLock(`${file}.lock`, async () => {
    let current: KafkaCredentials | undefined;
    try {
      current = parseKafkaCredentials(await readFile(file, "utf8"), file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    const creds: KafkaCredentials = current ?? {
      mechanism: "scram-sha-512",
      admin: KAFKA_ADMIN_PRINCIPAL,
      passwords: { [KAFKA_ADMIN_PRINCIPAL]: randomPassword() },
    };
    const missing = principals.filter((p) => creds.passwords[p] === undefined);
    for (const p of missing) creds.passwords[p] = randomPassword();
    if (!current || missing.length > 0) {
      const tmp = `${file}.${process.pid}.tmp`;
      const { file: _omit, ...stored } = creds;
      await writeFile(tmp, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
      await chmod(tmp, 0o600);
      await rename(tmp, file);
    }
    await chmod(file, 0o600);
    return { ...creds, file };
  });
}

/** A broker and, when it needs SASL, its principals (a test's or a bench's infrastructure). */
export interface KafkaEndpoints {
  kafkaBrokers: string[];
  kafkaCredentials?: KafkaCredentials;
}

/**
 * SASL settings for a Kafka client of a test: the admin's (a super user) unless `principal` is
 * named; undefined when the broker takes unauthenticated clients.
 */
export function kafkaSasl(infra: KafkaEndpoints, principal?: string): KafkaSasl | undefined {
  const creds = infra.kafkaCredentials;
  return creds ? saslFor(creds, principal ?? creds.admin) : undefined;
}

/** `brokers` + `sasl` for `new Kafka({...})`, as `principal` (default the admin). */
export function kafkaClientConfig(infra: KafkaEndpoints, principal?: string): { brokers: string[]; sasl?: SASLOptions } {
  const sasl = kafkaSasl(infra, principal);
  return { brokers: infra.kafkaBrokers, ...(sasl ? { sasl: sasl as SASLOptions } : {}) };
}

/** KAFKA_BROKERS and KAFKA_SASL_* for a service started in a test, as `principal` (default the admin). */
export function kafkaEnv(infra: KafkaEndpoints, principal?: string): Record<string, string> {
  return { KAFKA_BROKERS: infra.kafkaBrokers.join(","), ...saslEnv(kafkaSasl(infra, principal)) };
}

