import { describe, expect, it } from "vitest";
import { TOPIC_CONSUMERS } from "../src/asyncapi";
import {
  type KafkaAclBinding,
  partnerPrincipal,
  partnerPrincipals,
  platformAcls,
  platformPrincipals,
  Topics,
  topicsProducedBy,
} from "../src/index";

const has = (acls: KafkaAclBinding[], principal: string, resourceName: string, operation: string, resourceType = "TOPIC") =>
  acls.some(
    (a) => a.principal === `User:${principal}` && a.resourceName === resourceName && a.operation === operation && a.resourceType === resourceType,
  );

describe("platformAcls", () => {
  const prefix = "t1.";
  const acls = platformAcls({ topicPrefix: prefix, groups: { billing: "t1-billing", credit: "t1-credit" } });

  it("lets only billing write billing's topics (a PaymentReceived from anyone else has no ACL)", () => {
    const topic = prefix + Topics.PaymentReceived.topic;
    const writers = acls.filter((a) => a.resourceName === topic && a.operation === "WRITE").map((a) => a.principal);
    expect(writers).toEqual(["User:billing"]);
    for (const t of topicsProducedBy("billing")) expect(has(acls, "billing", prefix + t, "WRITE")).toBe(true);
    expect(topicsProducedBy("billing")).toContain(Topics.PaymentReceived.topic);
    expect(topicsProducedBy("credit").every((t) => t.startsWith("whiteslip.credit."))).toBe(true);
  });

  it("gives every writer exactly its own domain's topics and the dead-letter topics of its own group", () => {
    for (const a of acls.filter((x) => x.operation === "WRITE")) {
      const service = a.principal.slice("User:".length);
      const own = topicsProducedBy(service).map((t) => prefix + t);
      const dlq = a.resourceName.endsWith(".dlq");
      if (dlq) {
        const group = service === "billing" ? "t1-billing" : service === "credit" ? "t1-credit" : service;
        expect(a.resourceName.endsWith(`.${group}.dlq`), a.resourceName).toBe(true);
      } else {
        expect(own, `${service} writes ${a.resourceName}`).toContain(a.resourceName);
      }
      expect(a.patternType).toBe("LITERAL");
    }
  });

  it("lets a service read exactly what it consumes, with its own group only", () => {
    for (const [name, consumers] of Object.entries(TOPIC_CONSUMERS)) {
      const topic = prefix + Topics[name as keyof typeof Topics].topic;
      for (const s of ["credit", "billing", "notification", "collections", "credit-reporting"]) {
        expect(has(acls, s, topic, "READ"), `${s} reads ${topic}`).toBe(consumers.includes(s as never));
      }
    }
    const groups = acls.filter((a) => a.resourceType === "GROUP" && !a.principal.startsWith("User:partner-"));
    expect(groups.map((g) => `${g.principal}=${g.resourceName}`).sort()).toEqual(
      ["User:billing=t1-billing", "User:collections=collections", "User:credit-reporting=credit-reporting", "User:credit=t1-credit", "User:notification=notification"].sort(),
    );
    expect(groups.every((g) => g.patternType === "LITERAL" && g.operation === "READ")).toBe(true);
  });

  it("lets a service read (and create) the replay topics of its own group, which only the admin writes", () => {
    const replay = `${prefix}${Topics.Overdue.topic}.collections.replay`;
    expect(has(acls, "collections", replay, "READ")).toBe(true);
    expect(has(acls, "collections", replay, "CREATE")).toBe(true);
    expect(acls.some((a) => a.resourceName.endsWith(".replay") && a.operation === "WRITE")).toBe(false);
    expect(acls.filter((a) => a.resourceName.endsWith(".replay")).every((a) => a.resourceName.endsWith(".collections.replay") ? a.principal === "User:collections" : true)).toBe(true);
    // billing reads with its own group, so its replay topics carry that group
    const billingReplays = acls.filter((a) => a.principal === "User:billing" && a.resourceName.endsWith(".replay"));
    expect(billingReplays.length).toBeGreaterThan(0);
    expect(billingReplays.every((a) => a.resourceName.endsWith(".t1-billing.replay"))).toBe(true);
  });

  it("gives each partner READ on its one topic and groups named after itself, nothing else", () => {
    const partner = partnerPrincipal("PaymentReceived");
    expect(partner).toBe("partner-payment-received");
    const mine = acls.filter((a) => a.principal === `User:${partner}`);
    expect(mine).toEqual([
      { principal: `User:${partner}`, resourceType: "GROUP", patternType: "PREFIXED", resourceName: `${partner}.`, operation: "READ" },
      { principal: `User:${partner}`, resourceType: "TOPIC", patternType: "LITERAL", resourceName: prefix + Topics.PaymentReceived.topic, operation: "READ" },
    ]);
    expect(partnerPrincipals()).toHaveLength(Object.keys(Topics).length);
    expect(new Set(platformPrincipals()).size).toBe(5 + Object.keys(Topics).length);
  });

  it("names every resource under the platform's prefix, so each platform on a cluster has a set of its own", () => {
    const other = platformAcls({ topicPrefix: "t2.", partners: false });
    for (const a of acls.filter((x) => x.resourceType === "TOPIC")) expect(a.resourceName.startsWith(prefix)).toBe(true);
    for (const a of other.filter((x) => x.resourceType === "TOPIC")) expect(a.resourceName.startsWith("t2.")).toBe(true);
    expect(other.some((a) => a.principal.startsWith("User:partner-"))).toBe(false);
  });
});

describe("TOPIC_CONSUMERS, which the ACLs are made from", () => {
  it("lists exactly the topics each service subscribes to in its source (else the broker would refuse it)", async () => {
    const { readdir, readFile } = await import("node:fs/promises");
    const { join } = await import("node:path");
    const root = join(import.meta.dirname, "../../../services");
    const files = async (dir: string): Promise<string[]> =>
      (await readdir(dir, { withFileTypes: true, recursive: true }))
        .filter((e) => e.isFile() && e.name.endsWith(".ts"))
        .map((e) => join(e.parentPath, e.name));
    for (const service of ["credit", "billing", "notification", "collections", "credit-reporting"] as const) {
      const subscribed = new Set<string>();
      for (const f of await files(join(root, service, "src"))) {
        for (const m of (await readFile(f, "utf8")).matchAll(/subscribe\(Topics\.([A-Za-z]+)/g)) subscribed.add(m[1]!);
      }
      const listed = Object.entries(TOPIC_CONSUMERS)
        .filter(([, consumers]) => (consumers as readonly string[]).includes(service))
        .map(([name]) => name);
      expect([...subscribed].sort(), service).toEqual(listed.sort());
    }
  });
});
