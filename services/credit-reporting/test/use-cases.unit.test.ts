import { ManualClock } from "@whiteslip/core";
import { describe, expect, it } from "vitest";
import { applyAccountFact } from "../src/app/apply-account-fact";
import { fileDispute } from "../src/app/file-dispute";
import { generateBureauFile } from "../src/app/generate-bureau-file";
import { getBureauFile } from "../src/app/get-bureau-file";
import { getCreditScore } from "../src/app/get-credit-score";
import { KeyedLock } from "../src/app/keyed-lock";
import { listScoreHistory } from "../src/app/list-score-history";
import type { Deps } from "../src/app/ports";
import { metro2Format } from "../src/domain/metro2/metro2-format";
import { pbocFormat } from "../src/domain/pboc/pboc-format";
import { DEFAULT_REPORTING_POLICY, DEFAULT_SCORE_POLICY } from "../src/domain/policy";
import { opened, overdue, payment } from "./support/facts";
import { FURNISHER, identityFor, InMemoryDownloads, InMemoryIdentities } from "./support/identities";
import { InMemoryAccounts, InMemoryFiles } from "./support/in-memory";

const WHO = { caller: "ops", requestedBy: "operator-1" };

function deps(): Deps & {
  accounts: InMemoryAccounts;
  files: InMemoryFiles;
  clock: ManualClock;
  identities: InMemoryIdentities;
  downloads: InMemoryDownloads;
} {
  return {
    accounts: new InMemoryAccounts(),
    files: new InMemoryFiles(),
    clock: new ManualClock("2026-03-01T04:00:00Z"),
    timeZone: "Asia/Shanghai",
    scorePolicy: DEFAULT_SCORE_POLICY,
    reportingPolicy: DEFAULT_REPORTING_POLICY,
    formats: [metro2Format, pbocFormat],
    locks: new KeyedLock(),
    furnisher: FURNISHER,
    identities: new InMemoryIdentities(),
    downloads: new InMemoryDownloads(),
  };
}

describe("applyAccountFact", () => {
  it("moves the score once for the same event delivered twice, and publishes once", async () => {
    const d = deps();
    const f = overdue("acc-1", "2026-02-02", 1, "2026-02-01");
    expect(await applyAccountFact(d, "acc-1", f)).toBe("applied");
    expect(await applyAccountFact(d, "acc-1", f)).toBe("duplicate");
    const s = await getCreditScore(d, "acc-1");
    expect(s.score).toBe(635);
    expect(d.accounts.outbox.filter((e) => e.type === "ScoreChanged")).toHaveLength(1);
  });

  it("recognises a payment's event id from the score history even after the recent-ids window", async () => {
    const d = deps();
    const f = payment("acc-1", "2026-02-03");
    await applyAccountFact(d, "acc-1", f);
    d.accounts.rows.get("acc-1")!.processed.length = 0;
    expect(await applyAccountFact(d, "acc-1", f)).toBe("duplicate");
    expect((await getCreditScore(d, "acc-1")).score).toBe(655);
  });

  it("publishes the pre-report notice once, with the notice id as event id", async () => {
    const d = deps();
    for (let dpd = 29; dpd <= 32; dpd++)
      await applyAccountFact(
        d,
        "acc-1",
        overdue("acc-1", `2026-02-${dpd - 27}`.replace(/-(\d)$/, "-0$1"), dpd, "2026-01-01"),
      );
    const notices = d.accounts.outbox.filter((e) => e.type === "NegativeReportPending");
    expect(notices).toHaveLength(1);
    expect(notices[0]!.id).toBe(
      notices[0]!.type === "NegativeReportPending" ? notices[0]!.notice.noticeId : "",
    );
  });
});

