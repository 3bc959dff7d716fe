import { mkdtempSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ensureKafkaCredentials } from "../src/kafka-credentials";
import { kafkaServerProperties, parseProperties, scramFormatArgs } from "../src/kafka-local";

describe("the local broker's SASL and ACLs", () => {
  const auth = { adminUsername: "admin", adminPassword: "pw_123-abc", mechanism: "SCRAM-SHA-512" as const };
  const props = Object.fromEntries(parseProperties(kafkaServerProperties({ port: 41234, controllerPort: 41235, logDir: "/tmp/x", auth })));

  it("speaks SASL on both listeners, SCRAM to clients, and has no PLAINTEXT listener", () => {
    expect(props).toMatchObject({
      listeners: "CLIENT://127.0.0.1:41234,CONTROLLER://127.0.0.1:41235",
      "advertised.listeners": "CLIENT://127.0.0.1:41234",
      "listener.security.protocol.map": "CONTROLLER:SASL_PLAINTEXT,CLIENT:SASL_PLAINTEXT",
      "inter.broker.listener.name": "CLIENT",
      "listener.name.client.sasl.enabled.mechanisms": "SCRAM-SHA-512",
      "sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-512",
      "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
      "sasl.mechanism.controller.protocol": "PLAIN",
    });
    expect(Object.values(props).join(" ")).not.toMatch(/PLAINTEXT:PLAINTEXT|:PLAINTEXT(,|$)/);
  });

  it("refuses everything without an ACL except to the admin", () => {
    expect(props).toMatchObject({
      "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
      "super.users": "User:admin",
      "allow.everyone.if.no.acl.found": "false",
    });
    // the controller listener knows the admin alone
    expect(props["listener.name.controller.plain.sasl.jaas.config"]).toBe(
      'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="pw_123-abc" user_admin="pw_123-abc";',
    );
  });

  it("creates a SCRAM credential per principal at storage format, and refuses characters it would have to escape", () => {
    expect(scramFormatArgs("SCRAM-SHA-512", { admin: "a1", credit: "c2" })).toEqual([
      "--add-scram",
      "SCRAM-SHA-512=[name=admin,password=a1]",
      "--add-scram",
      "SCRAM-SHA-512=[name=credit,password=c2]",
    ]);
    expect(() => scramFormatArgs("SCRAM-SHA-512", { admin: "a,b=c" })).toThrow(/only/);
    expect(() => kafkaServerProperties({ port: 1, controllerPort: 2, logDir: "/x", auth: { ...auth, adminPassword: 'x";' } })).toThrow();
  });
});

describe("ensureKafkaCredentials", () => {
  it("generates a random password per principal once, mode 0600, and adds new principals later", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "kafka-creds-")), "kafka-credentials.json");
    const first = await ensureKafkaCredentials(["credit", "billing"], file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Object.keys(first.passwords).sort()).toEqual(["admin", "billing", "credit"]);
    expect(new Set(Object.values(first.passwords)).size).toBe(3);
    for (const pw of Object.values(first.passwords)) expect(pw).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const again = await ensureKafkaCredentials(["credit", "billing", "partner-overdue"], file);
    expect(again.passwords.credit).toBe(first.passwords.credit);
    expect(again.passwords.admin).toBe(first.passwords.admin);
    expect(again.passwords["partner-overdue"]).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(JSON.parse(await readFile(file, "utf8")).passwords).toEqual(again.passwords);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});
