import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { decodeEvent, EventBus, headersToStrings } from "@whiteslip/bus";
import type { KafkaSasl } from "@whiteslip/config";
import { billing, collections, credit, creditreporting, notification, Topics, topicSpec } from "@whiteslip/contracts";
import { formatCny } from "@whiteslip/core";
import { Kafka, logLevel, type SASLOptions } from "kafkajs";

type Line = (data: never) => string;
const bucket = (b: billing.DelinquencyBucket) => billing.DelinquencyBucket[b] ?? String(b);
const ch = (c: notification.Channel) => notification.Channel[c] ?? String(c);

const lines = new Map<string, Line>([
  [Topics.StatementIssued.topic, ((d: billing.StatementIssued) => `statement ${d.statement?.statementDate}: ${formatCny(d.statement?.amountDueFen ?? 0n)} due ${d.statement?.dueDate}`) as Line],
  [Topics.DueSoon.topic, ((d: billing.DueSoon) => `due soon: ${formatCny(d.amountDueFen)} due ${d.dueDate} (in ${d.daysUntilDue} days)`) as Line],
  [Topics.Overdue.topic, ((d: billing.Overdue) => `OVERDUE: DPD ${d.daysPastDue} ${bucket(d.bucket)}, ${formatCny(d.overdueFen)} past due`) as Line],
  [Topics.PaymentReceived.topic, ((d: billing.PaymentReceived) => `payment ${formatCny(d.amountFen)}${d.onTime ? " (on time)" : ""}`) as Line],
  [Topics.AccountCured.topic, ((d: billing.AccountCured) => `account cured after ${d.previousDaysPastDue} DPD`) as Line],
  [Topics.ChargedOff.topic, ((d: billing.ChargedOff) => `CHARGED OFF ${formatCny(d.chargedOffFen)}`) as Line],
  [Topics.RepaymentPlanCreated.topic, ((d: billing.RepaymentPlanCreated) => `repayment plan: ${d.plan?.installmentCount} × instalments, ${formatCny(d.plan?.totalFen ?? 0n)}`) as Line],
  [Topics.CreditLineOpened.topic, ((d: credit.CreditLineOpened) => `credit line opened: ${formatCny(d.limitFen)}, tier ${credit.RiskTier[d.tier]}`) as Line],
  [Topics.CreditLineChanged.topic, ((d: credit.CreditLineChanged) => `credit line ${formatCny(d.previousLimitFen)} → ${formatCny(d.limitFen)} (${d.reason})`) as Line],
  [Topics.RestrictionChanged.topic, ((d: credit.RestrictionChanged) => `restrictions: ${d.restrictedFeatures.map((f) => credit.Feature[f]).join(", ") || "none"} (${d.reason})`) as Line],
  [Topics.RiskFlagRaised.topic, ((d: credit.RiskFlagRaised) => `risk flag ${d.flag} (tier ${credit.RiskTier[d.tier]})`) as Line],
  [Topics.NotificationSent.topic, ((d: notification.NotificationSent) => `notice sent: ${ch(d.ref?.channel ?? 0)} ${d.ref?.template}`) as Line],
  [Topics.NotificationFailed.topic, ((d: notification.NotificationFailed) => `notice FAILED: ${ch(d.ref?.channel ?? 0)} ${d.error}`) as Line],
  [Topics.CaseOpened.topic, ((d: collections.CaseOpened) => `collection case opened (${collections.Treatment[d.treatment]}, strategy ${d.strategyId})`) as Line],
  [Topics.CaseEscalated.topic, ((d: collections.CaseEscalated) => `case escalated: ${collections.Treatment[d.treatment]} (${d.reason})`) as Line],
  [Topics.CaseClosed.topic, ((d: collections.CaseClosed) => `case closed: ${collections.CaseStatus[d.status]}`) as Line],
  [Topics.PromiseMade.topic, ((d: collections.PromiseMade) => `promise to pay ${formatCny(d.promise?.amountFen ?? 0n)} by ${d.promise?.promisedDate}`) as Line],
  [Topics.PromiseKept.topic, (() => "promise kept") as Line],
  [Topics.PromiseBroken.topic, (() => "PROMISE BROKEN") as Line],
  [Topics.PlanAgreed.topic, ((d: collections.PlanAgreed) => `plan agreed: ${d.installmentCount} instalments`) as Line],
  [Topics.LegalNoticeRequested.topic, ((d: collections.LegalNoticeRequested) => `legal notice (法律告知函): pay ${formatCny(d.overdueFen)} by ${d.deadlineDate}`) as Line],
  [Topics.ScoreChanged.topic, ((d: creditreporting.ScoreChanged) => `score ${d.change?.previousScore} → ${d.change?.score} (${d.change?.reasons.map((r) => r.code).join(", ")})`) as Line],
  [Topics.NegativeReportPending.topic, ((d: creditreporting.NegativeReportPending) => `pre-report notice: negative record reportable from ${d.earliestReportDate} once delivered`) as Line],
  [Topics.BureauFileGenerated.topic, ((d: creditreporting.BureauFileGenerated) => `bureau file ${d.format} as of ${d.asOfDate}: ${d.recordCount} records`) as Line],
]);

/** Prints one short line per platform event while the demo runs. */
export async function startNarrator(opts: {
  brokers: string[];
  /** The admin's (or an ops principal's) SASL credentials, when the broker needs them. */
  sasl?: KafkaSasl;
  label: (accountId: string) => string | undefined;
  print: (line: string) => void;
}): Promise<{ stop(): Promise<void> }> {
  // Make sure every topic exists with a leader before subscribing (a fresh broker may still be settling).
  const quiet = { info() {}, warn() {}, error() {}, debug() {} };
  const sasl = opts.sasl ? { sasl: opts.sasl } : {};
  const bus = await EventBus.connect({ brokers: opts.brokers, clientId: "whiteslip-demo-admin", logger: quiet, ...sasl });
  await bus.ensureTopics([...lines.keys()]);
  await bus.close();
  const kafka = new Kafka({
    clientId: "whiteslip-demo",
    brokers: opts.brokers,
    logLevel: logLevel.NOTHING,
    ...(opts.sasl ? { sasl: opts.sasl as SASLOptions } : {}),
  });
  const consumer = kafka.consumer({ groupId: `whiteslip-demo-${process.pid}-${Date.now()}`, maxWaitTimeInMs: 250 });
  await consumer.connect();
  await consumer.subscribe({ topics: [...lines.keys()], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      const spec = topicSpec(topic);
      const line = lines.get(topic);
      if (!spec || !line) return;
      try {
        const e = decodeEvent(spec as { schema: DescMessage; topic: string; domain: string }, {
          topic,
          partition,
          offset: message.offset,
          key: message.key,
          value: message.value,
          headers: headersToStrings(message.headers as Record<string, unknown>),
        });
        const who = opts.label(e.key) ?? e.key.slice(0, 12);
        opts.print(`    ${who.padEnd(8)} ${line(e.data as MessageShape<DescMessage> as never)}`);
      } catch {
        // not ours to judge here: the services dead-letter what they cannot read
      }
    },
  });
  return { stop: () => consumer.disconnect() };
}
