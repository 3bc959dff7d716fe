import { describe, expect, it } from "vitest";
import { assignCase } from "../src/app/assign-case";
import { handleAccountCured } from "../src/app/handle-account-cured";
import { handleOverdue } from "../src/app/handle-overdue";
import { handleStepReport } from "../src/app/handle-step-report";
import { logContactAttempt } from "../src/app/log-contact-attempt";
import { upsertAgent } from "../src/app/upsert-agent";
import { caseCostFen } from "../src/domain/stats";
import { DEFAULT_CHAMPION, type Strategy, type StrategySet } from "../src/domain/strategy";
import { strategyTableViolations } from "../src/domain/strategy-validation";
import type { CollectionCase } from "../src/domain/types";
import { fakeDeps, overdue, testPolicy } from "./fakes";

/** A champion whose M1 rule carries a path: DPD 1 SMS, DPD 3 email, DPD 7 call, DPD 15 letter. */
const WITH_PATH: Strategy = {
  id: "champion",
  description: "paths",
  rules: [
    { buckets: ["M4", "M5", "M6", "CHARGED_OFF"], treatment: "EXTERNAL_AGENCY" },
    {
      buckets: ["M3"],
      treatment: "LEGAL_NOTICE",
      path: [{ dpd: 61, channel: "LEGAL_NOTICE" }],
    },
    { buckets: ["M2"], treatment: "AGENT_CALLS", path: [{ dpd: 31, channel: "LEGAL_NOTICE" }, { dpd: 35, channel: "EMAIL", template: "formal-notice@1" }] },
    {
      buckets: ["M1"],
      treatment: "DIGITAL_ONLY",
      path: [
        { dpd: 1, channel: "SMS", template: "overdue-notice@1" },
        { dpd: 3, channel: "EMAIL", template: "overdue-notice@1" },
        { dpd: 7, channel: "CALL" },
        { dpd: 15, channel: "LETTER" },
      ],
    },
  ],
};

/** The same, but the challenger texts on DPD 2 instead of DPD 1 and calls on DPD 4. */
const CHALLENGER: Strategy = {
  id: "challenger-fast",
  description: "earlier call",
  rules: [
    {
      buckets: ["M1"],
      treatment: "DIGITAL_ONLY",
      path: [
        { dpd: 2, channel: "SMS", template: "overdue-notice@1" },
        { dpd: 4, channel: "CALL" },
      ],
    },
  ],
};

function setup(set: StrategySet = { champion: WITH_PATH, challengers: [], challengerPercent: 0 }) {
  const f = fakeDeps("2026-03-02T02:00:00Z");
  f.deps.policy = { ...testPolicy, strategies: set };
  return f;
}

const only = (cases: Map<string, CollectionCase>) => [...cases.values()][0]!;
const day = (n: number) => `2026-03-${String(1 + n).padStart(2, "0")}`;

