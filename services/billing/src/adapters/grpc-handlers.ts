/** BillingService gRPC handlers: decode → use case → response; DomainErrors become statuses with details at the edge. */
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { billing } from "@whiteslip/contracts";
import { auditActor, type ServiceHandlers } from "@whiteslip/grpc";
import type { Logger } from "@whiteslip/telemetry";
import { productOf } from "../app/context";
import { createRepaymentPlan } from "../app/create-repayment-plan";
import { deferPayment } from "../app/defer-payment";
import { getAccountSummary } from "../app/get-account-summary";
import { getBusinessDate } from "../app/get-business-date";
import { getEndOfDayRun } from "../app/get-end-of-day-run";
import { getPortfolioStats } from "../app/get-portfolio-stats";
import { recountPortfolio } from "../app/recount-portfolio";
import { getProductTerms } from "../app/get-product-terms";
import { listStatements } from "../app/list-statements";
import { openAccount } from "../app/open-account";
import type { BillingDeps, DateRun, QuarantinedAccount } from "../app/ports";
import { postPurchase } from "../app/post-purchase";
import { postRepayment } from "../app/post-repayment";
import { refundPurchase } from "../app/refund-purchase";
import { type EndOfDayRunner, totalsOf } from "../app/run-end-of-day";
import { QUARANTINE_LIST_LIMIT } from "../app/get-end-of-day-run";
import { waiveFees } from "../app/waive-fees";
import type { Account } from "../domain/account";
import type { Bucket } from "../domain/delinquency";
import { statementToProto } from "../domain/end-of-day";
import { bucketToProto } from "../domain/events";
import { planToProto } from "../domain/ledger";
import { summaryOf } from "../domain/summary";

const STATUS = { RUNNING: billing.EndOfDayStatus.RUNNING, COMPLETED: billing.EndOfDayStatus.COMPLETED, FAILED: billing.EndOfDayStatus.FAILED };

/** EndOfDayRun message of a date's run (counts summed over shards) with its quarantined accounts. */
export function runToProto(run: DateRun, quarantine: { count: number; accounts: QuarantinedAccount[] } = { count: 0, accounts: [] }) {
  const t = totalsOf(run);
  return {
    businessDate: run.date,
    status: STATUS[run.status],
    accountsTotal: BigInt(t.total),
    accountsProcessed: BigInt(t.processed),
    statementsIssued: BigInt(t.counts.statementsIssued),
    dueSoonEmitted: BigInt(t.counts.dueSoon),
    overdueEmitted: BigInt(t.counts.overdue),
    chargedOff: BigInt(t.counts.chargedOff),
    lateFeesCharged: BigInt(t.counts.lateFees),
    startedAt: timestampFromDate(run.startedAt),
    completedAt: run.completedAt ? timestampFromDate(run.completedAt) : undefined,
    shardsCompleted: t.shardsCompleted,
    shardCount: run.shardCount,
    error: run.shards.find((s) => s.error)?.error ?? "",
    accountsQuarantined: BigInt(quarantine.count),
    quarantinedAccounts: quarantine.accounts.map((q) => ({
      accountId: q.accountId,
      businessDate: q.date,
      shardIndex: q.shardIndex,
      reason: q.reason,
      message: q.message,
      quarantinedAt: timestampFromDate(q.at),
    })),
    shards: run.shards.map((s) => ({
      shardIndex: s.index,
      status: STATUS[s.status],
      accountsTotal: BigInt(s.total),
      accountsProcessed: BigInt(s.processed),
      owner: s.owner ?? "",
      leaseExpiresAt: s.owner && s.leaseUntil ? timestampFromDate(s.leaseUntil) : undefined,
      heartbeatAt: s.heartbeatAt ? timestampFromDate(s.heartbeatAt) : undefined,
      takeovers: s.takeovers,
      error: s.error ?? "",
    })),
  };
}

