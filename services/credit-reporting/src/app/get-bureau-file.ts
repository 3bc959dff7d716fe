/** GetBureauFile: a stored bureau file by as-of date; each download is audited before the bytes leave. */
import { isLocalDate, type LocalDate, notFound, Violations } from "@whiteslip/core";
import type { BureauFile } from "../domain/bureau-file";
import { audited, pickFormat, type Requester } from "./generate-bureau-file";
import type { Deps } from "./ports";

/** Returns the stored file; NOT_FOUND when none was generated for that date. */
export async function getBureauFile(
  deps: Pick<Deps, "files" | "formats" | "downloads" | "clock">,
  req: { asOf: LocalDate; format?: string } & Requester,
): Promise<BureauFile> {
  const format = pickFormat(deps.formats, req.format ?? "");
  new Violations()
    .check(!isLocalDate(req.asOf), "as_of_date", "must be a date YYYY-MM-DD")
    .check(format === undefined, "format", `must be one of ${deps.formats.map((f) => f.name).join(", ")}`)
    .check(req.requestedBy.trim() === "", "requested_by", "is required (every download is audited)")
    .throwIfAny();
  const file = await deps.files.get(format!.name, req.asOf);
  if (!file) throw notFound("bureau file", `${format!.name}/${req.asOf}`);
  return audited(deps, file, req, "GetBureauFile");
}
