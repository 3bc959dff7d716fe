/**
 * Fault scenarios on the small book (src/book.ts with 140 accounts and the counter: 150 purchases
 * authorized by 8 concurrent callers on 10 lines before the day closes): kill -9 credit during the
 * authorizations; poison messages and a message that makes handlers throw, among the good Overdue
 * events of the burst. The fault-free run is played once (beforeAll).
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { billing, Topics } from "@whiteslip/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BOOK_DATE, runBook } from "../src/book";
import { faultKafka } from "../src/kafka";
import { type FaultInfra, killWhen, type RunContext, type ScriptRun } from "../src/run";
import { runs } from "../src/pending";
import { judge, startFaultInfra } from "../src/scenario";

const ACCOUNTS = 140;
/** The services that consume Overdue (and would act on a bad one). */
const OVERDUE_CONSUMERS = ["credit", "collections", "credit-reporting", "notification"] as const;
const AUTHORIZATIONS = 150;

describe("fault suite: the counter and a small book", () => {
  let infra: FaultInfra & { stop(): Promise<void> };
  let baseline: ScriptRun;
  const small = { accounts: ACCOUNTS, authorizations: AUTHORIZATIONS };

  beforeAll(async () => {
    infra = await startFaultInfra();
    baseline = await runBook(infra, { tag: "fault-counter-base", ...small });
    process.stdout.write(`\nfault-free run of the small book: ${JSON.stringify(baseline.figures)}\n`);
  }, 900_000);
  afterAll(async () => infra?.stop());

  const CREDIT = "kill -9 credit during concurrent authorizations";
  const POISON = "poison messages and a handler bug among good messages";
  it.runIf(runs(CREDIT))(CREDIT, async () => {
    let kill = { at: 0, total: AUTHORIZATIONS };
    const run = await runBook(infra, {
      tag: "fault-counter-credit",
      ...small,
      baseline: baseline.figures,
      hooks: { authorizations: async (ctx, answered) => void (kill = await killWhen(ctx, "credit", "authorizations answered", async () => answered(), 50, AUTHORIZATIONS)) },
    });
    const r = judge(CREDIT, baseline, run, [[kill.at < kill.total, `credit was killed after ${kill.at} of ${kill.total} authorizations`]]);
    expect(r.failures, r.failures.join("\n")).toEqual([]);
  }, 900_000);

  it.runIf(runs(POISON))(POISON, async () => {
    const poison: string[] = [];
    /** The Overdue consumers' dead-letter topics (`<topic>.<group>.dlq`, prefix apart): each must refuse every bad one. */
    let overdueDlqs: string[] = [];
    const put = async (ctx: RunContext) => {
      overdueDlqs = OVERDUE_CONSUMERS.map((s) => `${Topics.Overdue.topic}.${ctx.p.groups[s]}.dlq`);
      const topic = `${ctx.p.topicPrefix}${Topics.Overdue.topic}`;
      const kafka = faultKafka(ctx.infra, "fault-suite-poison");
      const producer = kafka.producer();
      await producer.connect();
      const headers = (id: string) => ({ ce_specversion: "1.0", ce_id: id, ce_source: "//whiteslip/billing", ce_type: billing.OverdueSchema.typeName, ce_time: new Date().toISOString(), "content-type": "application/protobuf" });
      // keyed like the good Overdue events of the burst, so they sit in the same partitions, ahead of them
      const messages = [];
      for (let k = 0; k < 3; k++) {
        const key = `fault-${String(k * 33).padStart(4, "0")}`;
        messages.push({ key, value: Buffer.from([0xff, 0xff, 0xff, 0x0f, k]), headers: headers(`poison-undecodable-${k}`) }); // not protobuf
        messages.push({ key, value: Buffer.from("{}"), headers: { ce_id: `poison-no-envelope-${k}` } }); // not a CloudEvent
        // decodes, but breaks the Overdue contract (an impossible date, a negative DPD): every consumer must refuse
        // it as a permanent error (checkOverdue in @whiteslip/contracts), dead-lettered at once, acting on nothing
        const bad = create(billing.OverdueSchema, { accountId: key, customerId: `cus-fault-${k * 33}`, businessDate: "2027-02-31", daysPastDue: -7 });
        messages.push({ key, value: Buffer.from(toBinary(billing.OverdueSchema, bad)), headers: headers(`poison-bug-${k}`) });
      }
      await producer.send({ topic, messages });
      await producer.disconnect();
      poison.push(...messages.map((m) => m.headers.ce_id));
      for (const id of poison) ctx.injected.add(id);
      ctx.note(`${messages.length} poison messages put on ${Topics.Overdue.topic} ahead of the burst`);
    };
    const run = await runBook(infra, { tag: "fault-counter-poison", ...small, baseline: baseline.figures, hooks: { beforeEod: put } });
    const dead = new Set(run.observation.deadLetters.map((d) => d.split(" ")[1]));
    const undecodable = poison.filter((id) => !id.startsWith("poison-bug"));
    const refused = new Set(run.observation.deadLetters);
    const notRefused = poison.filter((id) => id.startsWith("poison-bug")).flatMap((id) => overdueDlqs.filter((t) => !refused.has(`${t} ${id}`)).map((t) => `${id} by ${t}`));
    const r = judge(POISON, baseline, run, [
      [undecodable.every((id) => dead.has(id)), `every undecodable message is dead-lettered (${undecodable.filter((id) => !dead.has(id)).join(", ") || "all"} missing)`],
      [notRefused.length === 0, `every Overdue consumer dead-letters the Overdue that breaks its contract (not refused: ${notRefused.join(", ")})`],
    ]);
    expect(r.failures, r.failures.join("\n")).toEqual([]);
  }, 900_000);
});
