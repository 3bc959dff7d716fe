/**
 * Promoting a challenger to champion (issue 18.2): the promotion is a new audited version (who, when, why, before and
 * after versions, both strategy ids, both tables), cases opened afterwards follow the promoted strategy while open
 * cases keep theirs, and a stale version, an unknown challenger or a missing reason change nothing.
 */
import { DomainError } from "@whiteslip/core";
import { describe, expect, it } from "vitest";
import { handleOverdue } from "../src/app/handle-overdue";
import { listStrategyChanges } from "../src/app/list-strategy-changes";
import { promoteChallenger } from "../src/app/promote-challenger";
import { getCollectionsStats } from "../src/app/queries";
import { updateStrategies } from "../src/app/update-strategies";
import { accountHashBasisPoints, DEFAULT_CHALLENGER, DEFAULT_CHAMPION, DEFAULT_STRATEGIES } from "../src/domain/strategy";
import { fakeDeps, overdue } from "./fakes";

/** Accounts the default 20 % split sends to the champion (hash ≥ 2000 basis points). */
const championAccounts = (n: number, prefix: string) => {
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) if (accountHashBasisPoints(`${prefix}-${i}`) >= 2000) out.push(`${prefix}-${i}`);
  return out;
};

describe("promoting a challenger to champion", () => {
  it("is audited with the actor, the reason and both versions; new cases follow the promoted strategy", async () => {
    const f = fakeDeps();
    const [before, after] = [championAccounts(3, "before"), championAccounts(3, "after")];
    for (const a of before) await handleOverdue(f.deps, overdue(a, "2026-03-02", 2));
    expect(new Set([...f.cases.docs.values()].map((c) => c.strategyId))).toEqual(new Set(["champion"]));

    f.clock.advance(60_000);
    const r = await promoteChallenger(f.deps, {
      challengerId: DEFAULT_CHALLENGER.id,
      expectedVersion: 1,
      reason: "cure rate +7 pts, p = 0.01 over 8 weeks",
      actor: "console:chen.jie",
    });
    expect(r.current).toMatchObject({ version: 2, updatedBy: "console:chen.jie", updatedAt: f.clock.now() });
    expect(r.current.table).toEqual({ champion: DEFAULT_CHALLENGER, challengers: [], challengerPercent: 0 });
    expect(r.change).toMatchObject({
      kind: "PROMOTION",
      version: 2,
      previousVersion: 1,
      actor: "console:chen.jie",
      at: f.clock.now(),
      reason: "cure rate +7 pts, p = 0.01 over 8 weeks",
      promotedStrategyId: DEFAULT_CHALLENGER.id,
      formerChampionId: "champion",
    });

    // the audit trail: the promotion, newest first, and the version it replaced, with both tables
    const trail = await listStrategyChanges(f.deps, 0, 0);
    expect(trail.map((c) => [c.version, c.kind])).toEqual([
      [2, "PROMOTION"],
      [1, "SEED"],
    ]);
    expect(trail[0]!.table.champion.id).toBe(DEFAULT_CHALLENGER.id);
    expect(trail.find((c) => c.version === trail[0]!.previousVersion)!.table).toEqual(DEFAULT_STRATEGIES);

    // new cases (on accounts the old split gave the champion) follow the promoted strategy; open cases keep theirs
    for (const a of after) await handleOverdue(f.deps, overdue(a, "2026-03-02", 2));
    const byAccount = new Map([...f.cases.docs.values()].map((c) => [c.accountId, c]));
    for (const a of before) expect(byAccount.get(a)!.strategyId).toBe("champion");
    for (const a of after) expect(byAccount.get(a)!.strategyId).toBe(DEFAULT_CHALLENGER.id);
    // tier C at DPD 2: the promoted strategy calls (the former champion would have stayed digital)
    for (const a of after) expect(byAccount.get(a)!.treatment).toBe("AGENT_CALLS");
    for (const a of before) expect(byAccount.get(a)!.treatment).toBe("DIGITAL_ONLY");

    // stats test the arms against the champion in force
    const s = await getCollectionsStats(f.deps);
    expect(s.strategies.find((x) => x.champion)?.strategyId).toBe(DEFAULT_CHALLENGER.id);
    expect(s.strategies.find((x) => x.strategyId === DEFAULT_CHALLENGER.id)!.cureRatePValue).toBe(1);
  });

  it("keeps the former champion as a control challenger when asked, at the same share", async () => {
    const f = fakeDeps();
    const r = await promoteChallenger(f.deps, {
      challengerId: DEFAULT_CHALLENGER.id,
      expectedVersion: 1,
      reason: "keep a control arm",
      actor: "ops",
      keepFormerChampion: true,
    });
    expect(r.current.table).toEqual({ champion: DEFAULT_CHALLENGER, challengers: [DEFAULT_CHAMPION], challengerPercent: 20 });
  });

  it("a stale version, an unknown challenger or no reason: refused, nothing stored, nothing audited", async () => {
    const f = fakeDeps();
    await updateStrategies(f.deps, {
      table: { ...DEFAULT_STRATEGIES, challengerPercent: 10 },
      expectedVersion: 1,
      actor: "risk.rita",
      reason: "smaller test",
    });
    const base = { challengerId: DEFAULT_CHALLENGER.id, reason: "better", actor: "console:chen.jie" };
    const fail = (p: Promise<unknown>) => p.then(() => expect.unreachable("accepted")).catch((e: unknown) => e as DomainError);
    expect(await fail(promoteChallenger(f.deps, { ...base, expectedVersion: 1 }))).toMatchObject({
      kind: "aborted",
      reason: "STALE_STRATEGY_VERSION",
    });
    expect(await fail(promoteChallenger(f.deps, { ...base, challengerId: "nope", expectedVersion: 2 }))).toMatchObject({
      kind: "not_found",
    });
    const e = await fail(promoteChallenger(f.deps, { ...base, reason: " ", actor: "", expectedVersion: 2 }));
    expect(e).toBeInstanceOf(DomainError);
    expect(e.violations.map((v) => v.field)).toEqual(["actor", "reason"]);
    expect(f.strategyTable.stored.version).toBe(2);
    expect((await listStrategyChanges(f.deps, 0, 0)).map((c) => [c.version, c.kind, c.reason])).toEqual([
      [2, "UPDATE", "smaller test"],
      [1, "SEED", ""],
    ]);
  });

  it("validate-only checks a table as a save would and stores nothing", async () => {
    const f = fakeDeps();
    const banned = structuredClone(DEFAULT_STRATEGIES);
    banned.champion.rules[5]!.path = [{ dpd: 1, channel: "SMS", template: "collection-reminder@1", text: "不还款将被列入黑名单" }];
    const e = await updateStrategies(f.deps, { table: banned, expectedVersion: 1, actor: "risk.rita", validateOnly: true }).catch(
      (x: unknown) => x as DomainError,
    );
    expect(e).toBeInstanceOf(DomainError);
    expect((e as DomainError).violations[0]?.description).toMatch(/^CN_TEXT_/);
    const ok = await updateStrategies(f.deps, { table: DEFAULT_STRATEGIES, expectedVersion: 1, actor: "risk.rita", validateOnly: true });
    expect(ok.version).toBe(1);
    expect(f.strategyTable.history).toHaveLength(1);
  });
});
