import type { billing } from "@whiteslip/contracts";
import { notFound, Violations } from "@whiteslip/core";
import { type CollectionsStats, computeStats } from "../domain/stats";
import type { CollectionCase } from "../domain/types";
import { DEFAULT_NOTICE_DEADLINE_DAYS, MAX_NOTICE_DEADLINE_DAYS } from "../domain/work";
import type { Agent, CaseFilter, CasePage, Deps } from "./ports";

/** A case with the account's balances from billing (null when billing cannot answer) and what may be offered on it. */
export interface CaseView {
  case: CollectionCase;
  account: billing.AccountSummary | null;
  terms: CaseTerms;
}

/** The limits of the treatments an agent can offer on a case, from their owners (billing's part empty if unreachable). */
export interface CaseTerms {
  installmentTerms: readonly number[];
  maxDeferralDays: number;
  defaultNoticeDeadlineDays: number;
  maxNoticeDeadlineDays: number;
}

/** GetCase: the case, its history and the account's balances from billing. */
export async function getCase(deps: Deps, caseId: string): Promise<CaseView> {
  new Violations().check(caseId.trim() === "", "case_id", "must be set").throwIfAny();
  const c = await deps.cases.get(caseId);
  if (!c) throw notFound("case", caseId);
  const [account, product] = await Promise.all([
    deps.billing.getAccountSummary(c.accountId),
    deps.billing.getProductTerms(c.accountId).catch(() => ({ installmentTerms: [], maxDeferralDays: 0 })),
  ]);
  const terms = { ...product, defaultNoticeDeadlineDays: DEFAULT_NOTICE_DEADLINE_DAYS, maxNoticeDeadlineDays: MAX_NOTICE_DEADLINE_DAYS };
  return { case: c, account, terms };
}

/** ListCases: filters and pages (default 50, max 200), highest priority first. */
export async function listCases(
  deps: Deps,
  filter: CaseFilter,
  pageSize: number,
  pageToken: string,
): Promise<CasePage> {
  new Violations()
    .check(pageSize < 0 || pageSize > 200, "page_size", "must be 0–200 (0 = default 50)")
    .throwIfAny();
  return deps.cases.list(filter, pageSize || 50, pageToken);
}

/** GetCollectionsStats: cure and roll rates by bucket, outcomes per strategy against the champion in force. */
export async function getCollectionsStats(deps: Deps): Promise<CollectionsStats> {
  return computeStats(await deps.cases.forStats(), deps.policy.contactCostFen, deps.policy.strategies.champion.id);
}

/** An agent with their open case count. */
export type AgentWithLoad = Agent & { openCases: number };

/** ListAgents, optionally only those with a skill. */
export async function listAgents(deps: Deps, skill: string): Promise<AgentWithLoad[]> {
  const counts = await deps.cases.activeCountsByAgent();
  return (await deps.agents.list())
    .filter((a) => !skill || a.skills.includes(skill))
    .map((a) => ({ ...a, openCases: counts.get(a.agentId) ?? 0 }));
}