describe("treatment paths", () => {
  it("schedules the rule's path when the case opens, with the business date each step falls due", async () => {
    const { deps, cases } = setup();
    await handleOverdue(deps, overdue("a1", day(1), 1));
    const c = only(cases.docs);
    expect(c.path.map((s) => [s.dpd, s.channel, s.plannedDate, s.status])).toEqual([
      [1, "SMS", "2026-03-02", "REQUESTED"],
      [3, "EMAIL", "2026-03-04", "PLANNED"],
      [7, "CALL", "2026-03-08", "PLANNED"],
      [15, "LETTER", "2026-03-16", "PLANNED"],
    ]);
    const steps = cases.outbox.filter((e) => e.type === "TreatmentStepRequested");
    expect(steps).toHaveLength(1);
    expect(steps[0]).toMatchObject({ channel: "SMS", template: "overdue-notice@1", dpd: 1, stepId: c.path[0]!.stepId });
    expect(c.audit.map((a) => a.action)).toEqual(["PATH_SCHEDULED", "CASE_OPENED", "STEP_REQUESTED"]);
  });

  it("runs each step once on its DPD: a redelivered Overdue sends nothing twice", async () => {
    const { deps, cases } = setup();
    for (const d of [1, 2, 3, 3, 4]) await handleOverdue(deps, overdue("a1", day(d), d));
    const sent = cases.outbox.filter((e) => e.type === "TreatmentStepRequested");
    expect(sent.map((e) => e.type === "TreatmentStepRequested" && [e.dpd, e.channel])).toEqual([
      [1, "SMS"],
      [3, "EMAIL"],
    ]);
  });

  it("an agent step moves a digital case to the call queue; the agent's call completes it and the case goes back", async () => {
    const { deps, cases, clock } = setup();
    for (let d = 1; d <= 7; d++) await handleOverdue(deps, overdue("a1", day(d), d));
    let c = only(cases.docs);
    expect(c.treatment).toBe("DIGITAL_ONLY");
    expect(c.queue).toBe("calls-M1");
    expect(c.path.find((s) => s.channel === "CALL")?.status).toBe("QUEUED");
    await upsertAgent(deps, { agentId: "ag1", displayName: "A", skills: ["calls-M1"], active: true });
    await assignCase(deps, { caseId: c.caseId, agentId: "", reassign: false, actor: "sup" });
    clock.set(new Date("2026-03-08T14:00:00Z")); // 22:00 in Shanghai: refused, the step stays queued and says why
    await expect(
      logContactAttempt(deps, {
        caseId: c.caseId,
        idempotencyKey: "k0",
        agentId: "ag1",
        channel: "CALL",
        outcome: "NO_ANSWER",
        reason: "UNSPECIFIED",
        note: "",
        contactParty: "debtor",
        consentOutsideHours: false,
      }),
    ).rejects.toMatchObject({ reason: "CN_QUIET_HOURS" });
    c = only(cases.docs);
    expect(c.path.find((s) => s.channel === "CALL")).toMatchObject({ status: "QUEUED", outcome: "refused by CN_QUIET_HOURS" });
    clock.set(new Date("2026-03-09T02:00:00Z"));
    await logContactAttempt(deps, {
      caseId: c.caseId,
      idempotencyKey: "k1",
      agentId: "ag1",
      channel: "CALL",
      outcome: "RIGHT_PARTY",
      reason: "FORGOT",
      note: "",
      contactParty: "debtor",
      consentOutsideHours: false,
    });
    c = only(cases.docs);
    expect(c.path.find((s) => s.channel === "CALL")).toMatchObject({ status: "DONE", outcome: "RIGHT_PARTY" });
    expect(c.queue).toBe("digital");
    expect(c.audit.map((a) => a.action)).toContain("STEP_DONE");
  });

  it("a legal-notice step is refused with the gate's rule before M3 and issues the notice at M3", async () => {
    const { deps, cases } = setup();
    await handleOverdue(deps, overdue("a1", day(1), 1));
    await handleOverdue(deps, overdue("a1", "2026-03-31", 31));
    let c = only(cases.docs);
    expect(c.path.find((s) => s.dpd === 31)).toMatchObject({ channel: "LEGAL_NOTICE", status: "REFUSED", outcome: "LEGAL_NOTICE_NOT_DUE" });
    // the M1 steps still planned when the case rolled were skipped by the new rule's path
    expect(c.path.filter((s) => s.ruleRef === "champion/rules[3]" && s.status === "SKIPPED").map((s) => s.channel)).toEqual([
      "EMAIL",
      "CALL",
      "LETTER",
    ]);
    await handleOverdue(deps, overdue("a1", "2026-05-01", 61));
    c = only(cases.docs);
    expect(c.path.find((s) => s.dpd === 61)).toMatchObject({ status: "DONE" });
    expect(c.legalNotices).toHaveLength(1);
    expect(cases.outbox.filter((e) => e.type === "LegalNoticeRequested")).toHaveLength(1);
    await handleOverdue(deps, overdue("a1", "2026-05-01", 61));
    expect(cases.outbox.filter((e) => e.type === "LegalNoticeRequested")).toHaveLength(1);
  });

  it("after days without an Overdue only the latest due step per channel runs", async () => {
    const s: Strategy = {
      id: "champion",
      description: "",
      rules: [
        {
          buckets: ["M1"],
          treatment: "DIGITAL_ONLY",
          path: [
            { dpd: 1, channel: "SMS", template: "overdue-notice@1" },
            { dpd: 3, channel: "SMS", template: "overdue-notice@1" },
            { dpd: 5, channel: "SMS", template: "overdue-notice@1" },
            { dpd: 9, channel: "SMS", template: "overdue-notice@1" },
          ],
        },
      ],
    };
    const { deps, cases } = setup({ champion: s, challengers: [], challengerPercent: 0 });
    await handleOverdue(deps, overdue("a1", day(1), 1));
    await handleOverdue(deps, overdue("a1", day(6), 6));
    const c = only(cases.docs);
    expect(c.path.map((x) => [x.dpd, x.status])).toEqual([
      [1, "REQUESTED"],
      [3, "SKIPPED"],
      [5, "REQUESTED"],
      [9, "PLANNED"],
    ]);
  });

  it("notification's reports move a step forward only, and a cure skips what is left", async () => {
    const { deps, cases } = setup();
    await handleOverdue(deps, overdue("a1", day(1), 1));
    const stepId = only(cases.docs).path[0]!.stepId;
    expect(await handleStepReport(deps, { accountId: "a1", stepId, status: "DELIVERED", detail: "delivered on SMS" })).toBe("applied");
    expect(await handleStepReport(deps, { accountId: "a1", stepId, status: "SENT", detail: "sent on SMS" })).toBe("unchanged");
    expect(await handleStepReport(deps, { accountId: "a1", stepId: "other", status: "SENT", detail: "" })).toBe("unchanged");
    expect(only(cases.docs).path[0]).toMatchObject({ status: "DELIVERED", outcome: "delivered on SMS" });
    await handleAccountCured(deps, "a1", "cure-1", day(2));
    expect(only(cases.docs).path.slice(1).map((s) => s.status)).toEqual(["SKIPPED", "SKIPPED", "SKIPPED"]);
    expect(await handleStepReport(deps, { accountId: "a1", stepId, status: "SENT", detail: "" })).toBe("no-case");
  });

  it("a step notification will never send ends SUPPRESSED / EXPIRED / SUPERSEDED with the rule, audited; only a provider hand-off moves it on", async () => {
    const { deps, cases } = setup();
    await handleOverdue(deps, overdue("a1", day(1), 1));
    const stepId = only(cases.docs).path[0]!.stepId;
    const detail = "OPTED_OUT on SMS: opted out of SMS for COLLECTION";
    expect(await handleStepReport(deps, { accountId: "a1", stepId, status: "SUPPRESSED", detail })).toBe("applied");
    expect(only(cases.docs).path[0]).toMatchObject({ status: "SUPPRESSED", outcome: detail });
    expect(only(cases.docs).audit.at(-1)).toMatchObject({ action: "STEP_SUPPRESSED", detail: expect.stringContaining("OPTED_OUT") });
    // redelivered, or a second unsent report (another message of the step): the first stays, nothing written
    expect(await handleStepReport(deps, { accountId: "a1", stepId, status: "SUPPRESSED", detail })).toBe("unchanged");
    expect(await handleStepReport(deps, { accountId: "a1", stepId, status: "EXPIRED", detail: "VALIDITY_ENDED on SMS" })).toBe("unchanged");
    expect(only(cases.docs).path[0]).toMatchObject({ status: "SUPPRESSED", outcome: detail });
    // a provider got a message of the step after all (a fallback channel): that is what happened, and it is paid
    expect(await handleStepReport(deps, { accountId: "a1", stepId, status: "SENT", detail: "sent on SMS" })).toBe("applied");
    // ... and a later unsent report never takes it back
    expect(await handleStepReport(deps, { accountId: "a1", stepId, status: "SUPERSEDED", detail: "SUPERSEDED_BY_PAYMENT on SMS" })).toBe("unchanged");
    expect(only(cases.docs).path[0]!.status).toBe("SENT");
    // a step not handed to notification yet (PLANNED) takes no report
    const planned = only(cases.docs).path.find((x) => x.status === "PLANNED")!;
    expect(await handleStepReport(deps, { accountId: "a1", stepId: planned.stepId, status: "EXPIRED", detail: "" })).toBe("unchanged");
  });

  it("a step costs a contact only once a provider got it: not requested, suppressed, expired, superseded, nor failed without a call", async () => {
    const { deps, cases } = setup();
    const cost = { ...testPolicy.contactCostFen, SMS: 5n };
    const accounts = ["a1", "a2", "a3", "a4", "a5", "a6", "a7"];
    for (const a of accounts) await handleOverdue(deps, overdue(a, day(1), 1));
    const step = (a: string) => [...cases.docs.values()].find((c) => c.accountId === a)!.path[0]!.stepId;
    const reports = [
      ["a2", "SUPPRESSED", undefined],
      ["a3", "EXPIRED", undefined],
      ["a4", "SUPERSEDED", undefined],
      ["a5", "FAILED", 0],
      ["a6", "FAILED", 2],
      ["a7", "DELIVERED", undefined],
    ] as const;
    for (const [a, status, attempts] of reports)
      expect(await handleStepReport(deps, { accountId: a, stepId: step(a), status, detail: status, attempts })).toBe("applied");
    const costOf = (a: string) => caseCostFen([...cases.docs.values()].find((c) => c.accountId === a)!, cost);
    expect(accounts.map(costOf)).toEqual([0n, 0n, 0n, 0n, 0n, 5n, 5n]);
  });

  it("a strategy change changes who gets which message when: the challenger's accounts get a DPD 2 SMS, not a DPD 1 one", async () => {
    const { deps, cases } = setup({ champion: WITH_PATH, challengers: [CHALLENGER], challengerPercent: 50 });
    const accounts = Array.from({ length: 40 }, (_, i) => `acct-${i}`);
    for (const a of accounts) for (const d of [1, 2]) await handleOverdue(deps, overdue(a, day(d), d));
    const sms = new Map<string, number>();
    for (const e of cases.outbox) if (e.type === "TreatmentStepRequested") sms.set(`${e.strategyId}@${e.dpd}`, (sms.get(`${e.strategyId}@${e.dpd}`) ?? 0) + 1);
    const byStrategy = [...cases.docs.values()].reduce((m, c) => m.set(c.strategyId, (m.get(c.strategyId) ?? 0) + 1), new Map<string, number>());
    expect(byStrategy.get("challenger-fast")).toBeGreaterThan(0);
    expect(byStrategy.get("champion")).toBeGreaterThan(0);
    expect(sms.get("champion@1")).toBe(byStrategy.get("champion"));
    expect(sms.get("challenger-fast@2")).toBe(byStrategy.get("challenger-fast"));
    expect(sms.get("champion@2")).toBeUndefined();
    expect(sms.get("challenger-fast@1")).toBeUndefined();
  });

  it("validation names each bad path field", () => {
    const bad: Strategy = {
      ...DEFAULT_CHAMPION,
      rules: [
        {
          buckets: ["M1"],
          treatment: "DIGITAL_ONLY",
          path: [
            { dpd: 0, channel: "SMS", template: "overdue-notice@1" },
            { dpd: 3, channel: "EMAIL" },
            { dpd: 7, channel: "CALL", template: "x@1" },
            { dpd: 9, channel: "FAX" as "SMS" },
            { dpd: 3, channel: "EMAIL", template: "overdue-notice@1" },
          ],
        },
      ],
    };
    expect(strategyTableViolations({ champion: bad, challengers: [], challengerPercent: 0 }).map((v) => v.field)).toEqual([
      "table.champion.rules[0].path[0].dpd",
      "table.champion.rules[0].path[1].template",
      "table.champion.rules[0].path[2].template",
      "table.champion.rules[0].path[3].channel",
      "table.champion.rules[0].path[4]",
    ]);
  });
});
