/**
 * The China Banking Association's 金融机构个人消费类贷款催收工作指引（试行）(2026), rule by rule, through the use
 * case an agent calls (LogContactAttempt) and the strategy editor (UpdateStrategies): each rule refuses with its code.
 */
import { zonedInstant } from "@whiteslip/core";
import { describe, expect, it } from "vitest";
import { handleOverdue } from "../src/app/handle-overdue";
import { type LogContactInput, logContactAttempt } from "../src/app/log-contact-attempt";
import { TEMPLATES } from "../../notification/src/domain/templates";
import { BANNED_CLAIM_RULES, bannedClaims } from "../src/domain/banned-claims";
import { DEFAULT_STRATEGIES, type Strategy } from "../src/domain/strategy";
import { strategyTableViolations } from "../src/domain/strategy-validation";
import { NOTICE_TEXTS } from "../src/domain/work";
import { fakeDeps, overdue, testPolicy } from "./fakes";

const SH = "Asia/Shanghai";

async function twoCases(start = zonedInstant("2026-03-02", 10, 0, SH)) {
  const f = fakeDeps(start.toISOString());
  f.deps.policy = { ...testPolicy, strategies: { ...DEFAULT_STRATEGIES, challengerPercent: 0 } };
  // one customer, two accounts (two cases); the same contact point on both
  await handleOverdue(f.deps, { ...overdue("a1", "2026-03-02", 1), customerId: "cus-1" });
  await handleOverdue(f.deps, { ...overdue("a2", "2026-03-02", 1), customerId: "cus-1" });
  const [c1, c2] = [...f.cases.docs.values()].map((c) => c.caseId);
  let n = 0;
  const log = (caseId: string, extra: Partial<LogContactInput> = {}) =>
    logContactAttempt(f.deps, {
      caseId,
      idempotencyKey: `k${++n}`,
      agentId: "ag1",
      channel: "CALL",
      outcome: "NO_ANSWER",
      reason: "UNSPECIFIED",
      note: "",
      contactParty: "debtor",
      consentOutsideHours: false,
      ...extra,
    });
  return { ...f, c1: c1!, c2: c2!, log };
}

describe("CBA guideline: contact rules", () => {
  it("CN_DAILY_UNANSWERED_CALLS: the 7th unanswered call of the day to one contact point is refused, counted across cases", async () => {
    const w = await twoCases();
    for (let i = 0; i < 3; i++) await w.log(w.c1);
    for (let i = 0; i < 3; i++) await w.log(w.c2);
    await expect(w.log(w.c1)).rejects.toMatchObject({ reason: "CN_DAILY_UNANSWERED_CALLS" });
    await expect(w.log(w.c2)).rejects.toMatchObject({ reason: "CN_DAILY_UNANSWERED_CALLS" });
    // another contact point of the debtor is counted on its own
    await expect(w.log(w.c1, { contactParty: "debtor:work" })).resolves.toBeDefined();
    // the next day the count starts again
    w.clock.set(zonedInstant("2026-03-03", 9, 0, SH));
    await expect(w.log(w.c1)).resolves.toBeDefined();
  });

  it("CN_QUIET_HOURS: 22:00–08:00 needs a consent stored before, with its time and channel; the contact's own flag is not one", async () => {
    const w = await twoCases(zonedInstant("2026-03-02", 22, 30, SH));
    await expect(w.log(w.c1, { consentOutsideHours: true })).rejects.toMatchObject({ reason: "CN_QUIET_HOURS" });
    w.clock.set(zonedInstant("2026-03-03", 10, 0, SH));
    await w.log(w.c1, { outcome: "RIGHT_PARTY", consentOutsideHours: true });
    const c = w.cases.docs.get(w.c1)!;
    expect(c.consents).toEqual([
      expect.objectContaining({ givenAt: zonedInstant("2026-03-03", 10, 0, SH), channel: "CALL", agentId: "ag1" }),
    ]);
    expect(c.audit.at(-1)?.action).toBe("CONSENT_RECORDED");
    w.clock.set(zonedInstant("2026-03-03", 22, 30, SH));
    await expect(w.log(w.c1)).resolves.toBeDefined();
    // a consent needs a conversation: a no-answer with the flag stores nothing
    await w.log(w.c2, { consentOutsideHours: true, outcome: "NO_ANSWER", channel: "LETTER" });
    expect(w.cases.docs.get(w.c2)!.consents).toEqual([]);
  });

  it("third parties: only to locate or relay (CN_THIRD_PARTY), by call (CN_THIRD_PARTY_WRITTEN), when the debtor is lost (CN_THIRD_PARTY_DEBTOR_REACHABLE), never again once they ask (CN_THIRD_PARTY_OPTED_OUT)", async () => {
    const w = await twoCases();
    const sister = { contactParty: "sister", purpose: "LOCATE" };
    await expect(w.log(w.c1, { contactParty: "sister" })).rejects.toMatchObject({ reason: "CN_THIRD_PARTY" });
    await expect(w.log(w.c1, { contactParty: "sister", purpose: "COLLECT" })).rejects.toMatchObject({ reason: "CN_THIRD_PARTY" });
    await expect(w.log(w.c1, { ...sister, channel: "SMS" })).rejects.toMatchObject({ reason: "CN_THIRD_PARTY_WRITTEN" });
    // the debtor was never tried: not lost
    await expect(w.log(w.c1, sister)).rejects.toMatchObject({ reason: "CN_THIRD_PARTY_DEBTOR_REACHABLE" });
    await w.log(w.c1, { outcome: "WRONG_NUMBER" });
    await expect(w.log(w.c1, { ...sister, outcome: "ASKED_NOT_TO_CONTACT" })).resolves.toMatchObject({
      attempt: expect.objectContaining({ purpose: "LOCATE", refused: false }),
    });
    await expect(w.log(w.c1, sister)).rejects.toMatchObject({ reason: "CN_THIRD_PARTY_OPTED_OUT" });
    // on the customer's other case too
    await expect(w.log(w.c2, { ...sister, purpose: "RELAY" })).rejects.toMatchObject({ reason: "CN_THIRD_PARTY_OPTED_OUT" });
  });

  it("a debtor reached within the last 7 days is not lost: no third party", async () => {
    const w = await twoCases();
    await w.log(w.c2, { outcome: "RIGHT_PARTY" });
    await w.log(w.c1, { outcome: "NO_ANSWER" });
    await expect(w.log(w.c1, { contactParty: "friend", purpose: "RELAY" })).rejects.toMatchObject({
      reason: "CN_THIRD_PARTY_DEBTOR_REACHABLE",
    });
  });
});

