/**
 * Builds a bureau file for an as-of date from account states: the view of
 * each account in account-id order, rendered by a format. Deterministic: the
 * same states, date and format give the same bytes and the same file id.
 */
import { createHash } from "node:crypto";
import { deterministicId, type LocalDate } from "@whiteslip/core";
import type { AccountState } from "./account";
import type { BureauFormat, Furnisher } from "./bureau-format";
import { bureauView, type ReportLine } from "./bureau-view";
import type { ReportingPolicy } from "./policy";

/** A generated bureau file. */
export interface BureauFile {
  /** Deterministic per (format, as-of date). */
  fileId: string;
  /** As-of date. */
  asOf: LocalDate;
  /** Format name. */
  format: string;
  /** The bytes. */
  content: Uint8Array;
  /** Number of account records (Metro 2 base segments). */
  recordCount: number;
  /** Accounts left out because their negative record is not reportable yet. */
  withheldCount: number;
  /** SHA-256 of the content, hex. */
  sha256: string;
}

/** The file id of a format and as-of date. */
export function bureauFileId(format: string, asOf: LocalDate): string {
  return deterministicId("bureau-file", format, asOf);
}

/** Collects report lines account by account (input in any order; output sorted by account id). */
export class ReportLineCollector {
  private readonly lines: ReportLine[] = [];
  /** Accounts withheld so far. */
  withheld = 0;
  constructor(
    private readonly asOf: LocalDate,
    private readonly rp: ReportingPolicy,
  ) {}
  /** Adds one account's view. */
  add(s: AccountState): void {
    const v = bureauView(s, this.asOf, this.rp);
    if (v.kind === "report") this.lines.push(v.line);
    else if (v.kind === "withheld") this.withheld++;
  }
  /** The lines in account-id order (code-unit order, independent of locale). */
  sorted(): ReportLine[] {
    return [...this.lines].sort((a, b) =>
      a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0,
    );
  }
}

/** Builds the file for `asOf` from all account states. */
export function buildBureauFile(
  states: Iterable<AccountState>,
  asOf: LocalDate,
  format: BureauFormat,
  furnisher: Furnisher,
  rp: ReportingPolicy,
): BureauFile {
  const c = new ReportLineCollector(asOf, rp);
  for (const s of states) c.add(s);
  return renderBureauFile(c, asOf, format, furnisher);
}

/** Renders collected lines into a file. */
export function renderBureauFile(
  c: ReportLineCollector,
  asOf: LocalDate,
  format: BureauFormat,
  furnisher: Furnisher,
): BureauFile {
  const lines = c.sorted();
  const content = format.render({ asOf, lines, furnisher });
  return {
    fileId: bureauFileId(format.name, asOf),
    asOf,
    format: format.name,
    content,
    recordCount: lines.length,
    withheldCount: c.withheld,
    sha256: createHash("sha256").update(content).digest("hex"),
  };
}
