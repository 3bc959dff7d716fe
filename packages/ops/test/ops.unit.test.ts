import { create } from "@bufbuild/protobuf";
import { encodeEvent } from "@whiteslip/bus";
import { billing, Topics } from "@whiteslip/contracts";
import { addDays } from "@whiteslip/core";
import { GrpcError } from "@whiteslip/grpc";
import { describe, expect, it } from "vitest";
import { advance, decodeRecord, parseDeadLetterTopic, progressLine, resolveDeadLetterTopic, resolveTopics, runEndOfDay } from "../src/index";

describe("ops CLI helpers", () => {
  it("resolves short topic names", () => {
    expect(resolveTopics(["overdue", "DueSoon", "whiteslip.billing.payment-received.v1"])).toEqual([
      "whiteslip.billing.overdue.v1",
      "whiteslip.billing.due-soon.v1",
      "whiteslip.billing.payment-received.v1",
    ]);
    expect(() => resolveTopics(["nope"])).toThrow(/unknown topic "nope"/);
    expect(resolveTopics([]).length).toBeGreaterThan(20);
  });

  it("decodes a record into CloudEvents attributes and payload JSON", () => {
    const ev = encodeEvent(Topics.Overdue, {
      id: "e1",
      key: "acc_1",
      time: new Date("2026-03-02T00:05:00Z"),
      data: { accountId: "acc_1", customerId: "cus_1", businessDate: "2026-03-02", daysPastDue: 3, overdueFen: 12_345n, bucket: billing.DelinquencyBucket.M1 },
    });
    const out = decodeRecord(ev.topic, 0, {
      offset: "7",
      key: Buffer.from(ev.key),
      value: Buffer.from(ev.value),
      headers: Object.fromEntries(Object.entries(ev.headers).map(([k, v]) => [k, Buffer.from(v)])),
    });
    expect(out).toMatchObject({
      id: "e1",
      type: "whiteslip.billing.v1.Overdue",
      time: "2026-03-02T00:05:00.000Z",
      data: { accountId: "acc_1", daysPastDue: 3, overdueFen: "12345", bucket: "DELINQUENCY_BUCKET_M1" },
    });
    // under a TOPIC_PREFIX the record's topic carries it
    const prefixed = decodeRecord(`staging.${ev.topic}`, 0, { offset: "7", key: Buffer.from(ev.key), value: Buffer.from(ev.value), headers: Object.fromEntries(Object.entries(ev.headers).map(([k, v]) => [k, Buffer.from(v)])) }, "staging.");
    expect(prefixed).toMatchObject({ id: "e1", data: { daysPastDue: 3 } });
    expect(decodeRecord(`staging.${ev.topic}`, 0, { offset: "7", key: null, value: null, headers: {} })).toMatchObject({ error: "unknown topic" });
    expect(decodeRecord(ev.topic, 0, { offset: "8", key: null, value: Buffer.from([1, 2]), headers: {} })).toMatchObject({
      error: "missing header ce_id",
    });
  });

  it("draws end-of-day progress", () => {
    const run = create(billing.EndOfDayRunSchema, {
      businessDate: "2026-03-02",
      accountsTotal: 100n,
      accountsProcessed: 50n,
      statementsIssued: 4n,
      dueSoonEmitted: 3n,
      overdueEmitted: 2n,
    });
    expect(progressLine(run)).toBe(
      "2026-03-02 [##########----------] 50/100 accounts · 4 statements · 3 due-soon · 2 overdue · 0 charged off",
    );
    // accounts opened during the run can push processed past the total counted at its start
    expect(progressLine({ ...run, accountsProcessed: 103n })).toContain("[####################] 103/100");
  });

  it("names dead-letter topics from a topic and a group, and back, under a prefix (groups may hold dots)", () => {
    expect(parseDeadLetterTopic("staging.whiteslip.billing.overdue.v1.collections.dlq", "staging.")).toEqual({
      sourceTopic: "whiteslip.billing.overdue.v1",
      group: "collections",
    });
    expect(parseDeadLetterTopic("whiteslip.billing.overdue.v1.notification.v2.dlq")).toEqual({
      sourceTopic: "whiteslip.billing.overdue.v1",
      group: "notification.v2",
    });
    expect(parseDeadLetterTopic("whiteslip.billing.overdue.v1.collections.dlq", "staging.")).toBeUndefined();
    expect(parseDeadLetterTopic("whiteslip.billing.overdue.v1.collections.replay")).toBeUndefined();
    expect(parseDeadLetterTopic("whiteslip.billing.overdue.v1.dlq")).toBeUndefined();
    expect(resolveDeadLetterTopic("overdue", "collections", "staging.")).toEqual({
      topic: "staging.whiteslip.billing.overdue.v1.collections.dlq",
      sourceTopic: "whiteslip.billing.overdue.v1",
      group: "collections",
    });
    expect(resolveDeadLetterTopic("whiteslip.billing.overdue.v1.collections.dlq", undefined, "staging.").topic).toBe(
      "staging.whiteslip.billing.overdue.v1.collections.dlq",
    );
    expect(() => resolveDeadLetterTopic("overdue", undefined)).toThrow(/--group is required/);
    expect(() => resolveDeadLetterTopic("whiteslip.billing.overdue.v1.collections.dlq", "billing")).toThrow(/of group collections, not billing/);
  });
});

