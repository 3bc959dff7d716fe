import { compareDates, invalidArgument } from "@whiteslip/core";
import type { Due } from "../domain/account";
import { loadAccount } from "./context";
import type { BillingDeps } from "./ports";

/** One page of an account's statements, newest first (the page token is an offset). */
export async function listStatements(deps: BillingDeps, i: { accountId: string; pageSize: number; pageToken: string }): Promise<{ statements: Due[]; nextPageToken: string }> {
  const size = i.pageSize === 0 ? 12 : i.pageSize;
  const offset = i.pageToken ? Number(i.pageToken) : 0;
  const v = [];
  if (!Number.isInteger(size) || size < 1 || size > 100) v.push({ field: "page_size", description: `page size ${i.pageSize} must be 0–100` });
  if (!Number.isInteger(offset) || offset < 0) v.push({ field: "page_token", description: "page token is not one this service returned" });
  if (v.length) throw invalidArgument(v);
  const a = await loadAccount(deps, i.accountId);
  const all = a.dues.filter((d) => d.kind === "statement").sort((x, y) => compareDates(y.statement!.statementDate, x.statement!.statementDate));
  const page = all.slice(offset, offset + size);
  return { statements: page, nextPageToken: offset + size < all.length ? String(offset + size) : "" };
}
