import { readFileSync } from "node:fs";

/**
 * Kafka SASL credentials outside a service: the file a cluster's principals are kept in
 * (the testkit writes the local broker's, mode 0600, into its cache) and the variables that
 * name the principal of a client. A service itself reads only KAFKA_SASL_* (its own principal,
 * validated by `loadConfig`).
 */

/** SASL settings of one Kafka client, in kafkajs' shape. */
export interface KafkaSasl {
  mechanism: "scram-sha-512" | "scram-sha-256" | "plain";
  username: string;
  password: string;
}

/** The principals a Kafka cluster knows and their passwords (one SASL mechanism for all). */
export interface KafkaCredentials {
  mechanism: KafkaSasl["mechanism"];
  /** The super user: creates topics and ACLs; the testkit, int tests and the ops CLI use it. */
  admin: string;
  /** Password of every principal, the admin's included. */
  passwords: Record<string, string>;
  /** File the credentials were read from, if any. */
  file?: string;
}

const MECHANISMS: readonly KafkaSasl["mechanism"][] = ["scram-sha-512", "scram-sha-256", "plain"];

/** SASL settings for `principal`; throws naming the principal when it has no password. */
export function saslFor(creds: KafkaCredentials, principal: string): KafkaSasl {
  const password = creds.passwords[principal];
  if (password === undefined) {
    throw new Error(`no Kafka credentials for principal ${JSON.stringify(principal)}${creds.file ? ` in ${creds.file}` : ""}`);
  }
  return { mechanism: creds.mechanism, username: principal, password };
}

/** The environment variables (KAFKA_SASL_*) that make a service or the ops CLI connect as this principal. */
export function saslEnv(sasl: KafkaSasl | undefined): Record<string, string> {
  if (!sasl) return {};
  return { KAFKA_SASL_MECHANISM: sasl.mechanism, KAFKA_SASL_USERNAME: sasl.username, KAFKA_SASL_PASSWORD: sasl.password };
}

/** Parses a credentials file (`{"mechanism", "admin", "passwords": {principal: password}}`); throws naming what is wrong. */
export function parseKafkaCredentials(text: string, file?: string): KafkaCredentials {
  const where = file ?? "Kafka credentials";
  const raw = JSON.parse(text) as Partial<KafkaCredentials> | null;
  if (!raw || typeof raw !== "object") throw new Error(`${where}: not a JSON object`);
  if (!MECHANISMS.includes(raw.mechanism as KafkaSasl["mechanism"])) {
    throw new Error(`${where}: mechanism must be one of ${MECHANISMS.join(", ")}`);
  }
  if (typeof raw.admin !== "string" || !raw.admin) throw new Error(`${where}: admin must name the super user`);
  const passwords = raw.passwords ?? {};
  for (const [k, v] of Object.entries(passwords)) {
    if (typeof v !== "string" || v.length === 0) throw new Error(`${where}: password of ${k} must be a non-empty string`);
  }
  if (passwords[raw.admin] === undefined) throw new Error(`${where}: no password for the admin ${raw.admin}`);
  return { mechanism: raw.mechanism as KafkaSasl["mechanism"], admin: raw.admin, passwords, ...(file ? { file } : {}) };
}

/**
 * Kafka SASL settings that come with KAFKA_BROKERS from the environment: KAFKA_CREDENTIALS_FILE (every
 * principal of the cluster, so each service of a local platform gets its own) and/or
 * KAFKA_SASL_MECHANISM + KAFKA_SASL_USERNAME + KAFKA_SASL_PASSWORD (the principal that acts: for the
 * testkit and the ops CLI the admin; the password may come from the file). Undefined when none is set:
 * the cluster takes unauthenticated clients.
 */
export function kafkaCredentialsFromEnv(env: Record<string, string | undefined> = process.env): KafkaCredentials | undefined {
  const file = env.KAFKA_CREDENTIALS_FILE?.trim();
  const mechanism = env.KAFKA_SASL_MECHANISM?.trim().toLowerCase();
  const username = env.KAFKA_SASL_USERNAME?.trim();
  const password = env.KAFKA_SASL_PASSWORD || undefined;
  const fromFile = file ? parseKafkaCredentials(readFileSync(file, "utf8"), file) : undefined;
  if (!mechanism && !username && !password) return fromFile;
  const admin = username || fromFile?.admin;
  if (!admin || !(password ?? fromFile?.passwords[admin])) {
    throw new Error(
      "KAFKA_SASL_MECHANISM needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (or a KAFKA_CREDENTIALS_FILE holding that user)",
    );
  }
  const passwords = { ...(fromFile?.passwords ?? {}), ...(password ? { [admin]: password } : {}) };
  // parsed once more: the same checks as a file's (mechanism name, the acting user's password present)
  return parseKafkaCredentials(JSON.stringify({ mechanism: mechanism || fromFile?.mechanism, admin, passwords }), file);
}

/** The SASL settings of the principal the environment names (see {@link kafkaCredentialsFromEnv}). */
export function kafkaSaslFromEnv(env: Record<string, string | undefined> = process.env): KafkaSasl | undefined {
  const creds = kafkaCredentialsFromEnv(env);
  return creds ? saslFor(creds, creds.admin) : undefined;
}
