/** For tests only (`@whiteslip/pii/testing`): data in the formats older versions wrote, to prove they are still read. */
import { createCipheriv, createHmac, randomBytes } from "node:crypto";

/** A value in the `v1:` format of the versions before key ids (encryption key derived from one PII_KEY). */
export function sealV1(masterBase64: string, plain: string): string {
  const enc = createHmac("sha256", Buffer.from(masterBase64, "base64"))
    .update("whiteslip/pii/enc/v1")
    .digest();
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", enc, iv);
  const ct = Buffer.concat([c.update(plain, "utf8"), c.final()]);
  return `v1:${iv.toString("base64url")}:${c.getAuthTag().toString("base64url")}:${ct.toString("base64url")}`;
}
