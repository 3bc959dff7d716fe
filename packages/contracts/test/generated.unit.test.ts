import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { allTopics, billing, Topics } from "../src/index";

const root = resolve(import.meta.dirname, "../../..");
const buf = join(root, "node_modules/.bin/buf");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

describe("generated contracts", () => {
  const out = mkdtempSync(join(tmpdir(), "whiteslip-gen-"));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it("are up to date with proto/ (run `pnpm generate` when this fails)", () => {
    execFileSync(buf, ["generate", "-o", out], { cwd: root, stdio: "pipe", env: { ...process.env, PATH: `${join(root, "node_modules/.bin")}:${process.env.PATH}` } });
    const committedDir = join(root, "packages/contracts/src/gen");
    const freshDir = join(out, "packages/contracts/src/gen");
    const committed = files(committedDir).map((f) => relative(committedDir, f)).sort();
    const fresh = files(freshDir).map((f) => relative(freshDir, f)).sort();
    expect(committed).toEqual(fresh);
    for (const f of fresh) {
      expect(readFileSync(join(committedDir, f), "utf8"), `stale: ${f}`).toBe(readFileSync(join(freshDir, f), "utf8"));
    }
  }, 120_000); // buf generate runs a plugin per file: 5 s on a quiet machine, 40–50 s on a loaded one

  it("pass buf lint (STANDARD)", () => {
    expect(() => execFileSync(buf, ["lint"], { cwd: root, stdio: "pipe" })).not.toThrow();
  }, 60_000);

  it("name topics whiteslip.<domain>.<event-kebab>.v1, with the three fixed names", () => {
    expect(Topics.DueSoon.topic).toBe("whiteslip.billing.due-soon.v1");
    expect(Topics.Overdue.topic).toBe("whiteslip.billing.overdue.v1");
    expect(Topics.PaymentReceived.topic).toBe("whiteslip.billing.payment-received.v1");
    for (const t of allTopics) {
      expect(t.topic).toMatch(/^whiteslip\.[a-z]+\.[a-z]+(-[a-z]+)*\.v1$/);
      expect(t.schema.typeName.startsWith(`whiteslip.${t.domain}.v1.`)).toBe(true);
    }
    expect(new Set(allTopics.map((t) => t.topic)).size).toBe(allTopics.length);
  });

  it("carry the fixed RPC names clients depend on", () => {
    expect(Object.keys(billing.BillingService.method)).toEqual(
      expect.arrayContaining([
        "openAccount",
        "postPurchase",
        "postRepayment",
        "getAccountSummary",
        "listStatements",
        "runEndOfDay",
        "getEndOfDayRun",
        "createRepaymentPlan",
        "waiveFees",
        "getPortfolioStats",
      ]),
    );
  });
});
