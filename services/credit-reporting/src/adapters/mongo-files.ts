/**
 * Generated bureau files on MongoDB, one document per (format, as-of date),
 * the bytes encrypted (`contentEnc`: PiiCipher over their base64 — a file holds
 * names, ID numbers and addresses; re-sealed by the service's key-rotation sweep),
 * `_id` = the deterministic file id, carrying its BureauFileGenerated event in
 * `pendingEvents` (outbox). The first writer wins: a concurrent second
 * generation for the same date gets the stored file back.
 * A document holds up to 16 MB (~39,000 Metro 2 records); a larger book would
 * store the bytes in GridFS or object storage and keep this as the index.
 */
import type { PiiCipher } from "@whiteslip/pii";
import { ensureIndexes, isDuplicateKey, outboxFields } from "@whiteslip/store";
import type { Collection, Db } from "mongodb";
import type { BureauFileRepository, DownloadAudit, FileDownload, OutgoingEvent } from "../app/ports";
import type { BureauFile } from "../domain/bureau-file";
import { toBusEvent } from "./events";

/** The stored shape. */
export interface BureauFileDoc {
  _id: string;
  format: string;
  asOf: string;
  /** The file's bytes, base64, sealed by PiiCipher (`v2:<key id>:…`). */
  contentEnc: string;
  recordCount: number;
  withheldCount: number;
  sha256: string;
  pendingEvents: unknown[];
}

/** MongoDB implementation of {@link BureauFileRepository}. */
export class MongoBureauFileRepository implements BureauFileRepository {
  readonly collection: Collection<BureauFileDoc>;
  constructor(
    db: Db,
    private readonly pii: Pick<PiiCipher, "encrypt" | "decrypt">,
  ) {
    this.collection = db.collection<BureauFileDoc>("bureau_files");
  }

  /** The sealed fields, for the key-rotation sweep. */
  static readonly SEALED = { fields: ["contentEnc"] } as const;

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
    return doc ? this.fromDoc(doc) : null;
  }

  async insertOnce(file: BureauFile, events: OutgoingEvent[]): Promise<BureauFile> {
    try {
      await this.collection.insertOne({
        _id: file.fileId,
        format: file.format,
        asOf: file.asOf,
        contentEnc: this.pii.encrypt(Buffer.from(file.content).toString("base64")),
        recordCount: file.recordCount,
        withheldCount: file.withheldCount,
        sha256: file.sha256,
        ...outboxFields(events.map(toBusEvent)),
      });
      return file;
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
      const stored = await this.get(file.format, file.asOf);
      if (!stored) throw e;
      return stored;
    }
  }

  private fromDoc(d: BureauFileDoc): BureauFile {
    return {
      fileId: d._id,
      asOf: d.asOf,
      format: d.format,
      content: new Uint8Array(Buffer.from(this.pii.decrypt(d.contentEnc), "base64")),
      recordCount: d.recordCount,
      withheldCount: d.withheldCount,
      sha256: d.sha256,
    };
  }
}

/** The audit of downloads: one document per download in `bureau_file_downloads` (no personal data: ids, hashes, who, when). */
export class MongoDownloadAudit implements DownloadAudit {
  readonly collection: Collection<FileDownload>;
  constructor(db: Db) {
    this.collection = db.collection<FileDownload>("bureau_file_downloads");
  }

  async ensureIndexes(): Promise<void> {
    await ensureIndexes(this.collection as never, [
      { key: { fileId: 1, at: 1 }, serves: "audit: the downloads of a file, in time order" },
    ]);
  }

  async record(d: FileDownload): Promise<void> {
    await this.collection.insertOne({ ...d });
  }
}
