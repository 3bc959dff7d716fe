/**
 * GenerateBureauFile: builds the bureau file for an as-of date, or returns the
 * one already stored for it (so generating twice gives the same bytes). Purges
 * negative information past its horizon on the way. The consumers' identities
 * come from credit at render time and are kept nowhere but in the encrypted file.
 * Returning the bytes is a download: it is audited before they leave.
 */
import { dateInZone, failedPrecondition, isLocalDate, type LocalDate, Violations } from "@whiteslip/core";
import { type BureauFile, ReportLineCollector, renderBureauFile } from "../domain/bureau-file";
import type { BureauFormat } from "../domain/bureau-format";
import { purgeExpired } from "../domain/bureau-view";
import type { Deps } from "./ports";

/** Who is asking: the authenticated caller (service identity or peer) and the operator they name. */
export interface Requester {
  caller: string;
  requestedBy: string;
}

/** Generates (or returns the stored) file for `asOf` in `format` (default: the first configured). */
export async function generateBureauFile(
  deps: Deps,
  req: { asOf: LocalDate; format?: string } & Requester,
): Promise<BureauFile> {
  const today = dateInZone(deps.clock.now(), deps.timeZone);
  const format = pickFormat(deps.formats, req.format ?? "");
  new Violations()
    .check(!isLocalDate(req.asOf), "as_of_date", "must be a date YYYY-MM-DD")
    .check(isLocalDate(req.asOf) && req.asOf > today, "as_of_date", `must not be after today (${today})`)
    .check(format === undefined, "format", `must be one of ${deps.formats.map((f) => f.name).join(", ")}`)
    .check(req.requestedBy.trim() === "", "requested_by", "is required (every download is audited)")
    .throwIfAny();
  const stored = await deps.files.get(format!.name, req.asOf);
  if (stored) return audited(deps, stored, req, "GenerateBureauFile");
  const problem = format!.furnisherProblem(deps.furnisher);
  if (problem) throw failedPrecondition("FURNISHER_NOT_CONFIGURED", problem, { format: format!.name });

  const collector = new ReportLineCollector(req.asOf, deps.reportingPolicy);
  for await (const state of deps.accounts.scan()) {
    const purged = purgeExpired(state, today, deps.reportingPolicy);
    if (purged !== state) await persistPurge(deps, purged);
    collector.add(purged);
  }
  const lines = collector.sorted();
  const identities =
    lines.length === 0
      ? new Map()
      : await deps.identities.identities(
          lines.map((l) => l.accountId),
          `bureau-file ${format!.name} ${req.asOf}`,
        );
  const file = renderBureauFile(lines, collector.withheld, identities, req.asOf, format!, deps.furnisher);
  const { content: _content, ...meta } = file;
  const kept = await deps.files.insertOnce(file, [
    { type: "BureauFileGenerated", id: file.fileId, key: file.asOf, time: deps.clock.now(), file: meta },
  ]);
  return audited(deps, kept, req, "GenerateBureauFile");
}

/** Records the download, then hands the file over. */
export async function audited(
  deps: Pick<Deps, "downloads" | "clock">,
  file: BureauFile,
  who: Requester,
  via: "GenerateBureauFile" | "GetBureauFile",
): Promise<BureauFile> {
  await deps.downloads.record({
    fileId: file.fileId,
    format: file.format,
    asOf: file.asOf,
    sha256: file.sha256,
    caller: who.caller,
    requestedBy: who.requestedBy,
    via,
    at: deps.clock.now(),
  });
  return file;
}

/** The format of that name (empty = the default). */
export function pickFormat(formats: readonly BureauFormat[], name: string): BureauFormat | undefined {
  return name === "" ? formats[0] : formats.find((f) => f.name === name.toUpperCase());
}

/** Stores a purge; a concurrent change wins and the purge is redone on the next run. */
async function persistPurge(deps: Deps, purged: Parameters<Deps["accounts"]["save"]>[0]): Promise<void> {
  await deps.locks.run(purged.accountId, async () => {
    const cur = await deps.accounts.get(purged.accountId);
    if (!cur) return;
    const today = dateInZone(deps.clock.now(), deps.timeZone);
    const again = purgeExpired(cur.state, today, deps.reportingPolicy);
    if (again !== cur.state) await deps.accounts.save(again, cur.version, { events: [] });
  });
}