describe("CBA guideline: texts checked when written", () => {
  const withText = (text: string): Strategy => ({
    id: "champion",
    description: "",
    rules: [{ buckets: ["M1"], treatment: "DIGITAL_ONLY", path: [{ dpd: 1, channel: "SMS", template: "overdue-notice@1", text }] }],
  });
  const codes = (text: string) =>
    strategyTableViolations({ champion: withText(text), challengers: [], challengerPercent: 0 }).map((v) => v.description.split(":")[0]);

  it.each([
    ["逾期不还将列入黑名单", "CN_TEXT_FAKE_BLACKLIST"],
    ["不还款将被拘留", "CN_TEXT_EXAGGERATED_CONSEQUENCES"],
    ["Pay now or face arrest", "CN_TEXT_EXAGGERATED_CONSEQUENCES"],
    ["再不还款后果自负", "CN_TEXT_THREAT"],
    ["We will tell your employer", "CN_TEXT_THREAT"],
    ["需另付催收费200元", "CN_TEXT_UNAUTHORISED_FEE"],
    ["A collection fee of ¥50 applies", "CN_TEXT_UNAUTHORISED_FEE"],
    ["法院通知：请立即还款", "CN_TEXT_IMPERSONATION"],
    ["可以借钱还款", "CN_TEXT_NEW_BORROWING"],
  ])("%s → %s", (text, code) => {
    expect(codes(text)).toEqual([code]);
  });

  it("a plain reminder passes, with its placeholders", () => {
    expect(codes("您的账户已逾期{dpd}天，逾期金额{overdue|money}，请尽快还款。")).toEqual([]);
  });

  it("every rule has a phrase that trips it (no rule that cannot fail)", () => {
    for (const r of BANNED_CLAIM_RULES) for (const p of r.phrases) expect(bannedClaims(`x ${p} y`).map((b) => b.code)).toContain(r.code);
  });

  it("the platform's own collection texts pass: notification's collection and legal templates, collections' legal notices", () => {
    const collectionTemplates = ["overdue-notice", "formal-notice", "legal-notice", "pre-report-notice"];
    for (const t of TEMPLATES.filter((x) => collectionTemplates.includes(x.id)))
      for (const l of Object.values(t.text)) expect(bannedClaims(`${l.subject} ${l.body}`), `${t.id}@${t.version}`).toEqual([]);
    for (const n of Object.values(NOTICE_TEXTS)) expect(bannedClaims(`${n.legalBasis} ${n.consequences}`)).toEqual([]);
  });
});
