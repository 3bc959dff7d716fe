/**
 * A whole Metro 2 character-format file: one header, the base segments, one
 * trailer, each record followed by a line feed.
 */

import { Metro2FormatError } from "./fixed-width";
import {
  type BaseSegment,
  type HeaderRecord,
  parseBase,
  parseHeader,
  parseTrailer,
  RECORD_LENGTH,
  type TrailerRecord,
  trailerFor,
  writeBase,
  writeHeader,
  writeTrailer,
} from "./records";

/** A parsed or to-be-written Metro 2 file. */
export interface Metro2File {
  /** The header record. */
  header: HeaderRecord;
  /** One base segment per reported account, in file order. */
  bases: BaseSegment[];
  /** The trailer record with totals. */
  trailer: TrailerRecord;
}

/** Record separator between fixed-length records. */
export const RECORD_SEPARATOR = "\n";

/** Writes header, bases and trailer (the trailer is computed from the bases) as ASCII bytes. */
export function writeMetro2File(header: HeaderRecord, bases: readonly BaseSegment[]): Uint8Array {
  const lines = [writeHeader(header), ...bases.map(writeBase), writeTrailer(trailerFor(bases))];
  return new TextEncoder().encode(lines.map((l) => l + RECORD_SEPARATOR).join(""));
}

/** Parses a file written by {@link writeMetro2File}: every record by field position. */
export function parseMetro2File(bytes: Uint8Array): Metro2File {
  const text = new TextDecoder("ascii").decode(bytes);
  const lines = text.split(RECORD_SEPARATOR);
  if (lines.at(-1) === "") lines.pop();
  if (lines.length < 2) throw new Metro2FormatError("File", "records", "a file needs a header and a trailer");
  for (const [i, line] of lines.entries()) {
    if (line.length !== RECORD_LENGTH)
      throw new Metro2FormatError("File", `record ${i + 1}`, `length ${line.length}, not ${RECORD_LENGTH}`);
  }
  const header = parseHeader(lines[0]!);
  if (header.recordIdentifier !== "HEADER")
    throw new Metro2FormatError("Header Record", "recordIdentifier", header.recordIdentifier);
  const trailer = parseTrailer(lines.at(-1)!);
  if (trailer.recordIdentifier !== "TRAILER")
    throw new Metro2FormatError("Trailer Record", "recordIdentifier", trailer.recordIdentifier);
  return { header, bases: lines.slice(1, -1).map(parseBase), trailer };
}