/** The handlers of every BillingService RPC. */
export function billingHandlers(deps: BillingDeps, _logger: Logger, eod: EndOfDayRunner): ServiceHandlers<typeof billing.BillingService> {
  const summary = (a: Account, date: string) => summaryOf(a, date, productOf(deps, a.productCode));
  return {
    async openAccount(req) {
      const r = await openAccount(deps, { accountId: req.accountId, customerId: req.customerId, statementDay: req.statementDay, productCode: req.productCode, creditLimit: req.creditLimitFen });
      return { account: summary(r.account, (await getBusinessDate(deps)).current), created: r.created };
    },
    async postPurchase(req) {
      const r = await postPurchase(deps, { accountId: req.accountId, authorizationId: req.authorizationId, amount: req.amountFen, installmentMonths: req.installmentMonths, idempotencyKey: req.idempotencyKey });
      return { purchaseId: r.purchaseId, account: summary(r.account, r.date), installmentFeePerMonthFen: r.feePerMonth };
    },
    async refundPurchase(req) {
      const r = await refundPurchase(deps, { accountId: req.accountId, purchaseId: req.purchaseId, amount: req.amountFen, idempotencyKey: req.idempotencyKey });
      return { refundId: r.refundId, account: summary(r.account, r.date) };
    },
    async postRepayment(req) {
      const r = await postRepayment(deps, { accountId: req.accountId, amount: req.amountFen, idempotencyKey: req.idempotencyKey, channel: req.channel });
      const al = r.allocation;
      return {
        paymentId: r.paymentId,
        allocation: { feesFen: al.fees, penaltyInterestFen: al.penaltyInterest, installmentFeesFen: al.installmentFees, interestFen: al.interest, principalFen: al.principal, creditBalanceFen: al.creditBalance },
        account: summary(r.account, r.date),
        cured: r.cured,
      };
    },
    async getAccountSummary(req) {
      const r = await getAccountSummary(deps, req.accountId);
      return { account: summaryOf(r.account, r.date, r.product) };
    },
    async listStatements(req) {
      const r = await listStatements(deps, { accountId: req.accountId, pageSize: req.pageSize, pageToken: req.pageToken });
      return { statements: r.statements.map((d) => statementToProto(req.accountId, d)), nextPageToken: r.nextPageToken };
    },
    async runEndOfDay(req) {
      const run = await eod.run({ businessDate: req.businessDate, shardIndex: req.shardIndex, shardCount: req.shardCount }, { wait: !req.async });
      return { run: runToProto(run, await deps.runs.quarantined(run.date, QUARANTINE_LIST_LIMIT)) };
    },
    async getEndOfDayRun(req) {
      const r = await getEndOfDayRun(deps, req.businessDate);
      return { run: runToProto(r.run, r.quarantine) };
    },
    async getBusinessDate() {
      const bd = await getBusinessDate(deps);
      return { businessDate: bd.current, lastCompletedDate: bd.lastCompleted ?? "", endOfDayNotBefore: timestampFromDate(bd.endOfDayNotBefore) };
    },
    async createRepaymentPlan(req, ctx) {
      const r = await createRepaymentPlan(deps, { accountId: req.accountId, installmentCount: req.installmentCount, requestedBy: auditActor(ctx, req.requestedBy), idempotencyKey: req.idempotencyKey });
      const plan = r.account.plan!;
      return { plan: planToProto(r.account, plan), account: summary(r.account, r.date) };
    },
    async getProductTerms(req) {
      return { terms: await getProductTerms(deps, { accountId: req.accountId, productCode: req.productCode }) };
    },
    async deferPayment(req, ctx) {
      const r = await deferPayment(deps, { accountId: req.accountId, days: req.days, reason: req.reason, requestedBy: auditActor(ctx, req.requestedBy), idempotencyKey: req.idempotencyKey });
      return { deferralId: r.deferral.id, dueDate: r.deferral.dueDate, deferredFen: r.deferral.amount, account: summary(r.account, r.date) };
    },
    async waiveFees(req, ctx) {
      const r = await waiveFees(deps, { accountId: req.accountId, maxAmount: req.maxAmountFen, reason: req.reason, approvedBy: auditActor(ctx, req.approvedBy), idempotencyKey: req.idempotencyKey });
      return { waivedFen: r.waived, account: summary(r.account, r.date) };
    },
    async getPortfolioStats(req) {
      const s = await getPortfolioStats(deps, { asOfDate: req.asOfDate, inflowDays: req.inflowDays, trendDays: req.trendDays });
      return {
        asOfDate: s.asOf,
        activeAccounts: BigInt(s.activeAccounts),
        outstandingFen: s.outstanding,
        buckets: s.buckets.map((b) => ({ bucket: bucketToProto(b.bucket), accounts: BigInt(b.accounts), balanceFen: b.balance, balanceRate: b.rate })),
        delinquencyRate: s.delinquencyRate,
        rollRates: s.rollRates.map((r) => ({ fromBucket: bucketToProto(r.from as Bucket), toBucket: bucketToProto(r.to as Bucket), accounts: BigInt(r.accounts), rate: r.rate })),
        chargedOffFen: s.chargedOff,
        chargeOffRate: s.chargeOffRate,
        cureRate: s.cureRate,
        expectedInflows: s.inflows.map((f) => ({ date: f.date, amountFen: f.amount, accounts: BigInt(f.accounts) })),
        trend: s.trend.map((t) => ({ date: t.date, delinquencyRate: t.delinquencyRate, chargedOffFen: t.chargedOff, outstandingFen: t.outstanding })),
      };
    },
    async recountPortfolio() {
      const r = await recountPortfolio(deps);
      return {
        asOfDate: r.asOf,
        accountsScanned: BigInt(r.scanned),
        accountsRecounted: BigInt(r.recounted),
        accountsChangedSince: BigInt(r.changedSince),
        accountsOpenedSince: BigInt(r.openedSince),
        accountsLagging: BigInt(r.lagging),
        figuresCompared: BigInt(r.compared),
        differences: r.differences,
      };
    },
  };
}