describe("generateBureauFile", () => {
  it("returns the stored file the second time, even after the state changed", async () => {
    const d = deps();
    await applyAccountFact(d, "acc-1", opened("acc-1", "2026-01-05"));
    const one = await generateBureauFile(d, { asOf: "2026-02-28", ...WHO });
    await applyAccountFact(d, "acc-2", opened("acc-2", "2026-01-06"));
    const two = await generateBureauFile(d, { asOf: "2026-02-28", ...WHO });
    expect(two.content).toEqual(one.content);
    expect(one.recordCount).toBe(1);
    expect(d.files.outbox).toHaveLength(1);
    expect((await getBureauFile(d, { asOf: "2026-02-28", ...WHO })).sha256).toBe(one.sha256);
  });

  it("refuses an as-of date after today and a malformed one, naming the field", async () => {
    const d = deps();
    await expect(generateBureauFile(d, { asOf: "2026-03-02", ...WHO })).rejects.toMatchObject({
      kind: "invalid_argument",
      violations: [{ field: "as_of_date" }],
    });
    await expect(generateBureauFile(d, { asOf: "2026-02-30", ...WHO })).rejects.toMatchObject({
      kind: "invalid_argument",
    });
    await expect(generateBureauFile(d, { asOf: "2026-02-28", format: "XML", ...WHO })).rejects.toMatchObject({
      violations: [{ field: "format" }],
    });
    expect(d.files.rows.size).toBe(0);
  });

  it("asks credit for the identities of the reported accounts only, and audits every download", async () => {
    const d = deps();
    await applyAccountFact(d, "acc-1", opened("acc-1", "2026-01-05"));
    await applyAccountFact(d, "acc-2", opened("acc-2", "2026-03-05")); // opened after the as-of date: absent
    await generateBureauFile(d, { asOf: "2026-02-28", ...WHO });
    await getBureauFile(d, { asOf: "2026-02-28", caller: "console", requestedBy: "auditor-7" });
    expect(d.identities.calls).toEqual([{ accountIds: ["acc-1"], purpose: "bureau-file METRO2 2026-02-28" }]);
    expect(d.downloads.rows.map((r) => [r.via, r.caller, r.requestedBy, r.format, r.asOf])).toEqual([
      ["GenerateBureauFile", "ops", "operator-1", "METRO2", "2026-02-28"],
      ["GetBureauFile", "console", "auditor-7", "METRO2", "2026-02-28"],
    ]);
    await expect(getBureauFile(d, { asOf: "2026-02-28", caller: "x", requestedBy: " " })).rejects.toMatchObject({
      violations: [{ field: "requested_by" }],
    });
    expect(d.downloads.rows).toHaveLength(2);
  });

  it("withholds an account whose identity Metro 2 cannot carry, and still reports it to PBOC", async () => {
    const d = deps();
    d.identities.people.set("acc-1", identityFor("acc-1", { name: "王小明" }));
    d.identities.people.set("acc-2", identityFor("acc-2", { address: null }));
    for (const a of ["acc-1", "acc-2", "acc-3"]) await applyAccountFact(d, a, opened(a, "2026-01-05"));
    const m2 = await generateBureauFile(d, { asOf: "2026-02-28", ...WHO });
    expect([m2.recordCount, m2.withheldCount]).toEqual([1, 2]);
    const pboc = await generateBureauFile(d, { asOf: "2026-02-28", format: "PBOC", ...WHO });
    expect([pboc.recordCount, pboc.withheldCount]).toEqual([3, 0]);
  });

  it("refuses to build a file while the furnisher's configuration is incomplete", async () => {
    const d = { ...deps(), furnisher: { ...FURNISHER, address: "", pbocInstitutionCode: "" } };
    await applyAccountFact(d, "acc-1", opened("acc-1", "2026-01-05"));
    for (const format of ["METRO2", "PBOC"])
      await expect(generateBureauFile(d, { asOf: "2026-02-28", format, ...WHO })).rejects.toMatchObject({
        kind: "failed_precondition",
        reason: "FURNISHER_NOT_CONFIGURED",
      });
    expect(d.files.rows.size).toBe(0);
  });

  it("NOT_FOUND for a file never generated", async () => {
    await expect(getBureauFile(deps(), { asOf: "2026-02-28", ...WHO })).rejects.toMatchObject({ kind: "not_found" });
  });
});

describe("queries and disputes", () => {
  it("pages history newest first", async () => {
    const d = deps();
    for (const [i, day] of ["03", "10", "17"].entries())
      await applyAccountFact(d, "acc-1", payment("acc-1", `2026-0${i + 1}-${day}`));
    const p1 = await listScoreHistory(d, { accountId: "acc-1", pageSize: 2, pageToken: "" });
    expect(p1.changes.map((c) => c.businessDate)).toEqual(["2026-03-17", "2026-02-10"]);
    const p2 = await listScoreHistory(d, { accountId: "acc-1", pageSize: 2, pageToken: p1.nextPageToken });
    expect(p2.changes.map((c) => c.businessDate)).toEqual(["2026-01-03"]);
    expect(p2.nextPageToken).toBe("");
    await expect(
      listScoreHistory(d, { accountId: "acc-1", pageSize: 2, pageToken: "x" }),
    ).rejects.toMatchObject({ violations: [{ field: "page_token" }] });
  });

  it("refuses a dispute without a reason and on an unknown account, changing nothing", async () => {
    const d = deps();
    await applyAccountFact(d, "acc-1", opened("acc-1", "2026-01-05"));
    await expect(
      fileDispute(d, { accountId: "acc-1", reason: " ", idempotencyKey: "k" }),
    ).rejects.toMatchObject({ violations: [{ field: "reason" }] });
    await expect(
      fileDispute(d, { accountId: "nope", reason: "r", idempotencyKey: "k" }),
    ).rejects.toMatchObject({ kind: "not_found" });
    expect(d.accounts.rows.get("acc-1")!.state.disputes).toEqual([]);
  });
});

describe("KeyedLock", () => {
  it("runs work for one key one at a time, in arrival order, and other keys in parallel", async () => {
    const lock = new KeyedLock();
    const log: string[] = [];
    const step = (key: string, name: string, ms: number) =>
      lock.run(key, async () => {
        log.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`end ${name}`);
      });
    await Promise.all([step("a", "a1", 20), step("a", "a2", 1), step("b", "b1", 5)]);
    expect(log.indexOf("end a1")).toBeLessThan(log.indexOf("start a2"));
    expect(log.indexOf("start b1")).toBeLessThan(log.indexOf("end a1"));
  });
});
