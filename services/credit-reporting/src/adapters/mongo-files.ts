/**
 * Generated bureau files on MongoDB, one document per (format, as-of date),
 * `_id` = the deterministic file id, carrying its BureauFileGenerated event in
 * `pendingEvents` (outbox). The first writer wins: a concurrent second
 * generation for the same date gets the stored file back.
 * A document holds up to 16 MB (~39,000 Metro 2 records); a larger book would
 * store the bytes in GridFS or object storage and keep this as the index.
 */
import { ensureIndexes, isDuplicateKey, pushEvents } from "@whiteslip/store";
import { Binary, type Collection, type Db } from "mongodb";
import type { BureauFileRepository, OutgoingEvent } from "../app/ports";
import type { BureauFile } from "../domain/bureau-file";
import { toBusEvent } from "./events";

/** The stored shape. */
export interface BureauFileDoc {
  _id: string;
  format: string;
  asOf: string;
  content: Binary;
  recordCount: number;
  withheldCount: number;
  sha256: string;
  pendingEvents: unknown[];
}

/** MongoDB implementation of {@link BureauFileRepository}. */
export class MongoBureauFileRepository implements BureauFileRepository {
  readonly collection: Collection<BureauFileDoc>;
  constructor(db: Db) {
    this.collection = db.collection<BureauFileDoc>("bureau_files");
  }

  /** Declares the indexes next to the queries they serve. */
  async ensureIndexes(): Promise<void> {
    await ensureIndexes(this.collection, [
      {
        key: { format: 1, asOf: 1 },
        serves: "get (GetBureauFile, GenerateBureauFile returning the stored file)",
        options: { unique: true },
      },
    ]);
  }

  async get(format: string, asOf: string): Promise<BureauFile | null> {
    const doc = await this.collection.findOne({ format, asOf });
    return doc ? fromDoc(doc) : null;
  }

  async insertOnce(file: BureauFile, events: OutgoingEvent[]): Promise<BureauFile> {
    try {
      await this.collection.insertOne({
        _id: file.fileId,
        format: file.format,
        asOf: file.asOf,
        content: new Binary(Buffer.from(file.content)),
        recordCount: file.recordCount,
        withheldCount: file.withheldCount,
        sha256: file.sha256,
        pendingEvents: pushEvents(events.map(toBusEvent)).pendingEvents.$each,
      });
      return file;
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
      const stored = await this.get(file.format, file.asOf);
      if (!stored) throw e;
      return stored;
    }
  }
}

function fromDoc(d: BureauFileDoc): BureauFile {
  const bytes = d.content instanceof Binary ? d.content.buffer : (d.content as unknown as Uint8Array);
  return {
    fileId: d._id,
    asOf: d.asOf,
    format: d.format,
    content: new Uint8Array(bytes),
    recordCount: d.recordCount,
    withheldCount: d.withheldCount,
    sha256: d.sha256,
  };
}
