/**
 * Builds a bureau file for an as-of date from account states: the view of
 * each account in account-id order, rendered by a format. Deterministic: the
 * same states, date and format give the same bytes and the same file id.
 */
import { createHash } from "node:crypto";
import { deterministicId, type LocalDate } from "@whiteslip/core";
import type { AccountState } from "./account";
import type { BureauFormat, Furnisher, IdentifiedLine } from "./bureau-format";
import type { ConsumerIdentity } from "./identity";
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
  /** Accounts left out: their negative record is not reportable yet, or the format cannot carry their identity. */
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

/** Builds the file for `asOf` from all account states and their consumers' identities (by account id). */
export function buildBureauFile(
  states: Iterable<AccountState>,
  identities: ReadonlyMap<string, ConsumerIdentity>,
  asOf: LocalDate,
  format: BureauFormat,
  furnisher: Furnisher,
  rp: ReportingPolicy,
): BureauFile {
  const c = new ReportLineCollector(asOf, rp);
  for (const s of states) c.add(s);
  return renderBureauFile(c.sorted(), c.withheld, identities, asOf, format, furnisher);
}

/** Renders sorted lines into a file; a line the format cannot carry (identity missing or not representable) is withheld. */
export function renderBureauFile(
  sorted: readonly ReportLine[],
  withheld: number,
  identities: ReadonlyMap<string, ConsumerIdentity>,
  asOf: LocalDate,
  format: BureauFormat,
  furnisher: Furnisher,
): BureauFile {
  const lines: IdentifiedLine[] = [];
  let refused = 0;
  for (const line of sorted) {
    const identity = identities.get(line.accountId);
    if (identity === undefined || format.refuses(identity) !== null) refused++;
    else lines.push({ line, identity });
  }
  const content = format.render({ asOf, lines, furnisher });
  return {
    fileId: bureauFileId(format.name, asOf),
    asOf,
    format: format.name,
    content,
    recordCount: lines.length,
    withheldCount: withheld + refused,
    sha256: createHash("sha256").update(content).digest("hex"),
  };
}
