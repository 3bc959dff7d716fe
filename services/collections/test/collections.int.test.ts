import { EventBus, encodeEvent, subscribe } from "@whiteslip/bus";
import { billing, collections, Topics } from "@whiteslip/contracts";
import { ManualClock, zonedInstant } from "@whiteslip/core";
import { createClient } from "@whiteslip/grpc";
import { testScope, uniqueName } from "@whiteslip/testkit/vitest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCollections } from "../src/main";
import { overdueData, publish, waitFor } from "./helpers";

const SH = "Asia/Shanghai";
const scope = testScope("collections-int");
const clock = new ManualClock(zonedInstant("2026-03-10", 10, 0, SH));
let svc: Awaited<ReturnType<typeof startCollections>>;
let bus: EventBus;
let client: ReturnType<typeof createClient<typeof collections.CollectionsService>>;

beforeAll(async () => {
  svc = await startCollections({
    clock,
    env: scope.serviceEnv("collections", {
      BILLING_ADDR: "127.0.0.1:1", // no billing here: GetCase shows the case without balances
      PROMISE_CHECK_INTERVAL_MS: "100",
    }),
  });
  bus = await EventBus.connect(scope.busOptions("collections-test"));
  client = createClient(collections.CollectionsService, `127.0.0.1:${svc.grpcPort}`);
});

afterAll(async () => {
  client?.close();
  await bus?.close();
  await svc?.stop();
});

/** Publishes a first Overdue and waits for the case. */
async function openCase(accountId: string): Promise<collections.Case> {
  await publish(bus, Topics.Overdue, uniqueName("ov"), accountId, overdueData(accountId, "2026-03-10", 1));
  const page = await waitFor(
    async () => {
      const r = await client.listCases({ accountId });
      return r.cases.length > 0 && r;
    },
    30_000,
    `case of ${accountId}`,
  );
  return page.cases[0]!;
}

