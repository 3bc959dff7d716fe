import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ensureLocalPki, identityFromSubjectAltName, spiffeId } from "../src/index";

const DAY = 86_400_000;

describe("local PKI", () => {
  it("issues a CA and one certificate per identity, keys mode 0600, identity in the URI SAN", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pki-"));
    const pki = await ensureLocalPki({ dir, names: ["billing", "ops"] });
    expect(pki.issued).toEqual(["ca", "billing", "ops"]);
    const ca = new X509Certificate(readFileSync(pki.caFile));
    expect(ca.ca).toBe(true);
    for (const name of ["billing", "ops"]) {
      const f = pki.files(name);
      const leaf = new X509Certificate(readFileSync(f.cert));
      expect(leaf.checkIssued(ca)).toBe(true);
      expect(leaf.verify(ca.publicKey)).toBe(true);
      expect(leaf.ca).toBe(false);
      expect(identityFromSubjectAltName(leaf.subjectAltName)).toBe(name);
      expect(leaf.subjectAltName).toContain("IP Address:127.0.0.1");
      expect(statSync(f.key).mode & 0o777).toBe(0o600);
      expect(leaf.checkPrivateKey((await import("node:crypto")).createPrivateKey(readFileSync(f.key)))).toBe(true);
    }
  });

  it("keeps valid certificates and re-issues those near expiry", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pki-"));
    const t0 = new Date("2026-12-01T00:00:00Z");
    await ensureLocalPki({ dir, names: ["credit"], now: t0, leafDays: 30 });
    const before = readFileSync(join(dir, "credit.pem"), "utf8");
    const again = await ensureLocalPki({ dir, names: ["credit"], now: new Date(t0.getTime() + 5 * DAY), leafDays: 30 });
    expect(again.issued).toEqual([]);
    expect(readFileSync(join(dir, "credit.pem"), "utf8")).toBe(before);
    const later = await ensureLocalPki({ dir, names: ["credit"], now: new Date(t0.getTime() + 25 * DAY), leafDays: 30 });
    expect(later.issued).toEqual(["credit"]);
    expect(readFileSync(join(dir, "credit.pem"), "utf8")).not.toBe(before);
  });

  it("re-issues every leaf when the CA is re-issued", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pki-"));
    const t0 = new Date("2026-12-01T00:00:00Z");
    await ensureLocalPki({ dir, names: ["credit"], now: t0, caDays: 30, leafDays: 30 });
    const r = await ensureLocalPki({ dir, names: ["credit"], now: new Date(t0.getTime() + 40 * DAY), caDays: 30 });
    expect(r.issued).toEqual(["ca", "credit"]);
  });

  it("reads exactly one identity of the trust domain from a SAN", () => {
    expect(identityFromSubjectAltName(`URI:${spiffeId("console")}, DNS:console`)).toBe("console");
    expect(identityFromSubjectAltName("URI:spiffe://other.domain/console")).toBeUndefined();
    expect(identityFromSubjectAltName(`URI:${spiffeId("a")}, URI:${spiffeId("b")}`)).toBeUndefined();
    expect(identityFromSubjectAltName("DNS:billing")).toBeUndefined();
    expect(identityFromSubjectAltName(undefined)).toBeUndefined();
  });
});
