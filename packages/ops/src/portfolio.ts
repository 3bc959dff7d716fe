/**
 * `npm run ops -- portfolio --recount`: asks billing to recount the last completed business date's portfolio
 * from every account (RecountPortfolio, a full scan) and reports every figure where the portfolio end-of-day
 * maintains from state changes differs. Exit code 1 when anything differs, so a scheduled check can alert.
 */
import type { billing } from "@whiteslip/contracts";

/** What the command needs of the billing client. */
export interface RecountClient {
  recountPortfolio(req: Record<string, never>): Promise<billing.RecountPortfolioResponse>;
}

/** The report of a recount: readable lines, and whether anything differs. */
export async function recountReport(client: RecountClient): Promise<{ lines: string[]; differences: number; response: billing.RecountPortfolioResponse }> {
  const r = await client.recountPortfolio({});
  const lines = [
    `portfolio of ${r.asOfDate}: ${r.accountsScanned} accounts read, ${r.accountsRecounted} recounted from their state` +
      ` (${r.accountsChangedSince} changed since, ${r.accountsOpenedSince} opened since, ${r.accountsLagging} behind: their maintained contribution stands)`,
    r.differences.length === 0
      ? `${r.figuresCompared} figures compared: the maintained portfolio equals the recount`
      : `${r.figuresCompared} figures compared: ${r.differences.length} differ`,
    ...r.differences.map((d) => `  ${d.figure}: maintained ${d.maintained}, recounted ${d.recounted}`),
  ];
  return { lines, differences: r.differences.length, response: r };
}
