import { DomainError, ManualClock } from "@whiteslip/core";
import { describe, expect, it } from "vitest";
import { getCadencePolicy } from "../src/app/get-cadence-policy";
import { updateCadencePolicy } from "../src/app/update-cadence-policy";
import { DEFAULT_CADENCE_POLICY, DEFAULTS_REVISION, newDefaultRules, validatePolicy } from "../src/domain/cadence-policy";
import { FakePolicy } from "./fakes";

const clock = new ManualClock(new Date("2026-12-01T02:00:00Z"));

describe("editing the cadence policy table", () => {
  it("stores a valid table with version + 1 and the actor", async () => {
    const p = new FakePolicy();
    const rules = DEFAULT_CADENCE_POLICY.map((r) => (r.id === "overdue-dpd3" ? { ...r, onDpd: [2] } : r));
    const saved = await updateCadencePolicy(p, clock, { rules, expectedVersion: 1, actor: "risk.rita" });
    expect(saved).toMatchObject({ version: 2, updatedBy: "risk.rita", updatedAt: clock.now() });
    expect((await getCadencePolicy(p)).rules.find((r) => r.id === "overdue-dpd3")!.onDpd).toEqual([2]);
  });

  it("refuses bad rows with field violations naming the row and stores nothing", async () => {
    const p = new FakePolicy();
    const rules = DEFAULT_CADENCE_POLICY.map((r, i) =>
      i === 2 ? { ...r, channels: ["FAX" as never], minDpd: 9, maxDpd: 3 } : r,
    );
    const err = await updateCadencePolicy(p, clock, { rules, expectedVersion: 1, actor: "risk.rita" }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).violations.map((v) => v.field)).toEqual([
      "rules[2].channels[0]",
      "rules[2].maxDpd",
    ]);
    expect(p.version).toBe(1);
    expect(p.rules).toEqual([...DEFAULT_CADENCE_POLICY]);
  });

  it("requires an actor, a version and at least one rule", async () => {
    const p = new FakePolicy();
    const err = (await updateCadencePolicy(p, clock, { rules: [], expectedVersion: 0, actor: " " }).catch(
      (e: unknown) => e,
    )) as DomainError;
    expect(err.violations.map((v) => v.field)).toEqual(["actor", "expected_version", "rules"]);
  });

  it("refuses a stale version with ABORTED and keeps the newer table", async () => {
    const p = new FakePolicy();
    const first = DEFAULT_CADENCE_POLICY.slice(0, 3);
    await updateCadencePolicy(p, clock, { rules: first, expectedVersion: 1, actor: "a" });
    const err = (await updateCadencePolicy(p, clock, {
      rules: [...DEFAULT_CADENCE_POLICY],
      expectedVersion: 1,
      actor: "b",
    }).catch((e: unknown) => e)) as DomainError;
    expect(err.kind).toBe("aborted");
    expect(p).toMatchObject({ version: 2, updatedBy: "a", rules: first });
  });
});

describe("default rules added after a table was stored", () => {
  it("offers the rules of later revisions once, and never one the table already has", () => {
    const old = DEFAULT_CADENCE_POLICY.filter((r) => r.id !== "payment-deferred");
    expect(newDefaultRules(old, 1).map((r) => r.id)).toEqual(["payment-deferred"]);
    expect(newDefaultRules(old, DEFAULTS_REVISION)).toEqual([]); // seen (and deleted by a risk manager): stays deleted
    expect(newDefaultRules(DEFAULT_CADENCE_POLICY, 1)).toEqual([]); // already there
    expect(() => validatePolicy([...old, ...newDefaultRules(old, 1)])).not.toThrow();
  });
});