describe("whiteslip-ops eod", () => {
  const completedRun = (date: string) => create(billing.EndOfDayRunSchema, { businessDate: date, status: billing.EndOfDayStatus.COMPLETED, accountsTotal: 3n, accountsProcessed: 3n });
  const notEnded = (date: string) =>
    new GrpcError(9, `end-of-day ${date} may run only once ${date} has ended`, { violations: [], reason: "EOD_DAY_NOT_ENDED", domain: "whiteslip", metadata: { notBefore: "x" } });

  it("closes the days that have ended, then stops at the first that has not; a retry right after changes nothing", async () => {
    let current = "2026-03-01";
    const closed: string[] = [];
    const ended = new Set(["2026-03-01", "2026-03-02"]);
    let polls = 0;
    const billingClient = {
      getBusinessDate: async () => ({ businessDate: current, lastCompletedDate: closed.at(-1) ?? "" }),
      runEndOfDay: async ({ businessDate }: { businessDate: string }) => {
        if (closed.includes(businessDate)) return { run: completedRun(businessDate) };
        if (!ended.has(businessDate)) throw notEnded(businessDate);
        return { run: create(billing.EndOfDayRunSchema, { businessDate, status: billing.EndOfDayStatus.RUNNING }) };
      },
      getEndOfDayRun: async ({ businessDate }: { businessDate: string }) => {
        // The replica serving the poll goes away once: UNAVAILABLE is ridden out.
        if (++polls === 1) throw new GrpcError(14, "connection refused");
        closed.push(businessDate);
        current = addDays(businessDate, 1);
        return { run: completedRun(businessDate) };
      },
    };
    const clients = { billing: billingClient } as never;
    const said: string[] = [];
    const run = await runEndOfDay(clients, { pollMs: 1, onNothingToClose: (m) => said.push(m) });
    expect(closed).toEqual(["2026-03-01", "2026-03-02"]);
    expect(run.businessDate).toBe("2026-03-02");
    expect(said[0]).toContain("nothing to close");
    // The Job retried a minute later: nothing ended since; the last completed run comes back, nothing is closed.
    const again = await runEndOfDay(clients, { pollMs: 1 });
    expect(again).toEqual(completedRun("2026-03-02"));
    expect(closed).toEqual(["2026-03-01", "2026-03-02"]);
    // An explicit date that has not ended is refused with billing's reason.
    await expect(runEndOfDay(clients, { date: "2026-03-03", pollMs: 1 })).rejects.toMatchObject({ reason: "EOD_DAY_NOT_ENDED" });
  });
  it("advance closes one day after another, and refuses to go on when the business date did not move", async () => {
    const fake = (lagging: boolean) => {
      let current = "2026-03-01";
      const closed: string[] = [];
      return {
        closed,
        clients: {
          billing: {
            getBusinessDate: async () => ({ businessDate: current, lastCompletedDate: closed.at(-1) ?? "" }),
            runEndOfDay: async ({ businessDate }: { businessDate: string }) => {
              if (!closed.includes(businessDate)) closed.push(businessDate);
              // a billing that says COMPLETED before its business date moves (the race fixed in billing)
              if (!lagging || closed.length > 1) current = addDays(businessDate, 1);
              return { run: completedRun(businessDate) };
            },
            getEndOfDayRun: async ({ businessDate }: { businessDate: string }) => ({ run: completedRun(businessDate) }),
          },
        } as never,
      };
    };
    const ok = fake(false);
    await advance(ok.clients, 3, undefined, () => {});
    expect(ok.closed).toEqual(["2026-03-01", "2026-03-02", "2026-03-03"]);
    const lag = fake(true);
    await expect(advance(lag.clients, 3, undefined, () => {})).rejects.toThrow("billing's business date is 2026-03-01 after end-of-day 2026-03-01 completed; expected 2026-03-02");
    expect(lag.closed).toEqual(["2026-03-01"]); // no day skipped silently
  });
});