describe("collections on the real broker, database and gRPC", () => {
  it("opens a case once however often Overdue is redelivered, follows DPD, closes on cure", async () => {
    const accountId = uniqueName("acct");
    const seen: { type: string; id: string }[] = [];
    const watcher = bus.consumer({
      groupId: uniqueName("watch"),
      subscriptions: [
        subscribe(
          Topics.CaseOpened,
          async (e) => void (e.key === accountId && seen.push({ type: "opened", id: e.id })),
        ),
        subscribe(
          Topics.CaseClosed,
          async (e) => void (e.key === accountId && seen.push({ type: "closed", id: e.id })),
        ),
      ],
    });
    await watcher.start();
    try {
      const first = overdueData(accountId, "2026-03-10", 1);
      for (let i = 0; i < 3; i++) await publish(bus, Topics.Overdue, `ov-${accountId}-1`, accountId, first);
      await publish(
        bus,
        Topics.Overdue,
        `ov-${accountId}-2`,
        accountId,
        overdueData(accountId, "2026-03-11", 2),
      );
      await publish(bus, Topics.Overdue, `ov-${accountId}-1`, accountId, first); // late redelivery of day 1

      const followed = await waitFor(
        async () => {
          const r = await client.listCases({ accountId });
          return r.cases[0]?.daysPastDue === 2 && r;
        },
        30_000,
        "DPD 2",
      );
      expect(followed.cases).toHaveLength(1);
      expect(followed.cases[0]).toMatchObject({
        status: collections.CaseStatus.OPEN,
        bucket: billing.DelinquencyBucket.M1,
        jurisdiction: "CN",
      });

      await publish(bus, Topics.AccountCured, uniqueName("cure"), accountId, {
        accountId,
        businessDate: "2026-03-12",
      });
      await waitFor(
        async () =>
          (await client.listCases({ accountId })).cases[0]?.status === collections.CaseStatus.CLOSED_CURED,
        30_000,
        "cure",
      );
      const all = await client.listCases({ accountId });
      expect(all.cases).toHaveLength(1);

      // One CaseOpened fact and one CaseClosed fact (delivery is at least once, so count distinct event ids;
      // separate topics have no order between them).
      // Barrier, not a wait: once the relay has published everything committed and the watcher has seen a marker
      // published after it on the same partitions (same key), any second CaseOpened/CaseClosed would have been seen.
      await svc.relay.flush();
      const markers = [uniqueName("marker-opened"), uniqueName("marker-closed")];
      await bus.publish([
        encodeEvent(Topics.CaseOpened, { id: markers[0]!, key: accountId, time: new Date(), data: {} }),
        encodeEvent(Topics.CaseClosed, { id: markers[1]!, key: accountId, time: new Date(), data: {} }),
      ]);
      await waitFor(async () => markers.every((m) => seen.some((s) => s.id === m)), 30_000, "markers on Kafka");
      const facts = seen.filter((s) => !markers.includes(s.id));
      expect([...new Set(facts.map((s) => `${s.type}:${s.id}`))].map((k) => k.split(":")[0]).sort()).toEqual([
        "closed",
        "opened",
      ]);

      const view = await client.getCase({ caseId: all.cases[0]!.caseId });
      expect(view.audit.map((a) => a.action)).toEqual(["CASE_OPENED", "OVERDUE_APPLIED", "CASE_CLOSED"]);
      expect(view.account).toBeUndefined();
    } finally {
      await watcher.stop();
    }
  });

  it("refuses a call at 22:30 local with FAILED_PRECONDITION CN_QUIET_HOURS and records it", async () => {
    clock.set(zonedInstant("2026-03-10", 10, 0, SH));
    const c = await openCase(uniqueName("acct"));
    const assigned = await client.assignCase({ caseId: c.caseId, actor: "supervisor" });
    expect(assigned.case?.agentId).not.toBe("");
    const agentId = assigned.case!.agentId;

    clock.set(zonedInstant("2026-03-10", 22, 30, SH));
    await expect(
      client.logContactAttempt({
        caseId: c.caseId,
        agentId,
        channel: collections.ContactChannel.CALL,
        outcome: collections.ContactOutcome.NO_ANSWER,
        contactParty: "debtor",
        idempotencyKey: "late-call",
      }),
    ).rejects.toMatchObject({ code: 9, reason: "CN_QUIET_HOURS" });
    const view = await client.getCase({ caseId: c.caseId });
    expect(view.attempts).toMatchObject([{ refused: true, refusedRule: "CN_QUIET_HOURS" }]);
    expect(view.audit.at(-1)?.action).toBe("CONTACT_REFUSED");
  });

  it("refuses the seventh unanswered call to a contact in a day", async () => {
    clock.set(zonedInstant("2026-03-10", 10, 0, SH));
    const c = await openCase(uniqueName("acct"));
    const call = (key: string) =>
      client.logContactAttempt({
        caseId: c.caseId,
        agentId: "agent-m1-1",
        channel: collections.ContactChannel.CALL,
        outcome: collections.ContactOutcome.NO_ANSWER,
        contactParty: "debtor",
        idempotencyKey: key,
      });
    for (let i = 1; i <= 6; i++) {
      clock.advance(10 * 60_000);
      expect((await call(`call-${i}`)).attempt?.refused).toBe(false);
    }
    clock.advance(10 * 60_000);
    await expect(call("call-7")).rejects.toMatchObject({ code: 9, reason: "CN_DAILY_UNANSWERED_CALLS" });
    const view = await client.getCase({ caseId: c.caseId });
    expect(view.attempts.filter((a) => !a.refused)).toHaveLength(6);
    expect(view.attempts[0]).toMatchObject({ refused: true, refusedRule: "CN_DAILY_UNANSWERED_CALLS" });
  });

  it("escalates the case when a promise is not met by its date (daily check from main)", async () => {
    clock.set(zonedInstant("2026-03-10", 10, 0, SH));
    const c = await openCase(uniqueName("acct"));
    const { promise } = await client.recordPromiseToPay({
      caseId: c.caseId,
      amountFen: 20_000n,
      promisedDate: "2026-03-11",
      agentId: "agent-m1-1",
      idempotencyKey: "ptp-1",
    });
    expect(promise?.status).toBe(collections.PromiseStatus.PENDING);
    clock.set(zonedInstant("2026-03-11", 23, 0, SH)); // still the promised day: nothing breaks
    // a check that has run at this time (the RPC trigger runs the same check as the background loop)
    expect((await client.runPromiseCheck({})).broken).toBe(0);
    expect((await client.getCase({ caseId: c.caseId })).promises[0]?.status).toBe(
      collections.PromiseStatus.PENDING,
    );

    clock.set(zonedInstant("2026-03-12", 0, 30, SH));
    const view = await waitFor(
      async () => {
        const v = await client.getCase({ caseId: c.caseId });
        return v.promises[0]?.status === collections.PromiseStatus.BROKEN && v;
      },
      20_000,
      "broken promise",
    );
    expect(view.case).toMatchObject({ escalationLevel: 1, treatment: collections.Treatment.AGENT_CALLS });
    expect(view.audit.map((a) => a.action)).toContain("PROMISE_BROKEN");
    expect(view.audit.map((a) => a.action)).toContain("CASE_ESCALATED");
    // The RPC trigger is idempotent: nothing more breaks.
    expect((await client.runPromiseCheck({})).broken).toBe(0);
  });
  it("a risk manager edits the strategy table: bad tables and stale versions change nothing; new cases use it", async () => {
    const got = (await client.getStrategies({})).current!;
    expect(got).toMatchObject({ version: 1, updatedBy: "seed", table: { challengerPercent: 20 } });
    expect(got.table!.champion!.id).toBe("champion");

    const bad = structuredClone(got.table!);
    bad.challengerPercent = 150;
    bad.champion!.rules[0]!.treatment = collections.Treatment.UNSPECIFIED;
    await expect(
      client.updateStrategies({ table: bad, expectedVersion: 1, actor: "risk.rita" }),
    ).rejects.toMatchObject({
      code: 3,
      violations: [{ field: "table.challenger_percent" }, { field: "table.champion.rules[0].treatment" }],
    });
    expect((await client.getStrategies({})).current!.version).toBe(1);

    const allCalls = {
      champion: {
        id: "calls-first",
        description: "calls every M1 case",
        rules: [{ buckets: [billing.DelinquencyBucket.M1], treatment: collections.Treatment.AGENT_CALLS }],
      },
      challengers: [],
      challengerPercent: 0,
    };
    const saved = (await client.updateStrategies({ table: allCalls, expectedVersion: 1, actor: "risk.rita" }))
      .current!;
    expect(saved).toMatchObject({ version: 2, updatedBy: "risk.rita" });
    await expect(
      client.updateStrategies({ table: got.table!, expectedVersion: 1, actor: "risk.other" }),
    ).rejects.toMatchObject({ code: 10 });
    expect((await client.getStrategies({})).current!).toMatchObject({
      version: 2,
      table: { champion: { id: "calls-first" }, challengerPercent: 0 },
    });

    const c = await openCase(uniqueName("acc-strategy"));
    expect(c).toMatchObject({ strategyId: "calls-first", treatment: collections.Treatment.AGENT_CALLS });
  });

  it("a challenger promoted to champion: a new audited version in the database; new cases follow it", async () => {
    const v = (await client.getStrategies({})).current!;
    const digital = {
      id: "digital-first",
      description: "digital only in M1",
      rules: [{ buckets: [billing.DelinquencyBucket.M1], treatment: collections.Treatment.DIGITAL_ONLY }],
    };
    const withChallenger = { champion: v.table!.champion!, challengers: [digital], challengerPercent: 50 };
    const three = (
      await client.updateStrategies({ table: withChallenger, expectedVersion: v.version, actor: "risk.rita", reason: "try digital" })
    ).current!;
    await expect(
      client.promoteChallenger({ challengerId: "digital-first", expectedVersion: v.version, reason: "r", actor: "risk.rita" }),
    ).rejects.toMatchObject({ code: 10 });
    await expect(
      client.promoteChallenger({ challengerId: "nope", expectedVersion: three.version, reason: "r", actor: "risk.rita" }),
    ).rejects.toMatchObject({ code: 5 });
    const p = await client.promoteChallenger({
      challengerId: "digital-first",
      expectedVersion: three.version,
      reason: "cures as many for less",
      actor: "risk.rita",
    });
    expect(p.current).toMatchObject({ version: three.version + 1, updatedBy: "risk.rita", table: { champion: { id: "digital-first" }, challengerPercent: 0 } });
    const changes = (await client.listStrategyChanges({})).changes;
    expect(changes.map((c) => [c.version, c.kind])).toEqual([
      [three.version + 1, collections.StrategyChangeKind.PROMOTION],
      [three.version, collections.StrategyChangeKind.UPDATE],
      [v.version, collections.StrategyChangeKind.UPDATE],
      [1, collections.StrategyChangeKind.SEED],
    ]);
    expect(changes[0]).toMatchObject({
      previousVersion: three.version,
      actor: "risk.rita",
      reason: "cures as many for less",
      promotedStrategyId: "digital-first",
      formerChampionId: "calls-first",
      table: { champion: { id: "digital-first" } },
    });
    expect(changes[1]).toMatchObject({ reason: "try digital", table: { champion: { id: "calls-first" }, challengerPercent: 50 } });
    expect((await client.listStrategyChanges({ pageSize: 1, beforeVersion: three.version })).changes.map((c) => c.version)).toEqual([v.version]);

    const c = await openCase(uniqueName("acc-promoted"));
    expect(c).toMatchObject({ strategyId: "digital-first", treatment: collections.Treatment.DIGITAL_ONLY });
  });
});
